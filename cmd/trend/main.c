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
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "ets.h"
#include "strmap.h"
#include "trend.h"
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
};

/* One series, as read. */
struct series {
	char *name;
	ts_us *t;
	double *y;
	size_t n, cap;
};

void
usage(int status)
{
	fputs("usage: trend forecast [--horizon N|DUR] [--level L,...]"
	    " [--model NAME|auto]\n"
	    "                      [--season N|auto] [--fitted] [--explain]"
	    " [--backtest K]\n"
	    "                      [file]\n"
	    "  --horizon N|DUR  steps (or a duration) to forecast (default 10)\n"
	    "  --level L,...    prediction intervals, percent (default 80,95)\n"
	    "  --model NAME     ANN, AAN, AAdN, ANA, AAA or AAdA (default: the\n"
	    "                   one of least AICc)\n"
	    "  --season N|auto  season length in steps, 1 for none (default"
	    " auto)\n"
	    "  --fitted         the in-sample one-step forecasts too\n"
	    "  --explain        the model, its parameters and AICc on stderr\n"
	    "  --backtest K     MASE and sMAPE over the last K horizons, against"
	    " the\n"
	    "                   seasonal naive forecast, instead of forecasts\n"
	    "       trend drift [--every DUR] [--baseline DUR] [--snr DB]"
	    " [--tol FRAC]\n"
	    "                   [--slack K] [--threshold H] [--state FILE]"
	    " [file]\n",
	    status == 0 ? stdout : stderr);
	exit(status);
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
				    "AAdN, ANA, AAA, AAdA: '%s'", optarg);
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
explain(const struct series *s, const struct ets_fit *f)
{
	char name[8], t0[TS_BUFSZ], t1[TS_BUFSZ];

	fprintf(stderr, "trend: %s: %s alpha=%.4f", s->name,
	    ets_name(&f->model, name), f->alpha);
	if (f->model.trend == 'A')
		fprintf(stderr, " beta=%.4f", f->beta);
	if (f->model.damped)
		fprintf(stderr, " phi=%.4f", f->phi);
	if (f->model.season == 'A')
		fprintf(stderr, " gamma=%.4f m=%d", f->gamma, f->model.m);
	fprintf(stderr, " sigma=%.6g AICc=%.3f on %zu points from %s to %s\n",
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
    struct csv_out *out)
{
	struct bt_score ets, naive;
	const struct bt_score *sc[2] = { &ets, &naive };
	const char *method[2] = { o->model != NULL ? o->model : "ets",
		"snaive" };

	if (backtest(s->y, s->n, nh, o->backtest, m, fit_model, (void *)o,
	    &ets, &naive) < 0) {
		warnx("%s: %zu points: too few for %d folds of %zu steps",
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
	cli_check_write(stdout, "stdout");
	return 0;
}

/* Fit and forecast one series; 0, or 1 if it could not be (said). */
static int
forecast(const struct series *s, const struct options *o,
    struct csv_out *out)
{
	struct ets_fit f;
	struct ets_model md;
	ts_us step;
	size_t nh;
	double *mean, *var;
	int m, rc;

	if (s->n < 4) {
		warnx("%s: %zu points: too few to fit a model (4 at least)",
		    s->name, s->n);
		return 1;
	}
	if ((step = regular_step(s)) == 0) {
		warnx("%s: times not on a regular step (resample it: tsstore "
		    "query --step)", s->name);
		return 1;
	}
	m = o->season > 0 ? o->season : ets_season(s->y, s->n);
	/* --model was checked as a name; here only a season can be amiss */
	if (o->model != NULL && ets_parse(o->model, m, &md) < 0) {
		warnx("%s: %s needs a season of 2 steps or more (it has %d): "
		    "give --season N", s->name, o->model, m);
		return 1;
	}
	nh = o->horizon_dur > 0 ? (size_t)((o->horizon_dur + step - 1) / step) :
	    (size_t)o->horizon;
	if (o->backtest > 0)
		return evaluate(s, o, m, nh, out);
	rc = fit_model(s->y, s->n, m, &f, (void *)o);
	if (rc < 0) {
		warnx("%s: %zu points: too few for the model", s->name, s->n);
		return 1;
	}
	if (o->explain)
		explain(s, &f);
	if (constant(s)) {
		warnx("%s: constant: its forecast is its value, with no "
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
	cli_check_write(stdout, "stdout");
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

/* Read series CSV, forecasting each series as its rows end. */
static int
run(FILE *fp, const char *name, const struct options *o)
{
	struct csv_in *in = csvin_new(fp, name);
	struct csv_out out;
	struct series s = { 0 };
	struct strmap seen;
	int cts, cseries, cvalue, status = 0, rc;

	strmap_init(&seen);
	csvout_init(&out, stdout);
	if (csvin_header(in) < 0)
		errx(1, "%s", csvin_error(in));
	if ((cts = csvin_col(in, "ts")) < 0 ||
	    (cseries = csvin_col(in, "series")) < 0 ||
	    (cvalue = csvin_col(in, "value")) < 0)
		errx(1, "%s: no column \"%s\" (series CSV has ts,series,value)",
		    name, cts < 0 ? "ts" : cseries < 0 ? "series" : "value");
	if (o->backtest > 0) {
		static const char *const bt[] = { "series", "method", "folds",
			"horizon", "mase", "smape" };
		csvout_row(&out, 6, bt);
	} else {
		csvout_str(&out, "ts");
		csvout_str(&out, "series");
		csvout_str(&out, "value");
	}
	for (int i = 0; o->backtest == 0 && i < o->nlevel; i++) {
		char col[32];
		snprintf(col, sizeof col, "lo%g", o->level[i]);
		csvout_str(&out, col);
		snprintf(col, sizeof col, "hi%g", o->level[i]);
		csvout_str(&out, col);
	}
	if (o->backtest == 0)
		csvout_end(&out);
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
		if (s.name == NULL || strcmp(s.name, sn) != 0) {
			if (*strmap_slot(&seen, sn) != NULL) {
				warnx("%s: line %ld: series \"%s\" again, after "
				    "others: give each series' rows together "
				    "(as tsstore query does)", name,
				    csvin_line(in), sn);
				rc = -1;
				break;
			}
			*strmap_slot(&seen, sn) = &seen;
			if (s.name != NULL)
				status |= forecast(&s, o, &out);
			free(s.name);
			s.name = xstrdup(sn);
			s.n = 0;
		}
		if (s.n > 0 && t <= s.t[s.n - 1]) {
			csvin_field_error(in, (size_t)cts, "not after the row "
			    "before it");
			rc = -1;
			break;
		}
		add_point(&s, t, v);
	}
	if (rc < 0 && csvin_error(in)[0] != '\0')
		warnx("%s", csvin_error(in));
	if (rc == 0 && s.name != NULL)
		status |= forecast(&s, o, &out);
	free(s.name);
	free(s.t);
	free(s.y);
	strmap_free(&seen, NULL);
	csvin_free(in);
	return rc < 0 ? 1 : status;
}

int
main(int argc, char **argv)
{
	struct options o = { .horizon = 10, .level = { 80, 95 }, .nlevel = 2 };
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
	if (optind < argc - 1 && strcmp(argv[optind + 1], "-") != 0) {
		name = argv[optind + 1];
		if ((fp = fopen(name, "r")) == NULL)
			err(1, "%s", name);
	}
	status = run(fp, name, &o);
	if (fp != stdin)
		fclose(fp);
	return cli_finish(status);
}
