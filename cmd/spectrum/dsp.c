#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp.h"

int
window_fn_parse(const char *s, enum window_fn *fn)
{
	static const struct { const char *name; enum window_fn fn; } t[] = {
		{ "hann", FN_HANN }, { "flattop", FN_FLATTOP },
		{ "hamming", FN_HAMMING }, { "rect", FN_RECT },
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (strcmp(s, t[i].name) == 0) {
			*fn = t[i].fn;
			return 0;
		}
	return -1;
}

/* Periodic (DFT-even) windows: their kernels are exact at bin spacing. */
static double
window_value(enum window_fn fn, int i, int n)
{
	double x = 2 * M_PI * i / n;

	switch (fn) {
	case FN_HANN:
		return 0.5 - 0.5 * cos(x);
	case FN_HAMMING:
		return 0.54 - 0.46 * cos(x);
	case FN_FLATTOP:        /* the SRS flat top (HFT-like, 5 terms) */
		return 0.21557895 - 0.41663158 * cos(x) +
		    0.277263158 * cos(2 * x) - 0.083578947 * cos(3 * x) +
		    0.006947368 * cos(4 * x);
	default:
		return 1;
	}
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		err(1, "out of memory");
	return p;
}

/* |sum w[i] e^(-2 pi j d i / n)| / sum w: the response d bins from a tone. */
static double
kernel_at(const struct analyzer *a, double d)
{
	double re = 0, im = 0;

	for (int i = 0; i < a->n; i++) {
		double ph = -2 * M_PI * d * i / a->n;
		re += a->w[i] * cos(ph);
		im += a->w[i] * sin(ph);
	}
	return hypot(re, im) / a->wsum;
}

void
analyzer_init(struct analyzer *a, int n, double rate, enum window_fn fn)
{
	memset(a, 0, sizeof *a);
	a->n = n;
	a->rate = rate;
	a->w = xmalloc(sizeof *a->w * (size_t)n);
	for (int i = 0; i < n; i++) {
		a->w[i] = window_value(fn, i, n);
		a->wsum += a->w[i];
	}
	a->in = fftw_alloc_real((size_t)n);
	a->out = fftw_alloc_complex((size_t)n / 2 + 1);
	if (a->in == NULL || a->out == NULL)
		errx(1, "out of memory");
	a->plan = fftw_plan_dft_r2c_1d(n, a->in, a->out, FFTW_ESTIMATE);
	a->mag = xmalloc(sizeof *a->mag * (size_t)(n / 2 + 1));
	a->sorted = xmalloc(sizeof *a->sorted * (size_t)(n / 2 + 1));
	a->cand = xmalloc(sizeof *a->cand * (size_t)(n / 2 + 1));
	a->kernel = xmalloc(sizeof *a->kernel * (2 * KERNEL_STEPS + 1));
	for (int i = 0; i <= 2 * KERNEL_STEPS; i++)
		a->kernel[i] = kernel_at(a, (double)i / KERNEL_STEPS);
}

void
analyzer_free(struct analyzer *a)
{
	fftw_destroy_plan(a->plan);
	fftw_free(a->in);
	fftw_free(a->out);
	free(a->w);
	free(a->mag);
	free(a->sorted);
	free(a->cand);
	free(a->kernel);
}

/* The kernel d bins from a tone (|d| <= 2), linearly interpolated. */
static double
kernel(const struct analyzer *a, double d)
{
	double x = fabs(d) * KERNEL_STEPS;
	int i = (int)x;

	if (i >= 2 * KERNEL_STEPS)
		return a->kernel[2 * KERNEL_STEPS];
	return a->kernel[i] + (x - i) * (a->kernel[i + 1] - a->kernel[i]);
}

/*
 * The tone's offset from bin k, in bins (-0.5 .. 0.5): the one whose
 * kernel gives the ratio of the two neighbours that the spectrum shows.
 * (m[k+1] - m[k-1]) / m[k] grows with the offset, so bisection finds it.
 */
static double
offset_of(const struct analyzer *a, double lo, double mid, double hi)
{
	double want = (hi - lo) / mid, a0 = -0.5, a1 = 0.5;

	for (int it = 0; it < 30; it++) {
		double d = (a0 + a1) / 2;
		double r = (kernel(a, 1 - d) - kernel(a, 1 + d)) / kernel(a, d);
		if (r < want)
			a0 = d;
		else
			a1 = d;
	}
	return (a0 + a1) / 2;
}

static void
detrend_and_window(struct analyzer *a, const double *x)
{
	int n = a->n;
	double sx = 0, sxy = 0, mx = (n - 1) / 2.0, sxx = 0, slope, mean;

	for (int i = 0; i < n; i++)
		sx += x[i];
	mean = sx / n;
	for (int i = 0; i < n; i++) {
		sxy += (i - mx) * (x[i] - mean);
		sxx += (i - mx) * (i - mx);
	}
	slope = sxy / sxx;
	for (int i = 0; i < n; i++)
		a->in[i] = (x[i] - mean - slope * (i - mx)) * a->w[i];
}

static int
cmp_double(const void *p, const void *q)
{
	double x = *(const double *)p, y = *(const double *)q;

	return (x > y) - (x < y);
}

static int
cmp_by_mag(const void *p, const void *q, void *mag)
{
	double x = ((double *)mag)[*(const int *)p];
	double y = ((double *)mag)[*(const int *)q];

	return (x < y) - (x > y);
}

int
find_peaks(struct analyzer *a, const double *mag, double lo, double hi,
    int k, struct peak *peaks)
{
	int nb = a->n / 2 + 1, b0, b1, nc = 0, ns = 0, np = 0;
	double bin = a->rate / a->n, floor_amp;

	b0 = (int)ceil(lo / bin);
	b1 = (int)floor(hi / bin);
	if (b0 < 1)
		b0 = 1;
	if (b1 > nb - 2)
		b1 = nb - 2;
	for (int i = b0; i <= b1; i++) {
		a->sorted[ns++] = mag[i];
		if (mag[i] > mag[i - 1] && mag[i] >= mag[i + 1] && mag[i] > 0)
			a->cand[nc++] = i;
	}
	if (ns == 0)
		return 0;
	qsort(a->sorted, (size_t)ns, sizeof *a->sorted, cmp_double);
	floor_amp = a->sorted[ns / 2];
	qsort_r(a->cand, (size_t)nc, sizeof *a->cand, cmp_by_mag, (void *)mag);
	for (int c = 0; c < nc && np < k; c++) {
		int i = a->cand[c];
		double d = offset_of(a, mag[i - 1], mag[i], mag[i + 1]);
		struct peak *p = &peaks[np++];
		p->freq = (i + d) * bin;
		p->amp = mag[i] / kernel(a, d);
		p->snr_db = floor_amp > 0 ? 20 * log10(mag[i] / floor_amp) :
		    INFINITY;
	}
	return np;
}

int
analyze(struct analyzer *a, const double *x, double lo, double hi, int k,
    struct peak *peaks)
{
	int nb = a->n / 2 + 1;

	detrend_and_window(a, x);
	fftw_execute(a->plan);
	for (int i = 0; i < nb; i++)
		a->mag[i] = 2 * hypot(a->out[i][0], a->out[i][1]) / a->wsum;
	return find_peaks(a, a->mag, lo, hi, k, peaks);
}
