/*
 * dsp: one window length's FFT analysis: detrend, window, FFTW, peaks.
 *
 * An analyzer holds the FFTW plan and every buffer for its window length,
 * made once and reused for every window (no allocation per window).
 * Amplitudes are zero-to-peak, corrected for the window's coherent gain
 * and for scalloping: a tone between two bins reads the same as one on a
 * bin, because the peak's offset from its bin is found from the window's
 * own kernel (tabled when the analyzer is made) rather than a parabola.
 */
#ifndef DSP_H
#define DSP_H

#include <fftw3.h>

enum window_fn { FN_HANN, FN_FLATTOP, FN_HAMMING, FN_RECT };

#define KERNEL_STEPS 256      /* kernel table resolution per bin */

struct peak {
	double freq;            /* Hz */
	double amp;             /* zero-to-peak, input units */
	double snr_db;          /* against the median of the band */
};

struct analyzer {
	int n;                  /* samples per window */
	double rate;            /* samples per second */
	double *w;              /* the window */
	double wsum;            /* its sum: the coherent gain times n */
	double *in;             /* FFTW input */
	fftw_complex *out;      /* FFTW output, n / 2 + 1 bins */
	fftw_plan plan;
	double *mag;            /* amplitude of each bin */
	double *sorted;         /* scratch for the median */
	int *cand;              /* scratch for peak candidates */
	/* kernel[i]: the window's normalised response i / KERNEL_STEPS
	 * bins away from a tone, for 0 <= i <= 2 * KERNEL_STEPS. */
	double *kernel;
};

int window_fn_parse(const char *s, enum window_fn *fn);
void analyzer_init(struct analyzer *a, int n, double rate,
    enum window_fn fn);
void analyzer_free(struct analyzer *a);

/*
 * Analyse x[0..n): remove mean and linear trend, window, transform, and
 * find up to k strongest local maxima between lo and hi Hz. Fills peaks
 * (strongest first) and returns how many; a->mag then holds the amplitude
 * spectrum.
 */
int analyze(struct analyzer *a, const double *x, double lo, double hi, int k,
    struct peak *peaks);
/* The same peak search on an amplitude spectrum of this length (mag has
 * n / 2 + 1 bins), such as the median of several. */
int find_peaks(struct analyzer *a, const double *mag, double lo, double hi,
    int k, struct peak *peaks);

/* The last analysis's complex spectrum, scaled like a->mag (|z| is the
 * amplitude), into z: n / 2 + 1 pairs re, im. */
void spectrum_of(const struct analyzer *a, double *z);

/*
 * One bin of n series' spectra, z[k * stride] + i z[k * stride + 1] for
 * k < n, combined into one amplitude: the values projected on their
 * principal direction in the complex plane (the phase they share), and
 * the magnitude of the median projection. Noise across the points then
 * cancels instead of adding as in a median of magnitudes, and one wild
 * point moves the result no more than a median lets it. scratch holds n.
 */
double coherent_median(const double *z, int n, size_t stride,
    double *scratch);

#endif
