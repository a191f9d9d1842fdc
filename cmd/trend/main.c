/*
 * trend: forecasts for the control room's series. See trend(1).
 *
 *   trend forecast [options] [file]
 *   trend drift [options] [file]      (drift.c)
 *
 * Series CSV in (ts,series,value, as tsstore query writes it: each
 * series' rows together, in time order), forecast CSV out
 * (ts,series,value,lo80,hi80,lo95,hi95). Each series is fitted when its
 * last row has been read, so memory holds one series.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "ets.h"
#include "strmap.h"
#include "trend.h"
#include "workq.h"
#include "xalloc.h"

#define MAX_LEVELS 4

struct options {
	long horizon;           /* steps */
	ts_us horizon_dur;      /* or a duration, 0 if steps */
	double level[MAX_LEVELS];
	int nlevel;
	const char *model;      /* NULL: chosen by AICc */
	int season;             /* 0: auto, 1: none */
	int fitted, explain;
	int backtest;           /* folds; 0: forecast */
	ts_us step;             /* resample to it; 0: as read */
	char agg;               /* of a step's rows: 'm'ean, 'l'ast, 's'um */
	int threads;
};

/* One series, as read. */
struct series {
	char *name;
	ts_us *t;
	double *y;
	size_t n, cap;
};

/* A series to forecast, and what that printed, until it is its turn to
 * be written (--threads). */
struct job {
	struct series s;
	char *out, *err;
	size_t outlen, errlen;
	int status;
};

/* The steps one series may be resampled to. */
#define MAX_STEPS 10000000

void
usage(int status)
{
	fputs("usage: trend forecast [--horizon N|DUR] [--level L,...]"
	    " [--model NAME|auto]\n"
	    "                      [--season N|auto] [--step DUR] [--agg AGG]"
	    "\n"
	    "                      [--fitted] [--explain] [--backtest K]"
	    " [--threads N]\n"
	    "                      [file]\n"
	    "  --horizon N|DUR  steps (or a duration) to forecast (default 10)\n"
	    "  --level L,...    prediction intervals, percent (default 80,95)\n"
	    "  --model NAME     ANN, AAN, AAdN, ANA, AAA, AAdA, or with M first"
	    "\n"
	    "                   (multiplicative errors), MNM, MAM, MAdM"
	    " (and season),\n"
	    "                   MMN, MMdN, MMM, MMdM (and trend); default:"
	    " the one of\n"
	    "                   least AICc, not of the last four\n"
	    "  --season N|auto  season length in steps, 1 for none (default"
	    " auto)\n"
	    "  --step DUR       resample each series to DUR steps first\n"
	    "  --agg AGG        a step's rows as their mean, last or sum"
	    " (default mean)\n"
	    "  --fitted         the in-sample one-step forecasts too\n"
	    "  --explain        the model, its parameters and AICc on stderr\n"
	    "  --backtest K     MASE and sMAPE over the last K horizons, against"
	    " the\n"
	    "                   seasonal naive forecast, instead of forecasts\n"
	    "  --threads N      fit N series at once (default 1)\n"
	    "       trend drift [--every DUR] [--baseline DUR] [--snr DB]"
	    " [--tol FRAC]\n"
	    "                   [--slack K] [--threshold H] [--window DUR]\n"
	    "                   [--limit L[%],...] [--lead DUR] [--state FILE]"
	    " [file]\n"
	    "  --every DUR      the averaging period (default 12h)\n"
	    "  --baseline DUR   each key's baseline, from its first point"
	    " (default 30d)\n"
	    "  --snr DB         a new peak's least snr_db (default 10)\n"
	    "  --tol FRAC       how near a baseline peak's frequency is the same"
	    " (0.02)\n"
	    "  --slack K        the CUSUM's slack in spreads (default 0.5)\n"
	    "  --threshold H    the CUSUM's threshold in spreads (default 6)\n"
	    "  --window DUR     the averages a rise is measured on (default 30d)\n"
	    "  --limit L[%],... severity zones' edges: levels, or percentages over"
	    "\n"
	    "                   the baseline\n"
	    "  --lead DUR       how far ahead a limit may be foreseen (default"
	    " 14d)\n"
	    "  --state FILE     keep each key's state from run to run\n"
	    "  -h, --help       this help\n"
	    "      --version    the version\n",
	    status == 0 ? stdout : stderr);
	exit(status == 0 ? cli_finish(0) : status);
}

static void
parse_levels(struct options *o, const char *arg)
{
	char *copy = xstrdup(arg), *tok, *save = NULL;

	o->nlevel = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (o->nlevel == MAX_LEVELS)
			cli_usage_error("--level: %d levels at most: '%s'",
			    MAX_LEVELS, arg);
		o->level[o->nlevel++] = cli_double("--level", tok, 1, 99.9);
	}
	free(copy);
	if (o->nlevel == 0)
		cli_usage_error("--level: no level: '%s'", arg);
}

static void
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "horizon", required_argument, NULL, 'H' },
		{ "level", required_argument, NULL, 'l' },
		{ "model", required_argument, NULL, 'm' },
		{ "season", required_argument, NULL, 's' },
		{ "fitted", no_argument, NULL, 'f' },
		{ "explain", no_argument, NULL, 'e' },
		{ "backtest", required_argument, NULL, 'b' },
		{ "step", required_argument, NULL, 'S' },
		{ "agg", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct ets_model md;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (strspn(optarg, "0123456789") == strlen(optarg))
				o->horizon = cli_long("--horizon", optarg, 1,
				    100000);
			else if (ts_parse_duration(optarg, &o->horizon_dur) < 0 ||
			    o->horizon_dur <= 0)
				cli_usage_error("--horizon: not a number of "
				    "steps or a duration: '%s'", optarg);
			break;
		case 'l': parse_levels(o, optarg); break;
		case 'm':
			if (strcmp(optarg, "auto") == 0)
				o->model = NULL;
			else if (ets_parse(optarg, 12, &md) < 0)
				cli_usage_error("--model: not one of ANN, AAN, "
				    "AAdN, ANA, AAA, AAdA, MNN ... MAdA, MNM, MAM, "
				    "MAdM, MMN, MMdN, MMM, MMdM: '%s'", optarg);
			else
				o->model = optarg;
			break;
		case 's':
			o->season = strcmp(optarg, "auto") == 0 ? 0 :
			    (int)cli_long("--season", optarg, 1, ETS_MAX_SEASON);
			break;
		case 'f': o->fitted = 1; break;
		case 'e': o->explain = 1; break;
		case 'b': o->backtest = (int)cli_long("--backtest", optarg, 1,
		    1000); break;
		case 'S':
			if (ts_parse_duration(optarg, &o->step) < 0 ||
			    o->step <= 0)
				cli_usage_error("--step: not a duration: '%s'",
				    optarg);
			break;
		case 'a':
			if (strcmp(optarg, "mean") != 0 &&
			    strcmp(optarg, "last") != 0 &&
			    strcmp(optarg, "sum") != 0)
				cli_usage_error("--agg: not mean, last or sum: "
				    "'%s'", optarg);
			o->agg = optarg[0];
			break;
		case 't': o->threads = (int)cli_long("--threads", optarg, 1,
		    256); break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
}

/* The z of a two-sided interval of level percent: Phi^-1(0.5 + L/200),
 * by bisection on erfc. */
static double
z_of(double level)
{
	double lo = 0, hi = 10, p = (1 - level / 100) / 2;

	for (int i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;
		if (0.5 * erfc(mid / M_SQRT2) > p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* A warning about one series, kept with its output (--threads). */
static void __attribute__((format(printf, 2, 3)))
say(FILE *errs, const char *fmt, ...)
{
	va_list ap;

	fprintf(errs, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(errs, fmt, ap);
	va_end(ap);
	fputc('\n', errs);
}

static int
by_time(const void *a, const void *b)
{
	ts_us x = *(const ts_us *)a, y = *(const ts_us *)b;

	return (x > y) - (x < y);
}

/* The series' step: the median interval; 0 if its times are not a
 * regular grid (each interval within 10% of it: calendar months are one). */
static ts_us
regular_step(const struct series *s)
{
	ts_us *d = xreallocarray(NULL, s->n - 1, sizeof *d), step;
	int regular = 1;

	for (size_t i = 1; i < s->n; i++)
		d[i - 1] = s->t[i] - s->t[i - 1];
	qsort(d, s->n - 1, sizeof *d, by_time);
	step = d[(s->n - 1) / 2];
	for (size_t i = 1; i < s->n; i++)
		if (llabs(s->t[i] - s->t[i - 1] - step) * 10 > step)
			regular = 0;
	free(d);
	return regular && step > 0 ? step : 0;
}

static void
write_row(struct csv_out *out, ts_us t, const char *name, double mean,
    double var, const struct options *o)
{
	csvout_time(out, t, 0);
	csvout_str(out, name);
	csvout_double(out, mean, 6);
	for (int i = 0; i < o->nlevel; i++) {
		double half = z_of(o->level[i]) * sqrt(var > 0 ? var : 0);
		csvout_double(out, mean - half, 6);
		csvout_double(out, mean + half, 6);
	}
	csvout_end(out);
}

static void
explain(const struct series *s, const struct ets_fit *f, FILE *errs)
{
	char name[8], t0[TS_BUFSZ], t1[TS_BUFSZ];

	fprintf(errs, "%s: %s: %s alpha=%.4f", program_invocation_short_name,
	    s->name, ets_name(&f->model, name), f->alpha);
	if (f->model.trend != 'N')
		fprintf(errs, " beta=%.4f", f->beta);
	if (f->model.damped)
		fprintf(errs, " phi=%.4f", f->phi);
	if (f->model.season != 'N')
		fprintf(errs, " gamma=%.4f m=%d", f->gamma, f->model.m);
	fprintf(errs, " sigma=%.6g AICc=%.3f on %zu points from %s to %s\n",
	    sqrt(f->sigma2), f->aicc, s->n, ts_format_rfc3339(s->t[0], t0),
	    ts_format_rfc3339(s->t[s->n - 1], t1));
}

static int
constant(const struct series *s)
{
	for (size_t t = 1; t < s->n; t++)
		if (s->y[t] != s->y[0])
			return 0;
	return 1;
}

/* The model --model names, or the one of least AICc, for y[0..n) with
 * season m. */
static int
fit_model(const double *y, size_t n, int m, struct ets_fit *f, void *arg)
{
	const struct options *o = arg;
	struct ets_model md;

	if (o->model == NULL)
		return ets_auto(y, n, m, f);
	ets_parse(o->model, m, &md);
	return ets_fit(y, n, &md, f);
}

/* --backtest: a row for the chosen model and one for the seasonal
 * naive. */
static int
evaluate(const struct series *s, const struct options *o, int m, size_t nh,
    struct csv_out *out, FILE *errs)
{
	struct bt_score ets, naive;
	const struct bt_score *sc[2] = { &ets, &naive };
	const char *method[2] = { o->model != NULL ? o->model : "ets",
		"snaive" };

	if (backtest(s->y, s->n, nh, o->backtest, m, fit_model, (void *)o,
	    &ets, &naive) < 0) {
		say(errs, "%s: %zu points: too few for %d folds of %zu steps",
		    s->name, s->n, o->backtest, nh);
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		csvout_str(out, s->name);
		csvout_str(out, method[i]);
		csvout_long(out, sc[i]->folds);
		csvout_long(out, (long long)nh);
		csvout_double(out, sc[i]->mase, 4);
		csvout_double(out, sc[i]->smape, 3);
		csvout_end(out);
	}
	return 0;
}

/* Fit and forecast one series; 0, or 1 if it could not be (said). */
static int
forecast(const struct series *s, const struct options *o,
    struct csv_out *out, FILE *errs)
{
	struct ets_fit f;
	struct ets_model md;
	ts_us step;
	size_t nh;
	double *mean, *var;
	int m, rc;

	if (s->n < 4) {
		say(errs, "%s: %zu points: too few to fit a model (4 at least)",
		    s->name, s->n);
		return 1;
	}
	if ((step = regular_step(s)) == 0) {
		say(errs, "%s: times not on a regular step: give --step "
		    "(or resample it: tsstore query --step)", s->name);
		return 1;
	}
	m = o->season > 0 ? o->season : ets_season(s->y, s->n);
	/* --model was checked as a name; here only a season can be amiss,
	 * or values that multiplicative errors cannot have */
	if (o->model != NULL && ets_parse(o->model, m, &md) < 0) {
		say(errs, "%s: %s needs a season of 2 steps or more (it has %d): "
		    "give --season N", s->name, o->model, m);
		return 1;
	}
	if (o->model != NULL && md.error == 'M' && !ets_positive(s->y, s->n)) {
		say(errs, "%s: %s needs every value above 0 (multiplicative "
		    "errors)", s->name, o->model);
		return 1;
	}
	nh = o->horizon_dur > 0 ? (size_t)((o->horizon_dur + step - 1) / step) :
	    (size_t)o->horizon;
	if (o->backtest > 0)
		return evaluate(s, o, m, nh, out, errs);
	rc = fit_model(s->y, s->n, m, &f, (void *)o);
	if (rc < 0) {
		say(errs, "%s: %zu points: too few for the model", s->name, s->n);
		return 1;
	}
	if (o->explain)
		explain(s, &f, errs);
	if (constant(s)) {
		say(errs, "%s: constant: its forecast is its value, with no "
		    "spread", s->name);
		f.sigma2 = 0;   /* not a least-squares whisker */
	}
	mean = xreallocarray(NULL, nh > s->n ? nh : s->n, sizeof *mean);
	var = xreallocarray(NULL, nh, sizeof *var);
	if (o->fitted) {
		ets_fitted(&f, s->y, s->n, mean);
		for (size_t t = 0; t < s->n; t++)
			write_row(out, s->t[t], s->name, mean[t], f.sigma2, o);
	}
	ets_forecast(&f, nh, mean, var);
	for (size_t h = 0; h < nh; h++)
		write_row(out, s->t[s->n - 1] + (ts_us)(h + 1) * step, s->name,
		    mean[h], var[h], o);
	free(mean);
	free(var);
	return 0;
}

static void
add_point(struct series *s, ts_us t, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap * 2 + 256;
		s->t = xreallocarray(s->t, s->cap, sizeof *s->t);
		s->y = xreallocarray(s->y, s->cap, sizeof *s->y);
	}
	s->t[s->n] = t;
	s->y[s->n++] = v;
}

/* The step at or before t, on the grid of multiples of step. */
static ts_us
floor_step(ts_us t, ts_us step)
{
	ts_us q = t / step;

	return (q - (t % step < 0)) * step;
}

/*
 * --step: s's rows as one value a step (the mean, last or sum of its
 * rows, on multiples of the step from the epoch, as tsstore query
 * makes them). A step without rows is filled: a mean by interpolation
 * between its neighbours, a last value carried forward, a sum as 0;
 * said on errs. 0, or 1 if it makes too many steps (said).
 */
static int
resample(struct series *s, const struct options *o, FILE *errs)
{
	ts_us first = floor_step(s->t[0], o->step);
	ts_us span = floor_step(s->t[s->n - 1], o->step) - first;
	size_t nb, filled = 0, i = 0;
	ts_us *t;
	double *y;
	unsigned *count;

	if (span / o->step >= MAX_STEPS) {
		say(errs, "%s: %zu points over %lld steps: too many (%d at "
		    "most): give a longer --step", s->name, s->n,
		    (long long)(span / o->step + 1), MAX_STEPS);
		return 1;
	}
	nb = (size_t)(span / o->step) + 1;
	t = xreallocarray(NULL, nb, sizeof *t);
	y = xcalloc(nb, sizeof *y);
	count = xcalloc(nb, sizeof *count);
	for (size_t k = 0; k < s->n; k++) {
		size_t b = (size_t)((s->t[k] - first) / o->step);
		y[b] = o->agg == 'l' ? s->y[k] : y[b] + s->y[k];
		count[b]++;
	}
	for (size_t b = 0; b < nb; b++) {
		t[b] = first + (ts_us)b * o->step;
		if (o->agg == 'm' && count[b] > 0)
			y[b] /= count[b];
	}
	for (size_t b = 0; b < nb; b++) {
		if (count[b] > 0) {
			i = b;      /* the last step with rows */
			continue;
		}
		filled++;
		if (o->agg == 'l') {
			y[b] = y[i];
		} else if (o->agg == 'm') {
			size_t j = b + 1;
			while (count[j] == 0)   /* the last step has rows */
				j++;
			y[b] = y[i] + (y[j] - y[i]) * (double)(b - i) /
			    (double)(j - i);
		}
	}
	if (filled > 0)
		say(errs, "%s: %zu of %zu steps had no rows: filled %s",
		    s->name, filled, nb, o->agg == 'm' ? "by interpolation" :
		    o->agg == 'l' ? "with the value before" : "with 0");
	free(count);
	free(s->t);
	free(s->y);
	s->t = t;
	s->y = y;
	s->n = s->cap = nb;
	return 0;
}

/* Resample and forecast one series, into the job's own streams. */
static void
run_job(void *p, void *arg)
{
	struct job *j = p;
	const struct options *o = arg;
	FILE *out = open_memstream(&j->out, &j->outlen);
	FILE *errs = open_memstream(&j->err, &j->errlen);
	struct csv_out w;

	if (out == NULL || errs == NULL)
		err(1, "open_memstream");
	csvout_init(&w, out);
	j->status = o->step > 0 ? resample(&j->s, o, errs) : 0;
	if (j->status == 0)
		j->status = forecast(&j->s, o, &w, errs);
	if (fclose(out) != 0 || fclose(errs) != 0)
		err(1, "open_memstream");
}

static int status_of_jobs;

/* Write what a job printed, in the order the series came. */
static void
emit_job(void *p, void *arg)
{
	struct job *j = p;

	if (j->errlen > 0)      /* a series cut short by a bad row has none */
		fwrite(j->err, 1, j->errlen, stderr);
	if (j->outlen > 0)
		fwrite(j->out, 1, j->outlen, stdout);
	cli_check_write(stdout, "stdout");
	status_of_jobs |= j->status;
	free(j->out);
	free(j->err);
	free(j->s.name);
	free(j->s.t);
	free(j->s.y);
	free(j);
}

static void
write_header(const struct options *o)
{
	struct csv_out out;

	csvout_init(&out, stdout);
	if (o->backtest > 0) {
		static const char *const bt[] = { "series", "method", "folds",
			"horizon", "mase", "smape" };
		csvout_row(&out, 6, bt);
		return;
	}
	csvout_str(&out, "ts");
	csvout_str(&out, "series");
	csvout_str(&out, "value");
	for (int i = 0; i < o->nlevel; i++) {
		char col[32];
		snprintf(col, sizeof col, "lo%g", o->level[i]);
		csvout_str(&out, col);
		snprintf(col, sizeof col, "hi%g", o->level[i]);
		csvout_str(&out, col);
	}
	csvout_end(&out);
}

/* Read series CSV, forecasting each series as its rows end (on
 * --threads workers, written in input order). */
static int
run(FILE *fp, const char *name, const struct options *o)
{
	struct csv_in *in = csvin_new(fp, name);
	struct workq *q = workq_new(o->threads, run_job, emit_job, (void *)o);
	struct job *j = NULL;
	struct strmap seen;
	int cts, cseries, cvalue, rc;

	strmap_init(&seen);
	if (csvin_header(in) < 0)
		errx(1, "%s", csvin_error(in));
	if ((cts = csvin_col(in, "ts")) < 0 ||
	    (cseries = csvin_col(in, "series")) < 0 ||
	    (cvalue = csvin_col(in, "value")) < 0)
		errx(1, "%s: no column \"%s\" (series CSV has ts,series,value)",
		    name, cts < 0 ? "ts" : cseries < 0 ? "series" : "value");
	write_header(o);
	while ((rc = csvin_read(in)) > 0) {
		const char *sn = csvin_field(in, (size_t)cseries);
		double v;
		ts_us t;
		if (ts_parse(csvin_field(in, (size_t)cts), &t) < 0) {
			csvin_field_error(in, (size_t)cts, "not a time");
			rc = -1;
			break;
		}
		if (csvin_double(in, (size_t)cvalue, &v) < 0) {
			rc = -1;
			break;
		}
		if (j == NULL || strcmp(j->s.name, sn) != 0) {
			if (*strmap_slot(&seen, sn) != NULL) {
				warnx("%s: line %ld: series \"%s\" again, after "
				    "others: give each series' rows together "
				    "(as tsstore query does)", name,
				    csvin_line(in), sn);
				rc = -1;
				break;
			}
			*strmap_slot(&seen, sn) = &seen;
			if (j != NULL)
				workq_put(q, j);
			j = xcalloc(1, sizeof *j);
			j->s.name = xstrdup(sn);
		}
		if (j->s.n > 0 && t <= j->s.t[j->s.n - 1]) {
			csvin_field_error(in, (size_t)cts, "not after the row "
			    "before it");
			rc = -1;
			break;
		}
		add_point(&j->s, t, v);
	}
	if (rc < 0 && csvin_error(in)[0] != '\0')
		warnx("%s", csvin_error(in));
	if (j != NULL && rc == 0) {
		workq_put(q, j);
		j = NULL;
	}
	workq_end(q);               /* what came before a bad row is written */
	if (j != NULL) {
		j->out = j->err = NULL;
		emit_job(j, NULL);
	}
	strmap_free(&seen, NULL);
	csvin_free(in);
	return rc < 0 ? 1 : status_of_jobs;
}

int
main(int argc, char **argv)
{
	struct options o = { .horizon = 10, .level = { 80, 95 }, .nlevel = 2,
	    .agg = 'm', .threads = 1 };
	const char *name = "stdin";
	FILE *fp = stdin;
	int status;

	cli_init(argv);
	if (argc < 2)
		cli_usage_error("no command (forecast, drift)");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(0);
	if (strcmp(argv[1], "--version") == 0)
		cli_version();
	if (strcmp(argv[1], "drift") == 0) {
		argv[1] = argv[0];
		return cli_finish(cmd_drift(argc - 1, argv + 1));
	}
	if (strcmp(argv[1], "forecast") != 0)
		cli_usage_error("unknown command: '%s'", argv[1]);
	argv[1] = argv[0];
	parse_args(argc - 1, argv + 1, &o);
	if (argc - 1 - optind > 1)
		cli_usage_error("one input at most");
	if (optind < argc - 1 && (fp = cli_open(argv[optind + 1], &name)) == NULL)
		return 1;
	status = run(fp, name, &o);
	cli_close(fp);
	return cli_finish(status);
}
