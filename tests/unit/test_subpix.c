/*
 * subpix: the B-spline model reproduces its samples, and the refinement's
 * error does not depend on the sub-pixel shift (a flat error curve is what
 * makes a small oscillation's amplitude come out unbiased). Images are a
 * band-limited texture rendered exactly at each shift (pixel-area means
 * of cosines) and rounded to 8 bits, as a camera gives them.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "subpix.h"
#include "tap.h"

#define W 160
#define H 160
#define TERMS 24
#define HALF 8                  /* motionpts' default 17 px window */

struct texture {
	double a[TERMS], u[TERMS], v[TERMS], px[TERMS], py[TERMS];
};

static double
uniform(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return ((*state >> 8) & 0xffffff) / 16777216.0;
}

/* Wavelengths min_wl to 40 px, as synthvib's textures. */
static void
make_texture(struct texture *t, unsigned seed, double min_wl)
{
	for (int k = 0; k < TERMS; k++) {
		t->a[k] = 45.0 / sqrt(TERMS / 4.0) * (0.5 + uniform(&seed));
		t->u[k] = 2 * M_PI / (min_wl + (40 - min_wl) * uniform(&seed));
		t->v[k] = 2 * M_PI / (min_wl + (40 - min_wl) * uniform(&seed));
		t->px[k] = 2 * M_PI * uniform(&seed);
		t->py[k] = 2 * M_PI * uniform(&seed);
	}
}

/* Mean of cos(w s + p) over the pixel [i - shift, i + 1 - shift]. */
static double
pixel_mean(double w, double p, int i, double shift)
{
	return (sin(w * (i + 1 - shift) + p) - sin(w * (i - shift) + p)) / w;
}

static void
render(const struct texture *t, double sx, double sy, uint8_t *img)
{
	static double acc[W * H], cx[W];

	for (int i = 0; i < W * H; i++)
		acc[i] = 128;
	for (int k = 0; k < TERMS; k++) {
		for (int x = 0; x < W; x++)
			cx[x] = pixel_mean(t->u[k], t->px[k], x, sx);
		for (int y = 0; y < H; y++) {
			double cy = t->a[k] * pixel_mean(t->v[k], t->py[k], y, sy);
			for (int x = 0; x < W; x++)
				acc[y * W + x] += cy * cx[x];
		}
	}
	for (int i = 0; i < W * H; i++) {
		double v = floor(acc[i] + 0.5);
		img[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
}

/* The spline passes through its samples. */
static void
test_interpolates(int degree)
{
	static uint8_t img[W * H];
	struct texture t;
	struct sp_plane p;
	double worst = 0;

	make_texture(&t, 7, 6);
	render(&t, 0, 0, img);
	sp_plane_init(&p, W, H, degree);
	sp_prefilter(&p, img, W, H, W);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			double v = sp_value(&p, x, y);
			if (!isnan(v) && fabs(v - img[y * W + x]) > worst)
				worst = fabs(v - img[y * W + x]);
		}
	ok(worst < 1e-3, "degree %d: the spline passes through every sample "
	    "(worst %.2g grey)", degree, worst);
	ok(isnan(sp_value(&p, 0, 0)) && isnan(sp_value(&p, W - 1, 5)) &&
	    !isnan(sp_value(&p, 3, 3)), "degree %d: no value where the "
	    "support leaves the plane", degree);
	sp_plane_free(&p);
}

/*
 * The error curve: a grid of points tracked from the unshifted image to
 * images shifted by s = 0.01 ... 0.99 px along (ax, ay), each started
 * 0.3 px off; err[i] is the mean error over the points at shift i.
 */
#define NSHIFT 50
static int
error_curve(int degree, double min_wl, double ax, double ay, double *err)
{
	static uint8_t ref_img[W * H], cur_img[W * H];
	struct sp_plane ref, cur;
	struct sp_refiner *r = sp_refiner_new(HALF, degree);
	struct texture t;
	int failed = 0;

	make_texture(&t, 11, min_wl);
	render(&t, 0, 0, ref_img);
	sp_plane_init(&ref, W, H, degree);
	sp_plane_init(&cur, W, H, degree);
	sp_prefilter(&ref, ref_img, W, H, W);
	for (int i = 0; i < NSHIFT; i++) {
		double s = 0.01 + 0.02 * i, sum = 0;
		int n = 0;
		render(&t, s * ax, s * ay, cur_img);
		sp_prefilter(&cur, cur_img, W, H, W);
		/* 7 x 7 points, at whole and odd fractional pixels alike */
		for (int gy = 0; gy < 7; gy++)
			for (int gx = 0; gx < 7; gx++) {
				double tx = 30 + 16.3 * gx, ty = 30 + 16.7 * gy;
				double x = tx + s * ax + 0.3, y = ty + s * ay - 0.3;
				if (sp_refine(r, &ref, tx, ty, &cur, &x, &y,
				    2) < 0) {
					failed++;
					continue;
				}
				sum += (x - tx - s * ax) * ax +
				    (y - ty - s * ay) * ay;
				n++;
			}
		err[i] = n > 0 ? sum / n : NAN;
	}
	sp_plane_free(&ref);
	sp_plane_free(&cur);
	sp_refiner_free(r);
	return failed;
}

/*
 * What the curve does to a small oscillation: its mean (a constant offset,
 * harmless), its spread (max - min), and the gain error, 2 pi times its
 * first harmonic: an oscillation of amplitude A around offset o reads
 * A (1 + e'(o)), and |e'| peaks there.
 */
static void
curve_figures(const double *err, double *spread, double *gain)
{
	double lo = INFINITY, hi = -INFINITY, c = 0, s = 0;

	for (int i = 0; i < NSHIFT; i++) {
		double ph = 2 * M_PI * (0.01 + 0.02 * i);
		lo = fmin(lo, err[i]);
		hi = fmax(hi, err[i]);
		c += err[i] * cos(ph) * 2 / NSHIFT;
		s += err[i] * sin(ph) * 2 / NSHIFT;
	}
	*spread = hi - lo;
	*gain = 2 * M_PI * hypot(c, s);
}

static void
test_flat(int degree, double min_wl, double ax, double ay, const char *what,
    double max_gain)
{
	double err[NSHIFT], spread, gain;
	int failed = error_curve(degree, min_wl, ax, ay, err);

	curve_figures(err, &spread, &gain);
	printf("# degree %d, %s: error spread %.5f px, gain error %.3f%%\n",
	    degree, what, spread, 100 * gain);
	ok(failed == 0, "degree %d, %s: every point refined", degree, what);
	if (max_gain > 0)
		ok(gain < max_gain, "degree %d, %s: gain error %.3f%% under "
		    "%.2g%%", degree, what, 100 * gain, 100 * max_gain);
	else
		ok(gain > -max_gain, "degree %d, %s: the bias is there to see "
		    "(gain error %.3f%% over %.2g%%)", degree, what,
		    100 * gain, -100 * max_gain);
}

/* A point off the plane, or on a flat window, is refused, not guessed. */
static void
test_refuses(void)
{
	static uint8_t img[W * H];
	struct sp_plane p;
	struct sp_refiner *r = sp_refiner_new(HALF, 3);
	double x = 3, y = 80;

	for (int i = 0; i < W * H; i++)
		img[i] = 100;
	sp_plane_init(&p, W, H, 3);
	sp_prefilter(&p, img, W, H, W);
	ok(sp_refine(r, &p, 3, 80, &p, &x, &y, 2) < 0 && x == 3 && y == 80,
	    "a window over the edge is refused and the guess kept");
	x = 80;
	ok(sp_refine(r, &p, 80, 80, &p, &x, &y, 2) < 0,
	    "a window without texture is refused");
	sp_plane_free(&p);
	sp_refiner_free(r);
}

int
main(void)
{
	test_interpolates(3);
	test_interpolates(5);
	test_refuses();
	/* Bilinear, as OpenCV's tracker samples: the bias the rest removes. */
	test_flat(1, 6, 1, 0, "bilinear along x", -0.01);
	test_flat(3, 6, 1, 0, "along x", 0.005);
	test_flat(3, 6, 0, 1, "along y", 0.005);
	test_flat(5, 6, 1, 0, "along x", 0.002);
	test_flat(5, 6, 0, 1, "along y", 0.002);
	test_flat(5, 6, M_SQRT1_2, M_SQRT1_2, "diagonal", 0.002);
	/* Detail down to 3 px: near the pixel grid's limit. */
	/* ...where cubic splines fall short: the reason quintic is the default. */
	test_flat(3, 3, 1, 0, "fine texture along x", -0.01);
	test_flat(5, 3, 1, 0, "fine texture along x", 0.005);
	return tap_done();
}
