#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp.h"
#include "xalloc.h"

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

/*
 * kernel[i] = |sum w[j] e^(-2 pi i d j / n)| / sum w at d = i / KERNEL_STEPS
 * bins: the window's response d bins from a tone. One FFT of the window
 * padded to KERNEL_STEPS times its length gives every such d at once.
 */
static void
make_kernel(struct analyzer *a)
{
	size_t m = (size_t)a->n * KERNEL_STEPS;
	double *pad = fftw_alloc_real(m);
	fftw_complex *f = fftw_alloc_complex(m / 2 + 1);
	fftw_plan p;

	if (pad == NULL || f == NULL)
		errx(1, "out of memory");
	p = fftw_plan_dft_r2c_1d((int)m, pad, f, FFTW_ESTIMATE);
	memset(pad, 0, sizeof *pad * m);
	memcpy(pad, a->w, sizeof *pad * (size_t)a->n);
	fftw_execute(p);
	for (int i = 0; i <= 2 * KERNEL_STEPS; i++)
		a->kernel[i] = hypot(f[i][0], f[i][1]) / a->wsum;
	fftw_destroy_plan(p);
	fftw_free(pad);
	fftw_free(f);
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
	make_kernel(a);
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

/* The k-th smallest of v[0..n) (Hoare's selection; v is reordered):
 * the median without sorting, for every window of every series. */
static double
select_kth(double *v, int n, int k)
{
	int lo = 0, hi = n - 1;

	while (lo < hi) {
		double pivot = v[(lo + hi) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				double t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* Move the strongest candidate from c[from..nc) to c[from]. */
static void
bring_strongest(int *c, int from, int nc, const double *mag)
{
	int best = from;

	for (int i = from + 1; i < nc; i++)
		if (mag[c[i]] > mag[c[best]])
			best = i;
	int t = c[from];
	c[from] = c[best];
	c[best] = t;
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
	floor_amp = select_kth(a->sorted, ns, ns / 2);
	for (int c = 0; c < nc && np < k; c++) {
		int i;
		bring_strongest(a->cand, c, nc, mag);
		i = a->cand[c];
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
		a->mag[i] = 2 * sqrt(a->out[i][0] * a->out[i][0] +
		    a->out[i][1] * a->out[i][1]) / a->wsum;
	return find_peaks(a, a->mag, lo, hi, k, peaks);
}

void
spectrum_of(const struct analyzer *a, double *z)
{
	for (int i = 0; i < a->n / 2 + 1; i++) {
		z[2 * i] = 2 * a->out[i][0] / a->wsum;
		z[2 * i + 1] = 2 * a->out[i][1] / a->wsum;
	}
}

static int
cmp_double(const void *p, const void *q)
{
	double x = *(const double *)p, y = *(const double *)q;

	return (x > y) - (x < y);
}

double
coherent_median(const double *z, int n, size_t stride, double *scratch)
{
	double sre = 0, sim = 0, th, c, s, m;

	if (n <= 0)
		return 0;
	/* The direction of the principal axis: half the angle of the sum of
	 * the squares (which sees z and -z alike). */
	for (int k = 0; k < n; k++) {
		double re = z[(size_t)k * stride], im = z[(size_t)k * stride + 1];
		sre += re * re - im * im;
		sim += 2 * re * im;
	}
	th = atan2(sim, sre) / 2;
	c = cos(th);
	s = sin(th);
	for (int k = 0; k < n; k++)
		scratch[k] = z[(size_t)k * stride] * c +
		    z[(size_t)k * stride + 1] * s;
	qsort(scratch, (size_t)n, sizeof *scratch, cmp_double);
	m = n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
	return fabs(m);
}
