#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "subpix.h"
#include "xalloc.h"

/* A step this small ends the iteration (px); well under the 0.0005 px a
 * 1% error on a 0.05 px amplitude allows. */
#define REFINE_EPS 1e-5
#define REFINE_ITER 30

/*
 * The centred B-spline of degree n at x, from its closed form
 * sum_k (-1)^k C(n+1, k) (x + (n+1)/2 - k)_+^n / n!. Exact enough for the
 * degrees used here (the terms stay below 1e4).
 */
static double
bspline(int n, double x)
{
	double half = (n + 1) / 2.0, s = 0, binom = 1, fact = 1;

	if (n == 0)     /* half its height at the steps: a mean slope there */
		return fabs(x) < half ? 1 : fabs(x) == half ? 0.5 : 0;
	if (fabs(x) >= half)
		return 0;
	for (int i = 2; i <= n; i++)
		fact *= i;
	for (int k = 0; k <= n + 1; k++) {
		double t = x + half - k;
		if (t > 0)
			s += (k % 2 ? -binom : binom) * pow(t, n);
		binom = binom * (n + 1 - k) / (k + 1);
	}
	return s / fact;
}

/* Its derivative: the difference of two splines of one degree less. */
static double
bspline_slope(int n, double x)
{
	return bspline(n - 1, x + 0.5) - bspline(n - 1, x - 0.5);
}

/* How many coefficients a spline of odd degree n combines at a point: n + 1,
 * and 3 for degree 1, whose slope at a whole pixel is the mean of the two
 * sides. */
static int
taps(int n)
{
	return n == 1 ? 3 : n + 1;
}

/*
 * The weights of the coefficients a spline of odd degree n combines at x
 * (slope: of its derivative), and the index of the first.
 */
static int
weights(int n, double x, int slope, double *w)
{
	int first = (int)floor(x) - (taps(n) - 1) / 2;

	for (int k = 0; k < taps(n); k++) {
		double t = x - (first + k);
		w[k] = slope ? bspline_slope(n, t) : bspline(n, t);
	}
	return first;
}

/* The poles of the interpolating prefilter of degree n (Unser, Aldroubi
 * and Eden, IEEE Trans. Signal Process. 41(2), 1993). */
static int
poles(int n, double *z)
{
	switch (n) {
	case 3:
		z[0] = sqrt(3.0) - 2;
		return 1;
	case 5:
		z[0] = sqrt(135.0 / 2 - sqrt(17745.0 / 4)) + sqrt(105.0 / 4) -
		    13.0 / 2;
		z[1] = sqrt(135.0 / 2 + sqrt(17745.0 / 4)) - sqrt(105.0 / 4) -
		    13.0 / 2;
		return 2;
	default:
		return 0;       /* degree 1: the samples are the coefficients */
	}
}

/*
 * Samples to coefficients along one line of len values, in place: for each
 * pole a causal then an anti-causal first-order recursion, started as if
 * the line were mirrored at both ends.
 */
static void
prefilter_line(double *c, int len, const double *z, int npoles)
{
	double gain = 1;

	if (len < 2)
		return;
	for (int k = 0; k < npoles; k++)
		gain *= (1 - z[k]) * (1 - 1 / z[k]);
	for (int i = 0; i < len; i++)
		c[i] *= gain;
	for (int k = 0; k < npoles; k++) {
		/* Terms below 1e-9 of the first do not change a float. */
		int horizon = (int)ceil(log(1e-9) / log(fabs(z[k])));
		double sum = c[0], zn = z[k];
		if (horizon > len)
			horizon = len;
		for (int i = 1; i < horizon; i++) {
			sum += zn * c[i];
			zn *= z[k];
		}
		c[0] = sum;
		for (int i = 1; i < len; i++)
			c[i] += z[k] * c[i - 1];
		c[len - 1] = z[k] / (z[k] * z[k] - 1) *
		    (z[k] * c[len - 2] + c[len - 1]);
		for (int i = len - 2; i >= 0; i--)
			c[i] = z[k] * (c[i + 1] - c[i]);
	}
}

void
sp_plane_init(struct sp_plane *p, int w, int h, int degree)
{
	p->c = xcalloc((size_t)w * (size_t)h, sizeof *p->c);
	p->w = w;
	p->h = h;
	p->degree = degree;
}

void
sp_plane_free(struct sp_plane *p)
{
	free(p->c);
	p->c = NULL;
}

void
sp_prefilter(struct sp_plane *p, const uint8_t *data, int w, int h,
    int stride)
{
	double z[2], *line = xcalloc((size_t)(w > h ? w : h), sizeof *line);
	int np = poles(p->degree, z);

	p->w = w;
	p->h = h;
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++)
			line[x] = data[(size_t)y * (size_t)stride + (size_t)x];
		prefilter_line(line, w, z, np);
		for (int x = 0; x < w; x++)
			p->c[(size_t)y * (size_t)w + (size_t)x] = (float)line[x];
	}
	for (int x = 0; np > 0 && x < w; x++) {
		for (int y = 0; y < h; y++)
			line[y] = p->c[(size_t)y * (size_t)w + (size_t)x];
		prefilter_line(line, h, z, np);
		for (int y = 0; y < h; y++)
			p->c[(size_t)y * (size_t)w + (size_t)x] = (float)line[y];
	}
	free(line);
}

double
sp_value(const struct sp_plane *p, double x, double y)
{
	double wx[6], wy[6], s = 0;
	int n = p->degree, m = taps(n);
	int x0 = weights(n, x, 0, wx), y0 = weights(n, y, 0, wy);

	if (x0 < 0 || y0 < 0 || x0 + m > p->w || y0 + m > p->h)
		return NAN;
	for (int j = 0; j < m; j++) {
		const float *row = p->c + (size_t)(y0 + j) * (size_t)p->w + x0;
		double r = 0;
		for (int k = 0; k < m; k++)
			r += wx[k] * row[k];
		s += wy[j] * r;
	}
	return s;
}

struct sp_refiner {
	int half, side, degree;
	float *tmpl, *gx, *gy, *img;    /* side x side */
	double *rows;                   /* (side + taps) x side */
};

struct sp_refiner *
sp_refiner_new(int half, int degree)
{
	struct sp_refiner *r = xcalloc(1, sizeof *r);
	size_t n;

	r->half = half;
	r->side = 2 * half + 1;
	r->degree = degree;
	n = (size_t)r->side * (size_t)r->side;
	r->tmpl = xcalloc(n, sizeof *r->tmpl);
	r->gx = xcalloc(n, sizeof *r->gx);
	r->gy = xcalloc(n, sizeof *r->gy);
	r->img = xcalloc(n, sizeof *r->img);
	r->rows = xcalloc((size_t)(r->side + taps(degree)) * (size_t)r->side,
	    sizeof *r->rows);
	return r;
}

void
sp_refiner_free(struct sp_refiner *r)
{
	if (r == NULL)
		return;
	free(r->tmpl);
	free(r->gx);
	free(r->gy);
	free(r->img);
	free(r->rows);
	free(r);
}

/*
 * The window of side x side samples centred at (x, y), a pixel apart, of
 * the spline (slope_x, slope_y: of its derivative along that axis) into
 * out. Every sample has the same fractional position, so one set of
 * weights serves the whole window, applied along rows and then columns.
 * -1 if the window's support leaves the plane.
 */
static int
sample_window(struct sp_refiner *r, const struct sp_plane *p, double x,
    double y, int slope_x, int slope_y, float *out)
{
	int n = p->degree, m = taps(n), h = r->half, side = r->side;
	double wx[6], wy[6];
	int x0 = weights(n, x, slope_x, wx) - h;
	int y0 = weights(n, y, slope_y, wy) - h;

	if (x0 < 0 || y0 < 0 || x0 + side - 1 + m > p->w ||
	    y0 + side - 1 + m > p->h)
		return -1;
	for (int j = 0; j < side + m - 1; j++) {
		const float *src = p->c + (size_t)(y0 + j) * (size_t)p->w + x0;
		double *dst = r->rows + (size_t)j * (size_t)side;
		for (int u = 0; u < side; u++) {
			double s = 0;
			for (int k = 0; k < m; k++)
				s += wx[k] * src[u + k];
			dst[u] = s;
		}
	}
	for (int v = 0; v < side; v++)
		for (int u = 0; u < side; u++) {
			double s = 0;
			for (int k = 0; k < m; k++)
				s += wy[k] * r->rows[(size_t)(v + k) * (size_t)side
				    + (size_t)u];
			out[v * side + u] = (float)s;
		}
	return 0;
}

int
sp_refine(struct sp_refiner *r, const struct sp_plane *ref, double tx,
    double ty, const struct sp_plane *cur, double *x, double *y,
    double max_step)
{
	int npix = r->side * r->side;
	/* The template at whole pixels of the reference: exact samples. */
	double ax = floor(tx + 0.5), ay = floor(ty + 0.5);
	double hxx = 0, hxy = 0, hyy = 0, det, tr, lmin;
	double dx = *x - tx, dy = *y - ty, sx = dx, sy = dy;

	if (sample_window(r, ref, ax, ay, 0, 0, r->tmpl) < 0 ||
	    sample_window(r, ref, ax, ay, 1, 0, r->gx) < 0 ||
	    sample_window(r, ref, ax, ay, 0, 1, r->gy) < 0)
		return -1;
	for (int i = 0; i < npix; i++) {
		hxx += (double)r->gx[i] * r->gx[i];
		hxy += (double)r->gx[i] * r->gy[i];
		hyy += (double)r->gy[i] * r->gy[i];
	}
	det = hxx * hyy - hxy * hxy;
	tr = hxx + hyy;
	lmin = (tr - sqrt(tr * tr - 4 * det > 0 ? tr * tr - 4 * det : 0)) / 2;
	/* No texture to align on: under 0.03 grey per px of gradient. */
	if (!(lmin > 1e-3 * npix))
		return -1;
	for (int it = 0; it < REFINE_ITER; it++) {
		double bx = 0, by = 0, stepx, stepy;
		if (sample_window(r, cur, ax + dx, ay + dy, 0, 0, r->img) < 0)
			return -1;
		for (int i = 0; i < npix; i++) {
			double e = (double)r->img[i] - r->tmpl[i];
			bx += r->gx[i] * e;
			by += r->gy[i] * e;
		}
		stepx = (hyy * bx - hxy * by) / det;
		stepy = (hxx * by - hxy * bx) / det;
		/* Inverse composition: the template moved by the step, so the
		 * image's warp goes back by it. */
		dx -= stepx;
		dy -= stepy;
		if (hypot(dx - sx, dy - sy) > max_step)
			return -1;
		if (hypot(stepx, stepy) < REFINE_EPS) {
			*x = tx + dx;
			*y = ty + dy;
			return 0;
		}
	}
	return -1;
}
