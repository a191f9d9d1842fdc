/*
 * spectrum: sliding-window spectra of CSV series (motion points by
 * default) with FFTW, and their strongest peaks. See spectrum(1).
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "dsp.h"
#include "series.h"
#include "xalloc.h"

#define MAX_COLS 16
#define MAX_PEAKS 64
#define MAX_ANALYZERS 8
#define GAP_STEPS 3.5          /* a gap longer than this many samples */

struct options {
	double window, hop;             /* seconds */
	enum window_fn fn;
	int peaks;
	double lo, hi;                  /* --band, Hz */
	double scale;                   /* mm per px, 0 for px */
	int velocity, full, iso, summary;
	const char *time_col;
	char *keys[MAX_COLS], *values[MAX_COLS];
	int nkeys, nvalues;
};

/* --summary: the spectra of one region's points for one window. */
struct summary {
	char *region;           /* the key but its last field (owned) */
	int axis;
	ts_us ts;
	struct analyzer *a;
	double *spec;           /* npts complex spectra of a->n / 2 + 1 bins,
	                         * scaled as amplitudes: re, im, re, im ... */
	int npts, cap;
};

struct state {
	const struct options *opt;
	struct csv_in *in;
	struct csv_out out;
	int c_time, c_key[MAX_COLS], c_value[MAX_COLS];
	struct series_map map;
	struct analyzer an[MAX_ANALYZERS];
	int nan;
	double *linear;                 /* one window, oldest sample first */
	double *median;                 /* --summary: median spectrum */
	double *column;                 /* --summary: one bin of each point */
	int linear_n, column_n;
	long gaps, late;
	int emitted;                    /* a window was written this row */
	struct summary *sums;           /* --summary: regions being gathered */
	int nsums, sumcap;
	struct cli_progress progress;
	long rows;
};

static void
usage(FILE *fp, int status)
{
	fputs("usage: spectrum [--window DUR] [--hop DUR] "
	    "[--fn hann|flattop|hamming|rect]\n"
	    "                [--peaks K] [--band LO:HI] [--scale MM_PER_PX "
	    "[--velocity]]\n"
	    "                [--full | --summary] [--time COL] "
	    "[--key COL[,COL]...]\n"
	    "                [--value COL[,COL]...] [--iso] [input]\n"
	    "\n"
	    "Windowed spectra of each series of a CSV (the motion CSV by "
	    "default:\n"
	    "series keyed by src,roi,pt with axes dx and dy) and their "
	    "strongest peaks:\n"
	    "ts,src,roi,pt,axis,rank,freq_hz,amp,unit,snr_db.\n"
	    "\n"
	    "  --window DUR     window length (default 10s)\n"
	    "  --hop DUR        time between windows (default 1s)\n"
	    "  --fn NAME        window function (default hann)\n"
	    "  --peaks K        peaks per series and window (default 3)\n"
	    "  --band LO:HI     only frequencies from LO to HI Hz\n"
	    "  --scale MM       millimetres per pixel: amplitudes in mm\n"
	    "  --velocity       velocity RMS in mm/s (needs --scale)\n"
	    "  --full           every bin instead of peaks: "
	    "ts,KEYS,axis,freq_hz,amp\n"
	    "  --summary        also peaks of each region's median spectrum, "
	    "pt \"*\"\n"
	    "  --time COL       the time column (default ts)\n"
	    "  --key COLS       columns that name a series (default "
	    "src,roi,pt)\n"
	    "  --value COLS     columns to analyse, one series each (default "
	    "dx,dy)\n"
	    "  --iso            write times as RFC 3339\n"
	    "  -h, --help       this help\n"
	    "      --version    the version\n", fp);
	exit(status == 0 ? cli_finish(0) : status);
}

/* "a,b,c" into up to MAX_COLS names (the string is kept and cut up). */
static int
split_cols(const char *opt, char *arg, char **out)
{
	int n = 0;

	for (char *save, *t = strtok_r(arg, ",", &save); t;
	    t = strtok_r(NULL, ",", &save)) {
		if (n == MAX_COLS)
			cli_usage_error("%s: at most %d columns", opt, MAX_COLS);
		out[n++] = t;
	}
	if (n == 0)
		cli_usage_error("%s: no column named", opt);
	return n;
}

static void
parse_band(const char *arg, struct options *o)
{
	char *end;

	o->lo = strtod(arg, &end);
	if (end == arg || *end != ':')
		cli_usage_error("--band: expected LO:HI in Hz: '%s'", arg);
	o->hi = cli_double("--band", end + 1, 0, 1e9);
	if (o->lo < 0 || o->hi <= o->lo)
		cli_usage_error("--band: expected 0 <= LO < HI: '%s'", arg);
}

static void
parse_args(int argc, char **argv, struct options *o)
{
	enum { O_WINDOW = 256, O_HOP, O_FN, O_PEAKS, O_BAND, O_SCALE,
		O_VELOCITY, O_FULL, O_TIME, O_KEY, O_VALUE, O_ISO, O_SUMMARY,
		O_VERSION };
	static const struct option longopts[] = {
		{ "window", required_argument, NULL, O_WINDOW },
		{ "hop", required_argument, NULL, O_HOP },
		{ "fn", required_argument, NULL, O_FN },
		{ "peaks", required_argument, NULL, O_PEAKS },
		{ "band", required_argument, NULL, O_BAND },
		{ "scale", required_argument, NULL, O_SCALE },
		{ "velocity", no_argument, NULL, O_VELOCITY },
		{ "full", no_argument, NULL, O_FULL },
		{ "time", required_argument, NULL, O_TIME },
		{ "key", required_argument, NULL, O_KEY },
		{ "value", required_argument, NULL, O_VALUE },
		{ "iso", no_argument, NULL, O_ISO },
		{ "summary", no_argument, NULL, O_SUMMARY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_WINDOW: o->window = cli_seconds("--window", optarg, 0.01, 86400); break;
		case O_HOP: o->hop = cli_seconds("--hop", optarg, 0.001, 86400); break;
		case O_FN:
			if (window_fn_parse(optarg, &o->fn) < 0)
				cli_usage_error("--fn: hann, flattop, hamming or "
				    "rect: '%s'", optarg);
			break;
		case O_PEAKS: o->peaks = (int)cli_long("--peaks", optarg, 1, MAX_PEAKS); break;
		case O_BAND: parse_band(optarg, o); break;
		case O_SCALE: o->scale = cli_double("--scale", optarg, 1e-9, 1e9); break;
		case O_VELOCITY: o->velocity = 1; break;
		case O_FULL: o->full = 1; break;
		case O_TIME: o->time_col = optarg; break;
		case O_KEY: o->nkeys = split_cols("--key", optarg, o->keys); break;
		case O_VALUE: o->nvalues = split_cols("--value", optarg, o->values); break;
		case O_ISO: o->iso = 1; break;
		case O_SUMMARY: o->summary = 1; break;
		case 'h': usage(stdout, 0); break;
		case O_VERSION: cli_version(); break;
		default: cli_usage_hint();
		}
	}
	if (o->velocity && o->scale == 0)
		cli_usage_error("--velocity needs --scale (mm per pixel)");
	if (o->summary && o->full)
		cli_usage_error("--summary and --full do not go together");
	if (argc - optind > 1)
		cli_usage_error("one input at most (got %d)", argc - optind);
}

/* Find every named column, or fail naming the one that is missing. */
static int
find_columns(struct state *st)
{
	const struct options *o = st->opt;
	struct csv_in *in = st->in;

	st->c_time = csvin_col(in, o->time_col);
	if (st->c_time < 0) {
		warnx("%s: no column \"%s\" (use --time)", csvin_name(in),
		    o->time_col);
		return -1;
	}
	for (int i = 0; i < o->nkeys; i++)
		if ((st->c_key[i] = csvin_col(in, o->keys[i])) < 0) {
			warnx("%s: no column \"%s\" (use --key)", csvin_name(in),
			    o->keys[i]);
			return -1;
		}
	for (int i = 0; i < o->nvalues; i++)
		if ((st->c_value[i] = csvin_col(in, o->values[i])) < 0) {
			warnx("%s: no column \"%s\" (use --value)",
			    csvin_name(in), o->values[i]);
			return -1;
		}
	return 0;
}

static void
write_header(struct state *st)
{
	const struct options *o = st->opt;
	struct csv_out *w = &st->out;

	csvout_str(w, "ts");
	for (int i = 0; i < o->nkeys; i++)
		csvout_str(w, o->keys[i]);
	csvout_str(w, "axis");
	if (o->full) {
		csvout_str(w, "freq_hz");
		csvout_str(w, "amp");
	} else {
		const char *rest[] = { "rank", "freq_hz", "amp", "unit",
			"snr_db" };
		for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
			csvout_str(w, rest[i]);
	}
	csvout_end(w);
}

/* The analyzer for n samples at rate: one FFTW plan per window length. */
static struct analyzer *
analyzer_for(struct state *st, int n, double rate)
{
	for (int i = 0; i < st->nan; i++)
		if (st->an[i].n == n && st->an[i].rate == rate)
			return &st->an[i];
	if (st->nan == MAX_ANALYZERS)
		errx(1, "more than %d different sample rates", MAX_ANALYZERS);
	analyzer_init(&st->an[st->nan], n, rate, st->opt->fn);
	if (n > st->linear_n) {
		st->linear = xreallocarray(st->linear, (size_t)n,
		    sizeof *st->linear);
		st->median = xreallocarray(st->median, (size_t)n,
		    sizeof *st->median);
		st->linear_n = n;
	}
	return &st->an[st->nan++];
}

/* Amplitude in the unit asked for: px, mm, or velocity RMS in mm/s. */
static double
in_unit(const struct options *o, double amp, double freq)
{
	if (o->scale > 0)
		amp *= o->scale;
	if (o->velocity)
		amp *= 2 * M_PI * freq / sqrt(2);
	return amp;
}

/* A column other than motionpts' dx and dy (a SCADA export's bar) is
 * in its own unit, which the input does not name: left empty rather
 * than called pixels. */
static const char *
unit_name(const struct options *o, int axis)
{
	const char *v = o->values[axis];

	if (o->velocity)
		return "mm/s";
	if (o->scale > 0)
		return "mm";
	return strcmp(v, "dx") == 0 || strcmp(v, "dy") == 0 ? "px" : "";
}

/* The first n fields of a key joined by '\037', as CSV fields. */
static void
key_fields(struct state *st, const char *k, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len = strcspn(k, "\037");
		csvout_field(&st->out, k, len);
		k += len + (k[len] != '\0');
	}
}

/* ts, the key fields, the axis: the start of every output row. */
static void
row_start(struct state *st, const struct series *s, const char *ts)
{
	csvout_str(&st->out, ts);
	key_fields(st, s->key, st->opt->nkeys);
	csvout_str(&st->out, st->opt->values[s->axis]);
}

/* rank,freq_hz,amp,unit,snr_db and the end of the row. */
static void
peak_fields(struct state *st, int axis, int rank, const struct peak *p)
{
	const struct options *o = st->opt;

	csvout_long(&st->out, rank);
	csvout_double(&st->out, p->freq, 4);
	csvout_double(&st->out, in_unit(o, p->amp, p->freq), 6);
	csvout_str(&st->out, unit_name(o, axis));
	csvout_double(&st->out, p->snr_db, 1);
	csvout_end(&st->out);
}

/* The summary gathering this region, axis, time and window length. */
static struct summary *
summary_for(struct state *st, const char *region, int axis, ts_us ts,
    struct analyzer *a)
{
	struct summary *u;

	for (int i = 0; i < st->nsums; i++) {
		u = &st->sums[i];
		if (u->axis == axis && u->ts == ts && u->a == a &&
		    strcmp(u->region, region) == 0)
			return u;
	}
	if (st->nsums == st->sumcap) {
		st->sumcap = st->sumcap ? st->sumcap * 2 : 8;
		st->sums = xreallocarray(st->sums, (size_t)st->sumcap,
		    sizeof *st->sums);
	}
	u = &st->sums[st->nsums++];
	memset(u, 0, sizeof *u);
	u->region = xstrdup(region);
	u->axis = axis;
	u->ts = ts;
	u->a = a;
	return u;
}

/* Keep this window's spectrum (in a->mag) for its region's summary. */
static void
gather(struct state *st, const struct series *s, struct analyzer *a,
    ts_us ts)
{
	const char *last = strrchr(s->key, '\037');
	size_t len = last ? (size_t)(last - s->key) : 0;
	size_t nb = (size_t)(a->n / 2 + 1);
	char region[1024];
	struct summary *u;

	memcpy(region, s->key, len);
	region[len] = '\0';
	u = summary_for(st, region, s->axis, ts, a);
	if (u->npts == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->spec = xreallocarray(u->spec, 2 * nb * (size_t)u->cap,
		    sizeof *u->spec);
	}
	spectrum_of(a, u->spec + 2 * nb * (size_t)u->npts++);
}

/* The region's spectrum, its peaks, as rows with the last key field "*".
 * Each bin is the points' coherent median (dsp.h): the region moves as
 * one body, so its points agree in phase, and a median of magnitudes
 * would add their noise instead of cancelling it. */
static void
write_summary(struct state *st, struct summary *u)
{
	const struct options *o = st->opt;
	struct analyzer *a = u->a;
	size_t nb = (size_t)(a->n / 2 + 1);
	double *med = st->median, *col;
	struct peak peaks[MAX_PEAKS];
	char t[TS_BUFSZ];
	int np;

	if (u->npts > st->column_n) {
		st->column = xreallocarray(st->column, (size_t)u->npts,
		    sizeof *st->column);
		st->column_n = u->npts;
	}
	col = st->column;

	for (size_t b = 0; b < nb; b++)
		med[b] = coherent_median(u->spec + 2 * b, u->npts, 2 * nb, col);
	np = find_peaks(a, med, o->lo, o->hi > 0 ? o->hi : a->rate / 2,
	    o->peaks, peaks);
	ts_format(u->ts, o->iso, t);
	for (int i = 0; i < np; i++) {
		csvout_str(&st->out, t);
		key_fields(st, u->region, o->nkeys - 1);
		csvout_str(&st->out, "*");
		csvout_str(&st->out, o->values[u->axis]);
		peak_fields(st, u->axis, i + 1, &peaks[i]);
	}
}

/* Write and drop the summaries of windows that ended before t: every
 * point of that time has been read (rows come in time order). */
static void
flush_summaries(struct state *st, ts_us t)
{
	int kept = 0;

	for (int i = 0; i < st->nsums; i++) {
		struct summary *u = &st->sums[i];
		if (u->ts < t) {
			write_summary(st, u);
			free(u->region);
			free(u->spec);
			st->emitted = 1;
		} else
			st->sums[kept++] = *u;
	}
	st->nsums = kept;
}

static void
emit(struct state *st, struct series *s, ts_us ts)
{
	const struct options *o = st->opt;
	struct analyzer *a = analyzer_for(st, s->n, s->rate);
	struct peak peaks[MAX_PEAKS];
	double hi = o->hi > 0 ? o->hi : s->rate / 2;
	char t[TS_BUFSZ];
	int np;

	for (int i = 0; i < s->n; i++)
		st->linear[i] = s->ring[(s->head + i) % s->n];
	np = analyze(a, st->linear, o->lo, hi, o->peaks, peaks);
	if (o->summary)
		gather(st, s, a, ts);
	ts_format(ts, o->iso, t);
	if (o->full) {
		double bin = s->rate / s->n;
		for (int b = 1; b < s->n / 2; b++) {
			if (b * bin < o->lo || b * bin > hi)
				continue;
			row_start(st, s, t);
			csvout_double(&st->out, b * bin, 4);
			csvout_double(&st->out, in_unit(o, a->mag[b], b * bin), 6);
			csvout_end(&st->out);
		}
		return;
	}
	for (int i = 0; i < np; i++) {
		row_start(st, s, t);
		peak_fields(st, s->axis, i + 1, &peaks[i]);
	}
}

/* One grid sample into the window ring; a window when one is due. */
static void
push(struct state *st, struct series *s, double v, ts_us t)
{
	/* Windows end on the first sample of each hop on the clock (the
	 * first full one too), so the points of a region, which share frame
	 * times, end theirs together and --summary can take their median. */
	long long slot = (long long)floor((double)t / (st->opt->hop * 1e6));

	int crossing = slot != s->last_slot;

	s->last_slot = slot;
	s->ring[s->head] = v;
	s->head = (s->head + 1) % s->n;
	if (s->count < s->n)
		s->count++;
	s->since_emit++;
	if (s->count == s->n && crossing) {
		emit(st, s, t);
		s->windows++;
		st->emitted = 1;
	}
}

static ts_us
grid_time(const struct series *s, long k)
{
	return s->grid_t0 + ts_from_sec(k / s->rate);
}

/* Start the grid afresh at (t, v): the first sample or after a gap. */
static void
restart(struct state *st, struct series *s, ts_us t, double v)
{
	s->count = s->since_emit = s->head = 0;
	s->last_slot = LLONG_MIN;
	s->grid_t0 = t;
	s->grid_k = 1;
	s->last_t = t;
	s->last_v = v;
	push(st, s, v, t);
}

static void
report_gap(struct state *st, const struct series *s, ts_us t)
{
	char when[TS_BUFSZ], key[256];
	size_t n = 0;

	for (const char *k = s->key; *k && n + 1 < sizeof key; k++)
		key[n++] = *k == '\037' ? '/' : *k;
	key[n] = '\0';
	warnx("%s: series %s/%s: gap of %.3f s before %s: window restarted",
	    csvin_name(st->in), key, st->opt->values[s->axis],
	    ts_to_sec(t - s->last_t), ts_format_unix(t, when));
	st->gaps++;
}

/*
 * A grid point this close to a sample (us) takes the sample as it is:
 * Matroska keeps times to the millisecond, so a 120 frames/s camera's
 * frames come up to 0.5 ms off its grid. Interpolating between them would
 * dull the higher frequencies (by 1% at 17 Hz), where taking the sample
 * costs only a time error of that size, which averages out.
 */
#define SNAP_US 500

/* A sample on the series' own time line: resample linearly onto the
 * grid between the previous sample and this one. */
static void
feed(struct state *st, struct series *s, ts_us t, double v)
{
	ts_us g;

	if (s->count == 0 && s->since_emit == 0) {
		restart(st, s, t, v);
		return;
	}
	if (t <= s->last_t) {
		st->late++;
		return;
	}
	if (ts_to_sec(t - s->last_t) * s->rate > GAP_STEPS) {
		report_gap(st, s, t);
		restart(st, s, t, v);
		return;
	}
	/* Up to a grid point just after t too: it is this sample's. */
	while ((g = grid_time(s, s->grid_k)) <= t + SNAP_US) {
		double f = (double)(g - s->last_t) / (double)(t - s->last_t);
		if (g - s->last_t <= SNAP_US)
			f = 0;
		else if (g >= t - SNAP_US)
			f = 1;
		push(st, s, s->last_v + f * (v - s->last_v), g);
		s->grid_k++;
	}
	s->last_t = t;
	s->last_v = v;
}

static int
cmp_ts(const void *p, const void *q)
{
	ts_us x = *(const ts_us *)p, y = *(const ts_us *)q;

	return (x > y) - (x < y);
}

/*
 * The rate from the first samples: their mean step when no step is far
 * from the median (else the median alone), snapped to a whole number of
 * Hz or to N * 1000/1001 within 0.2%. Times written to the microsecond
 * make 120 Hz look like 120.0048 Hz, and to the millisecond like anything
 * from 119.4 to 120.6 Hz over a few samples; a grid at such a rate drifts
 * off the samples, and interpolating back onto it dulls the higher
 * frequencies.
 */
static double
nominal_rate(const struct series *s, ts_us median)
{
	double step = (double)median, rate, snap;
	ts_us span = s->probe_t[s->nprobe - 1] - s->probe_t[0];
	int regular = 1;

	for (int i = 1; i < s->nprobe; i++) {
		ts_us d = s->probe_t[i] - s->probe_t[i - 1];
		if (d < median / 2 || d > median + median / 2)
			regular = 0;
	}
	if (regular)
		step = (double)span / (s->nprobe - 1);
	rate = 1e6 / step;
	snap = round(rate);
	if (fabs(rate - snap) < 0.002 * rate)
		return snap;
	snap = round(rate * 1.001) / 1.001;
	if (fabs(rate - snap) < 0.002 * rate)
		return snap;
	return rate;
}

/* The series' rate and window, from its first samples. */
static void
fix_rate(struct state *st, struct series *s)
{
	ts_us d[RATE_PROBE - 1];
	int nd = s->nprobe - 1;

	for (int i = 1; i < s->nprobe; i++)
		d[i - 1] = s->probe_t[i] - s->probe_t[i - 1];
	qsort(d, (size_t)nd, sizeof *d, cmp_ts);
	if (d[nd / 2] <= 0) {
		s->nprobe = 0;          /* repeated times: look again */
		return;
	}
	s->rate = nominal_rate(s, d[nd / 2]);
	s->n = (int)lround(st->opt->window * s->rate);
	if (s->n < 8)
		errx(1, "%s: line %ld: series at %.3g Hz: a %g s window holds "
		    "fewer than 8 samples (use a longer --window)",
		    csvin_name(st->in), csvin_line(st->in), s->rate,
		    st->opt->window);
	s->ring = xcalloc((size_t)s->n, sizeof *s->ring);
	for (int i = 0; i < s->nprobe; i++)
		feed(st, s, s->probe_t[i], s->probe_v[i]);
}

static void
take(struct state *st, struct series *s, ts_us t, double v)
{
	/* as feed() does: a sample not after the last is skipped, and
	 * counted (input in reverse order once went unsaid) */
	if (s->rate == 0 && s->nprobe > 0 &&
	    t <= s->probe_t[s->nprobe - 1]) {
		st->late++;
		return;
	}
	if (s->windows == 0 && (s->first_t == 0 || t < s->first_t))
		s->first_t = t;
	if (s->rate > 0) {
		feed(st, s, t, v);
		return;
	}
	s->probe_t[s->nprobe] = t;
	s->probe_v[s->nprobe++] = v;
	if (s->nprobe == RATE_PROBE || (s->nprobe >= RATE_PROBE_MIN &&
	    ts_to_sec(t - s->probe_t[0]) >= st->opt->window / 2))
		fix_rate(st, s);
}

/* The key of the current row: its key fields joined by '\037'. */
static void
row_key(struct state *st, char *buf, size_t size)
{
	size_t n = 0;

	for (int i = 0; i < st->opt->nkeys; i++) {
		size_t len = csvin_field_len(st->in, (size_t)st->c_key[i]);
		if (n + len + 2 > size)
			errx(1, "%s: line %ld: key longer than %zu bytes",
			    csvin_name(st->in), csvin_line(st->in), size - 2);
		if (i > 0)
			buf[n++] = '\037';
		memcpy(buf + n, csvin_field(st->in, (size_t)st->c_key[i]), len);
		n += len;
	}
	buf[n] = '\0';
}

static int
read_row(struct state *st)
{
	char key[1024];
	ts_us t;

	if (ts_parse(csvin_field(st->in, (size_t)st->c_time), &t) < 0) {
		csvin_field_error(st->in, (size_t)st->c_time, "not a time");
		return -1;
	}
	if (st->nsums > 0)
		flush_summaries(st, t);
	row_key(st, key, sizeof key);
	for (int i = 0; i < st->opt->nvalues; i++) {
		double v;
		if (csvin_double(st->in, (size_t)st->c_value[i], &v) < 0)
			return -1;
		take(st, series_get(&st->map, key, i), t, v);
	}
	return 0;
}

/* Series that never filled a window: how many, and the longest. */
struct short_series {
	long n, all;
	double longest;         /* seconds */
};

static void
count_short(const struct series *s, void *arg)
{
	struct short_series *sh = arg;
	ts_us last = s->rate > 0 ? s->last_t : s->probe_t[s->nprobe - 1];
	double span = ts_to_sec(last - s->first_t);

	sh->all++;
	if (s->windows > 0)
		return;
	sh->n++;
	if (span > sh->longest)
		sh->longest = span;
}

/* Said at the end when no series filled a window, so that input too
 * short for one is not taken for a quiet machine (a header and nothing
 * else, status 0). Points that lived a few frames beside ones that
 * filled windows are tracking as usual: not said. */
static void
say_short(struct state *st)
{
	struct short_series sh = { 0, 0, 0 };

	series_map_each(&st->map, count_short, &sh);
	if (sh.n > 0 && sh.n == sh.all && st->late > 0)
		warnx("%s: no series filled a window of %g s: is the input in "
		    "time order?", csvin_name(st->in), st->opt->window);
	else if (sh.n > 0 && sh.n == sh.all)
		warnx("%s: no series filled a window of %g s (%ld series, the "
		    "longest %.2f s long): give a shorter --window",
		    csvin_name(st->in), st->opt->window, sh.all, sh.longest);
}

static int
run(struct state *st)
{
	int rc;

	if (csvin_header(st->in) < 0) {
		warnx("%s", csvin_error(st->in));
		return 1;
	}
	if (find_columns(st) < 0)
		return 1;
	write_header(st);
	/* Parsing is most of the reading: let it run beside the transforms. */
	csvin_background(st->in);
	while ((rc = csvin_read(st->in)) > 0) {
		if (read_row(st) < 0) {
			rc = -1;
			break;
		}
		cli_progress(&st->progress, 0, "%ld rows, %zu series", ++st->rows,
		    st->map.map.count);
		/* Flush what a row completed, so a pipe sees each window's
		 * peaks as they are found. */
		if (st->emitted) {
			fflush(stdout);
			cli_check_write(stdout, "stdout");
			st->emitted = 0;
		}
	}
	if (st->progress.drawn)
		cli_progress(&st->progress, 1, "%ld rows, %zu series", st->rows,
		    st->map.map.count);
	cli_progress_end(&st->progress);
	if (rc == 0)
		flush_summaries(st, INT64_MAX);
	if (rc < 0)
		warnx("%s", csvin_error(st->in));
	if (st->late > 0)
		warnx("%s: samples out of time order, skipped: %ld",
		    csvin_name(st->in), st->late);
	if (rc == 0)
		say_short(st);
	return rc < 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static char def_keys[] = "src,roi,pt", def_values[] = "dx,dy";
	struct options o = { .window = 10, .hop = 1, .fn = FN_HANN,
		.peaks = 3, .time_col = "ts" };
	struct state st = { .opt = &o };
	const char *name = "stdin";
	FILE *fp = stdin;
	int status;

	cli_init(argv);
	parse_args(argc, argv, &o);
	if (o.nkeys == 0)
		o.nkeys = split_cols("--key", def_keys, o.keys);
	if (o.nvalues == 0)
		o.nvalues = split_cols("--value", def_values, o.values);
	if (optind < argc && (fp = cli_open(argv[optind], &name)) == NULL)
		return 1;
	st.in = csvin_new(fp, name);
	cli_progress_init(&st.progress, fileno(fp));
	csvout_init(&st.out, stdout);
	series_map_init(&st.map);
	status = run(&st);
	for (int i = 0; i < st.nan; i++)
		analyzer_free(&st.an[i]);
	series_map_free(&st.map);
	csvin_free(st.in);
	free(st.linear);
	free(st.median);
	free(st.column);
	for (int i = 0; i < st.nsums; i++) {
		free(st.sums[i].region);
		free(st.sums[i].spec);
	}
	free(st.sums);
	fftw_cleanup();
	return cli_finish(status);
}
