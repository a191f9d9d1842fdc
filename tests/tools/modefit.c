/*
 * modefit: recover vibration modes from a motion CSV, for the accuracy
 * tests of motionpts.
 *
 *   modefit --roi NAME --axis dx|dy [--per-point] FREQ...   < motion.csv
 *   modefit --roi NAME --rms                              < motion.csv
 *
 * The first form takes, frame by frame, the median of the axis over the
 * region's points, then fits sinusoids at the given frequencies (all at
 * once, with a constant and a linear trend) by least squares, and prints
 * one line "FREQ AMP" per frequency (amplitude zero-to-peak, px). With
 * --per-point it fits each point's own series instead (points seen in at
 * least half the frames) and prints the median of their amplitudes. The
 * second form prints the RMS of dx and dy over every row of the region
 * (static points should show almost none).
 */
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "strmap.h"
#include "xalloc.h"

#define MAXF 16
#define MAXU (2 + 2 * MAXF)

struct series {
	double *t, *v;
	size_t n, cap;
};

static void
push(struct series *s, double t, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->t = xreallocarray(s->t, s->cap, sizeof *s->t);
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->t[s->n] = t;
	s->v[s->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Solve the n x n system a x = b in place (partial pivoting). */
static void
solve(double a[MAXU][MAXU], double *b, int n)
{
	for (int c = 0; c < n; c++) {
		int p = c;
		for (int r = c + 1; r < n; r++)
			if (fabs(a[r][c]) > fabs(a[p][c]))
				p = r;
		for (int k = 0; k < n; k++) {
			double t = a[c][k]; a[c][k] = a[p][k]; a[p][k] = t;
		}
		double t = b[c]; b[c] = b[p]; b[p] = t;
		for (int r = c + 1; r < n; r++) {
			double f = a[r][c] / a[c][c];
			for (int k = c; k < n; k++)
				a[r][k] -= f * a[c][k];
			b[r] -= f * b[c];
		}
	}
	for (int c = n - 1; c >= 0; c--) {
		for (int k = c + 1; k < n; k++)
			b[c] -= a[c][k] * b[k];
		b[c] /= a[c][c];
	}
}

/* The amplitudes amp[0..nf) of sinusoids at freq fitted to s. */
static void
fit(const struct series *s, const double *freq, int nf, double *amp)
{
	double ata[MAXU][MAXU] = { { 0 } }, atb[MAXU] = { 0 }, row[MAXU];
	int nu = 2 + 2 * nf;
	double t0 = s->n ? s->t[0] : 0;

	for (size_t i = 0; i < s->n; i++) {
		double t = s->t[i] - t0;
		row[0] = 1;
		row[1] = t;
		for (int f = 0; f < nf; f++) {
			row[2 + 2 * f] = sin(2 * M_PI * freq[f] * t);
			row[3 + 2 * f] = cos(2 * M_PI * freq[f] * t);
		}
		for (int a = 0; a < nu; a++) {
			atb[a] += row[a] * s->v[i];
			for (int b = 0; b < nu; b++)
				ata[a][b] += row[a] * row[b];
		}
	}
	solve(ata, atb, nu);
	for (int f = 0; f < nf; f++)
		amp[f] = hypot(atb[2 + 2 * f], atb[3 + 2 * f]);
}

/* --per-point: every point's series, by its pt field. */
struct points {
	struct strmap map;
	size_t frames;          /* distinct times seen */
	const double *freq;
	int nf;
	double *amps[MAXF];     /* the fitted amplitudes, a point each */
	size_t n;
};

static void
fit_point(const char *key, void *value, void *arg)
{
	struct points *pp = arg;
	struct series *s = value;
	double amp[MAXF];

	(void)key;
	if (s->n * 2 < pp->frames)
		return;
	fit(s, pp->freq, pp->nf, amp);
	for (int f = 0; f < pp->nf; f++) {
		pp->amps[f] = xreallocarray(pp->amps[f], pp->n + 1,
		    sizeof *pp->amps[f]);
		pp->amps[f][pp->n] = amp[f];
	}
	pp->n++;
}

static void
free_series(void *p)
{
	struct series *s = p;

	free(s->t), free(s->v), free(s);
}

static void
print_per_point(struct points *pp)
{
	strmap_each(&pp->map, fit_point, pp);
	if (pp->n == 0)
		errx(1, "no point seen in half the frames");
	for (int f = 0; f < pp->nf; f++) {
		printf("%g %.6f\n", pp->freq[f], median(pp->amps[f], pp->n));
		free(pp->amps[f]);
	}
}

int
main(int argc, char **argv)
{
	const char *roi = NULL, *axis = "dx";
	double freq[MAXF], ts, v, *frame = NULL, sum2[2] = { 0, 0 };
	int nf = 0, rms = 0, per_point = 0, c_pt, c_ts, c_roi, c_ax, c_dx, c_dy, rc;
	size_t nframe = 0, cap = 0, rows = 0;
	struct series s = { 0 };
	struct points pp = { .freq = freq };
	double cur_ts = NAN, amp[MAXF];
	struct csv_in *r;

	cli_init(argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--roi") == 0 && i + 1 < argc)
			roi = argv[++i];
		else if (strcmp(argv[i], "--axis") == 0 && i + 1 < argc)
			axis = argv[++i];
		else if (strcmp(argv[i], "--rms") == 0)
			rms = 1;
		else if (strcmp(argv[i], "--per-point") == 0)
			per_point = 1;
		else if (nf < MAXF)
			freq[nf++] = cli_double("FREQ", argv[i], 1e-6, 1e6);
	}
	if (roi == NULL || (!rms && nf == 0))
		cli_usage_error("usage: modefit --roi NAME (--axis dx|dy "
		    "[--per-point] FREQ... | --rms)");
	pp.nf = nf;
	strmap_init(&pp.map);
	r = csvin_new(stdin, "stdin");
	if (csvin_header(r) < 0)
		errx(1, "%s", csvin_error(r));
	c_ts = csvin_col(r, "ts"), c_roi = csvin_col(r, "roi");
	c_ax = csvin_col(r, axis);
	c_dx = csvin_col(r, "dx"), c_dy = csvin_col(r, "dy");
	c_pt = csvin_col(r, "pt");
	if (c_ts < 0 || c_roi < 0 || c_ax < 0 || c_dx < 0 || c_dy < 0 ||
	    c_pt < 0)
		errx(1, "stdin: not a motion CSV");
	while ((rc = csvin_read(r)) > 0) {
		if (strcmp(csvin_field(r, (size_t)c_roi), roi) != 0)
			continue;
		if (csvin_double(r, (size_t)c_ts, &ts) < 0 ||
		    csvin_double(r, (size_t)c_ax, &v) < 0)
			errx(1, "%s", csvin_error(r));
		if (rms) {
			double dx, dy;
			csvin_double(r, (size_t)c_dx, &dx);
			csvin_double(r, (size_t)c_dy, &dy);
			sum2[0] += dx * dx, sum2[1] += dy * dy, rows++;
			continue;
		}
		if (per_point) {
			void **slot = strmap_slot(&pp.map,
			    csvin_field(r, (size_t)c_pt));
			if (*slot == NULL)
				*slot = xcalloc(1, sizeof(struct series));
			push(*slot, ts, v);
			pp.frames += ts != cur_ts;
			cur_ts = ts;
			continue;
		}
		if (ts != cur_ts && nframe > 0) {
			push(&s, cur_ts, median(frame, nframe));
			nframe = 0;
		}
		cur_ts = ts;
		if (nframe == cap) {
			cap = cap ? cap * 2 : 256;
			frame = xreallocarray(frame, cap, sizeof *frame);
		}
		frame[nframe++] = v;
	}
	if (rc < 0)
		errx(1, "%s", csvin_error(r));
	if (rms)
		printf("rows %zu rms_dx %.6f rms_dy %.6f\n", rows,
		    rows ? sqrt(sum2[0] / rows) : 0, rows ? sqrt(sum2[1] / rows) : 0);
	else if (per_point)
		print_per_point(&pp);
	else {
		if (nframe > 0)
			push(&s, cur_ts, median(frame, nframe));
		fit(&s, freq, nf, amp);
		for (int f = 0; f < nf; f++)
			printf("%g %.6f\n", freq[f], amp[f]);
	}
	csvin_free(r);
	strmap_free(&pp.map, free_series);
	free(frame), free(s.t), free(s.v);
	return cli_finish(0);
}
