#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "subpix.h"
#include "xalloc.h"

/*
 * The iteration ends after a step this small (px). What a step leaves is
 * its size times the linearisation's error, (k s)^2 / 6 for detail of
 * wavenumber k, and the share of the template's gradient that is noise
 * (well under 1%): a few 1e-5 px here, where a 1% error on a 0.05 px
 * amplitude allows 5e-4. Started from OpenCV's estimate, one step is
 * usually the last.
 */
#define REFINE_EPS 0.02
#define REFINE_ITER 20
#define MAX_TAPS 6

/*
 * The sampling and prefilter loops twice over: for AVX2, where the
 * processor has it (chosen at load time), and for any x86-64. Both do the
 * same float operations in the same order (no FMA contraction), so the
 * numbers do not depend on the machine.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SP_CLONES
#endif

/* x^n for a small n, without pow()'s cost. */
static double
ipow(double x, int n)
{
	double r = 1;

	while (n-- > 0)
		r *= x;
	return r;
}

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
			s += (k % 2 ? -binom : binom) * ipow(t, n);
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

/* The cubic and quintic ones and their slopes as polynomials in |x|, the
 * same functions at a tenth of the closed form's cost (sample_window()
 * needs 12 a call). */
static double
cubic(double x, int slope)
{
	double a = fabs(x), s = x < 0 ? -1 : 1;

	if (a < 1)
		return slope ? s * (-2 * a + 1.5 * a * a) :
		    2.0 / 3 - a * a + a * a * a / 2;
	if (a < 2)
		return slope ? -s * (2 - a) * (2 - a) / 2 :
		    (2 - a) * (2 - a) * (2 - a) / 6;
	return 0;
}

static double
quintic(double x, int slope)
{
	double a = fabs(x), s = x < 0 ? -1 : 1, a2 = a * a, b;

	if (a < 1)
		return slope ? s * a * (-1 + a2 - 5 * a2 * a / 12) :
		    11.0 / 20 - a2 / 2 + a2 * a2 / 4 - a2 * a2 * a / 12;
	if (a < 2)
		return slope ? s * (5.0 / 8 - 3.5 * a + 3.75 * a2 -
		    1.5 * a2 * a + 5 * a2 * a2 / 24) :
		    17.0 / 40 + 5 * a / 8 - 7 * a2 / 4 + 5 * a2 * a / 4 -
		    3 * a2 * a2 / 8 + a2 * a2 * a / 24;
	if (a < 3) {
		b = 3 - a;
		return slope ? -s * b * b * b * b / 24 :
		    b * b * b * b * b / 120;
	}
	return 0;
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
weights(int n, double x, int slope, float *w)
{
	int first = (int)floor(x) - (taps(n) - 1) / 2;

	for (int k = 0; k < taps(n); k++) {
		double t = x - (first + k);
		w[k] = (float)(n == 3 ? cubic(t, slope) : n == 5 ?
		    quintic(t, slope) : slope ? bspline_slope(n, t) :
		    bspline(n, t));
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
 * One pole's causal then anti-causal recursion down the columns of the
 * w x h array c, started as if each column were mirrored at both ends. A
 * row at a time, so that the inner loops run along rows and vectorize.
 */
static void SP_CLONES
recurse_columns(float *restrict c, int w, int h, double z)
{
	/* Terms below 1e-9 of the first do not change a float. */
	int horizon = (int)ceil(log(1e-9) / log(fabs(z)));
	float zf = (float)z, g = (float)(z / (z * z - 1));
	double zn = z;

	if (h < 2)
		return;
	if (horizon > h)
		horizon = h;
	for (int k = 1; k < horizon; k++, zn *= z) {
		const float *row = c + (size_t)k * (size_t)w;
		float a = (float)zn;
		for (int x = 0; x < w; x++)
			c[x] += a * row[x];
	}
	for (int y = 1; y < h; y++) {
		float *row = c + (size_t)y * (size_t)w;
		const float *up = row - w;
		for (int x = 0; x < w; x++)
			row[x] += zf * up[x];
	}
	{
		float *last = c + (size_t)(h - 1) * (size_t)w;
		const float *prev = last - w;
		for (int x = 0; x < w; x++)
			last[x] = g * (zf * prev[x] + last[x]);
	}
	for (int y = h - 2; y >= 0; y--) {
		float *row = c + (size_t)y * (size_t)w;
		const float *down = row + w;
		for (int x = 0; x < w; x++)
			row[x] = zf * (down[x] - row[x]);
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

/*
 * The same recursion along the rows of c, for rows first to first + n.
 * Each row's recursion is a chain of dependent steps; ROWS rows side by
 * side (n a constant, so the loop over them unrolls) keep the processor
 * busy while each step waits for the one before.
 */
#define ROWS 8
static inline __attribute__((always_inline)) void
recurse_row_group(float *restrict c, int w, int first, const int n,
    double z)
{
	int horizon = (int)ceil(log(1e-9) / log(fabs(z)));
	float zf = (float)z, g = (float)(z / (z * z - 1));
	float *row[ROWS], prev[ROWS];

	if (horizon > w)
		horizon = w;
	for (int r = 0; r < n; r++) {
		double sum, zn = z;
		row[r] = c + (size_t)(first + r) * (size_t)w;
		sum = row[r][0];
		for (int x = 1; x < horizon; x++, zn *= z)
			sum += zn * row[r][x];
		prev[r] = row[r][0] = (float)sum;
	}
	for (int x = 1; x < w; x++)
		for (int r = 0; r < n; r++)
			prev[r] = row[r][x] += zf * prev[r];
	for (int r = 0; r < n; r++)
		prev[r] = row[r][w - 1] = g * (zf * row[r][w - 2] + prev[r]);
	for (int x = w - 2; x >= 0; x--)
		for (int r = 0; r < n; r++)
			prev[r] = row[r][x] = zf * (prev[r] - row[r][x]);
}

static void SP_CLONES
recurse_rows(float *c, int w, int h, double z)
{
	int y = 0;

	if (w < 2)
		return;
	for (; y + ROWS <= h; y += ROWS)
		recurse_row_group(c, w, y, ROWS, z);
	for (; y < h; y++)
		recurse_row_group(c, w, y, 1, z);
}

/* Samples to coefficients: the prefilter along x, then along y. Both
 * passes' gains are applied once, at the start. */
void
sp_prefilter(struct sp_plane *p, const uint8_t *data, int w, int h,
    int stride)
{
	double z[2], gain = 1;
	int np = poles(p->degree, z);
	float g;

	p->w = w;
	p->h = h;
	for (int k = 0; k < np; k++)
		gain *= (1 - z[k]) * (1 - 1 / z[k]);
	g = (float)(gain * gain);
	for (int y = 0; y < h; y++) {
		const uint8_t *src = data + (size_t)y * (size_t)stride;
		float *dst = p->c + (size_t)y * (size_t)w;
		for (int x = 0; x < w; x++)
			dst[x] = g * src[x];
	}
	if (np == 0)
		return;
	for (int k = 0; k < np; k++)
		recurse_rows(p->c, w, h, z[k]);
	for (int k = 0; k < np; k++)
		recurse_columns(p->c, w, h, z[k]);
}

double
sp_value(const struct sp_plane *p, double x, double y)
{
	float wx[MAX_TAPS], wy[MAX_TAPS];
	double s = 0;
	int n = p->degree, m = taps(n);
	int x0 = weights(n, x, 0, wx), y0 = weights(n, y, 0, wy);

	if (x0 < 0 || y0 < 0 || x0 + m > p->w || y0 + m > p->h)
		return NAN;
	for (int j = 0; j < m; j++) {
		const float *row = p->c + (size_t)(y0 + j) * (size_t)p->w + x0;
		double r = 0;
		for (int k = 0; k < m; k++)
			r += (double)wx[k] * row[k];
		s += wy[j] * r;
	}
	return s;
}

/*
 * Windows are stored pitch floats a row, side rounded up to a multiple of
 * LANES: the loops over a row then have no odd end for the compiler to
 * finish one by one. The columns past side are sampled but unused; the
 * template's gradient is zero there, so they weigh nothing.
 */
#define LANES 4

struct sp_refiner {
	int half, side, pitch, degree;
	float *img;             /* side x pitch */
	float *rows;            /* (side + taps) x pitch */
};

struct sp_refiner *
sp_refiner_new(int half, int degree)
{
	struct sp_refiner *r = xcalloc(1, sizeof *r);

	r->half = half;
	r->side = 2 * half + 1;
	r->pitch = (r->side + LANES - 1) / LANES * LANES;
	r->degree = degree;
	r->img = xcalloc((size_t)r->side * (size_t)r->pitch, sizeof *r->img);
	r->rows = xcalloc((size_t)(r->side + taps(degree)) * (size_t)r->pitch,
	    sizeof *r->rows);
	return r;
}

void
sp_refiner_free(struct sp_refiner *r)
{
	if (r == NULL)
		return;
	free(r->img);
	free(r->rows);
	free(r);
}

void
sp_template_init(struct sp_template *t, const struct sp_refiner *r)
{
	size_t n = (size_t)r->side * (size_t)r->pitch;

	memset(t, 0, sizeof *t);
	t->v = xcalloc(3 * n, sizeof *t->v);
	t->gx = t->v + n;
	t->gy = t->v + 2 * n;
}

void
sp_template_free(struct sp_template *t)
{
	free(t->v);
	t->v = t->gx = t->gy = NULL;
}

/*
 * The window of side x pitch samples whose centre column is at (x, y), a
 * pixel apart, of the spline (slope_x, slope_y: of its derivative along
 * that axis) into out. Every sample has the same fractional position, so
 * one set of weights serves the whole window, applied along rows and then
 * columns. -1 if the window's support leaves the plane.
 */
static inline __attribute__((always_inline)) void
filter_window(const float *restrict c, int stride, int side, int pitch,
    const float *wx, const float *wy, float *restrict rows,
    float *restrict out, const int m)
{
	for (int j = 0; j < side + m - 1; j++) {
		const float *src = c + (size_t)j * (size_t)stride;
		float *dst = rows + (size_t)j * (size_t)pitch;
		for (int u = 0; u < pitch; u++) {
			float s = 0;
			for (int k = 0; k < m; k++)
				s += wx[k] * src[u + k];
			dst[u] = s;
		}
	}
	for (int v = 0; v < side; v++) {
		const float *src = rows + (size_t)v * (size_t)pitch;
		float *dst = out + (size_t)v * (size_t)pitch;
		for (int u = 0; u < pitch; u++) {
			float s = 0;
			for (int k = 0; k < m; k++)
				s += wy[k] * src[(size_t)k * (size_t)pitch + u];
			dst[u] = s;
		}
	}
}

static int SP_CLONES
sample_window(struct sp_refiner *r, const struct sp_plane *p, double x,
    double y, int slope_x, int slope_y, float *restrict out)
{
	int n = p->degree, m = taps(n), h = r->half, side = r->side;
	int pitch = r->pitch;
	float wx[MAX_TAPS], wy[MAX_TAPS];
	int x0 = weights(n, x, slope_x, wx) - h;
	int y0 = weights(n, y, slope_y, wy) - h;
	const float *c = p->c + (size_t)y0 * (size_t)p->w + x0;

	if (x0 < 0 || y0 < 0 || x0 + pitch - 1 + m > p->w ||
	    y0 + side - 1 + m > p->h)
		return -1;
	/* The number of taps a constant, so that the sums over them unroll
	 * and only the loops along rows remain, in vectors. */
	switch (m) {
	case 3: filter_window(c, p->w, side, pitch, wx, wy, r->rows, out, 3);
		break;
	case 4: filter_window(c, p->w, side, pitch, wx, wy, r->rows, out, 4);
		break;
	default: filter_window(c, p->w, side, pitch, wx, wy, r->rows, out, 6);
		break;
	}
	return 0;
}

/* Zero the columns of a window past side. */
static void
clear_pad(const struct sp_refiner *r, float *w)
{
	for (int v = 0; v < r->side; v++)
		for (int u = r->side; u < r->pitch; u++)
			w[v * r->pitch + u] = 0;
}

int
sp_template_take(struct sp_refiner *r, const struct sp_plane *ref,
    double tx, double ty, struct sp_template *t)
{
	int npix = r->side * r->side, nall = r->side * r->pitch;
	double tr, lmin;

	/* At whole pixels of the reference: exact samples, no interpolation. */
	t->tx = tx;
	t->ty = ty;
	t->ax = floor(tx + 0.5);
	t->ay = floor(ty + 0.5);
	if (sample_window(r, ref, t->ax, t->ay, 0, 0, t->v) < 0 ||
	    sample_window(r, ref, t->ax, t->ay, 1, 0, t->gx) < 0 ||
	    sample_window(r, ref, t->ax, t->ay, 0, 1, t->gy) < 0)
		return -1;
	clear_pad(r, t->v);
	clear_pad(r, t->gx);
	clear_pad(r, t->gy);
	t->hxx = t->hxy = t->hyy = 0;
	for (int i = 0; i < nall; i++) {
		t->hxx += (double)t->gx[i] * t->gx[i];
		t->hxy += (double)t->gx[i] * t->gy[i];
		t->hyy += (double)t->gy[i] * t->gy[i];
	}
	t->det = t->hxx * t->hyy - t->hxy * t->hxy;
	tr = t->hxx + t->hyy;
	lmin = (tr - sqrt(fmax(tr * tr - 4 * t->det, 0))) / 2;
	/* No texture to align on: under 0.03 grey per px of gradient. */
	return lmin > 1e-3 * npix ? 0 : -1;
}

int
sp_align(struct sp_refiner *r, const struct sp_template *t,
    const struct sp_plane *cur, double *x, double *y, double max_step)
{
	int nall = r->side * r->pitch;
	double dx = *x - t->tx, dy = *y - t->ty, sx = dx, sy = dy;

	for (int it = 0; it < REFINE_ITER; it++) {
		/* LANES sums side by side: no order of additions is changed
		 * within one, so the compiler may keep them in a vector. */
		float sumx[LANES] = { 0 }, sumy[LANES] = { 0 };
		double bx = 0, by = 0, stepx, stepy;
		if (sample_window(r, cur, t->ax + dx, t->ay + dy, 0, 0,
		    r->img) < 0)
			return -1;
		for (int i = 0; i < nall; i += LANES)
			for (int k = 0; k < LANES; k++) {
				float e = r->img[i + k] - t->v[i + k];
				sumx[k] += t->gx[i + k] * e;
				sumy[k] += t->gy[i + k] * e;
			}
		for (int k = 0; k < LANES; k++) {
			bx += sumx[k];
			by += sumy[k];
		}
		stepx = (t->hyy * bx - t->hxy * by) / t->det;
		stepy = (t->hxx * by - t->hxy * bx) / t->det;
		/* Inverse composition: the template moved by the step, so the
		 * image's warp goes back by it. */
		dx -= stepx;
		dy -= stepy;
		if (hypot(dx - sx, dy - sy) > max_step)
			return -1;
		if (hypot(stepx, stepy) < REFINE_EPS) {
			*x = t->tx + dx;
			*y = t->ty + dy;
			return 0;
		}
	}
	return -1;
}

int
sp_refine(struct sp_refiner *r, const struct sp_plane *ref, double tx,
    double ty, const struct sp_plane *cur, double *x, double *y,
    double max_step)
{
	struct sp_template t;
	int rc;

	sp_template_init(&t, r);
	rc = sp_template_take(r, ref, tx, ty, &t);
	if (rc == 0)
		rc = sp_align(r, &t, cur, x, y, max_step);
	sp_template_free(&t);
	return rc;
}
