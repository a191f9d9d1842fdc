/*
 * ingest: series CSV (ts,series,value) or, with --wide, any CSV whose
 * series names come from a template over its columns, into the store.
 *
 * Points are written in batches, each one transaction: when --batch points
 * are waiting, when the oldest has waited --commit-every (a live pipe), at
 * the end of each file, and on SIGTERM or SIGINT. -v reports each commit;
 * a batch reported committed survives a crash. A bad row rejects its whole
 * batch (nothing of it is stored) unless --skip-bad.
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "csvio.h"
#include "num.h"
#include "stats.h"
#include "tsstore.h"
#include "writer.h"
#include "xalloc.h"

#define POLL_MS 500             /* how often a quiet input checks signals */
#define MAX_BAD_SHOWN 10
#define DEFAULT_BATCH 500000    /* points a transaction */
#define DEFAULT_COMMIT_S 5      /* the longest a point waits */

struct ingest_opts {
	const char *time_col, *template, *values;
	int wide, skip_bad, verbose, progress;
	size_t batch;
	double commit_every;    /* seconds */
	const char *stats;      /* --stats FILE or fd:N */
	ts_us stats_every;
};

/* --stats: the figures, by the wall clock (a quiet input's periods show
 * rows 0: a pipeline that stopped feeding the store) */
struct ingest_stats {
	struct stats *s;
	int rows, points, bad, commits, pending, lag;
	ts_us last_t;           /* the newest row's time */
	int any;                /* a row came */
};

/* --series: literal text and {column} references, alternating. */
struct part {
	const char *lit;        /* into the template */
	size_t litlen;
	int col;                /* -1: none; -2: {col}, the value's column */
};

struct ingest {
	const struct ingest_opts *opt;
	struct store *st;
	struct writer *w;
	struct csv_in *in;
	const char *name;
	int c_time, c_series, c_value;
	int *vcols;             /* --wide: the value columns */
	struct decval *vals;    /* ... and this row's values */
	size_t nv;
	struct part *parts;
	size_t nparts;
	char *buf;              /* a series name being built */
	size_t cap;
	long first_line, last_line;     /* the batch waiting */
	double batch_since;     /* monotonic seconds of its first row */
	long rows, skipped;
	long long points;
	int committed;          /* a batch of this input is stored */
	struct cli_progress progress;
	struct ingest_stats hs; /* hs.s NULL without --stats */
};

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

/* Split --series into parts; column names are looked up per input. */
static size_t
count_parts(const char *t)
{
	size_t n = 1;

	for (; *t; t++) {
		if (*t == '{') {
			const char *end = strchr(t, '}');
			if (end == NULL || end == t + 1)
				cli_usage_error("--series: '{' without a column "
				    "name and '}'");
			n++;
			t = end;
		} else if (*t == '}') {
			cli_usage_error("--series: '}' without '{'");
		}
	}
	return n;
}

static int
compile_template(struct ingest *g)
{
	const char *t = g->opt->template;
	char name[256];

	g->parts = xcalloc(count_parts(t), sizeof *g->parts);
	g->nparts = 0;
	while (*t) {
		struct part *p = &g->parts[g->nparts++];
		size_t lit = strcspn(t, "{");
		p->lit = t;
		p->litlen = lit;
		p->col = -1;
		t += lit;
		if (*t == '{') {
			size_t len = strcspn(t + 1, "}");
			snprintf(name, sizeof name, "%.*s", (int)len, t + 1);
			p->col = strcmp(name, "col") == 0 ? -2 :
			    csvin_col(g->in, name);
			if (p->col == -1) {
				warnx("%s: no column \"%s\" (named in --series)",
				    g->name, name);
				return -1;
			}
			t += len + 2;
		}
	}
	return 0;
}

static void
append(struct ingest *g, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > g->cap) {
		g->cap = (*len + n + 1) * 2;
		g->buf = xreallocarray(g->buf, g->cap, 1);
	}
	memcpy(g->buf + *len, s, n);
	*len += n;
	g->buf[*len] = '\0';
}

/* The series name for value column vcol of the current row. */
static const char *
series_name(struct ingest *g, int vcol)
{
	size_t len = 0;

	append(g, &len, "", 0);
	for (size_t i = 0; i < g->nparts; i++) {
		const struct part *p = &g->parts[i];
		append(g, &len, p->lit, p->litlen);
		if (p->col == -2)
			append(g, &len, csvin_colname(g->in, (size_t)vcol),
			    strlen(csvin_colname(g->in, (size_t)vcol)));
		else if (p->col >= 0)
			append(g, &len, csvin_field(g->in, (size_t)p->col),
			    csvin_field_len(g->in, (size_t)p->col));
	}
	return g->buf;
}

static int
is_template_col(const struct ingest *g, int col)
{
	for (size_t i = 0; i < g->nparts; i++)
		if (g->parts[i].col == col)
			return 1;
	return 0;
}

/* --values, or every column the time and the template do not use. */
static int
find_value_cols(struct ingest *g)
{
	size_t ncols = csvin_ncols(g->in);

	g->vcols = xcalloc(ncols, sizeof *g->vcols);
	free(g->vals);
	g->vals = xcalloc(ncols, sizeof *g->vals);
	g->nv = 0;
	if (g->opt->values == NULL) {
		for (size_t c = 0; c < ncols; c++)
			if ((int)c != g->c_time && !is_template_col(g, (int)c))
				g->vcols[g->nv++] = (int)c;
		return 0;
	}
	for (const char *v = g->opt->values; *v;) {
		size_t len = strcspn(v, ",");
		char name[256];
		int col;
		snprintf(name, sizeof name, "%.*s", (int)len, v);
		if ((col = csvin_col(g->in, name)) < 0) {
			warnx("%s: no column \"%s\" (named in --values)",
			    g->name, name);
			return -1;
		}
		if (g->nv < ncols)
			g->vcols[g->nv++] = col;
		v += len + (v[len] == ',');
	}
	return 0;
}

static int
find_columns(struct ingest *g)
{
	if ((g->c_time = csvin_col(g->in, g->opt->time_col)) < 0) {
		warnx("%s: no column \"%s\"%s", g->name, g->opt->time_col,
		    g->opt->wide ? "" : " (series CSV has ts,series,value)");
		return -1;
	}
	if (g->opt->wide)
		return compile_template(g) < 0 ? -1 : find_value_cols(g);
	g->c_series = csvin_col(g->in, "series");
	g->c_value = csvin_col(g->in, "value");
	if (g->c_series < 0 || g->c_value < 0) {
		warnx("%s: no column \"%s\" (series CSV has ts,series,value; "
		    "--wide takes any CSV)", g->name,
		    g->c_series < 0 ? "series" : "value");
		return -1;
	}
	return 0;
}

static int
parse_value(struct ingest *g, int col, struct decval *v)
{
	const char *f = csvin_field(g->in, (size_t)col);
	size_t len = csvin_field_len(g->in, (size_t)col);

	int status = decval_parse(f, len, v);

	if (status == 0)
		return 0;
	return csvin_field_error(g->in, (size_t)col, len == 0 ? "empty" :
	    num_error(status));
}

/* One row into the writer; -1 with csvin_error() set if it is bad. */
static int
take_row(struct ingest *g)
{
	ts_us t;
	size_t n = 0;

	if (ts_parse_n(csvin_field(g->in, (size_t)g->c_time),
	    csvin_field_len(g->in, (size_t)g->c_time), &t) < 0)
		return csvin_field_error(g->in, (size_t)g->c_time,
		    "not a time");
	if (!g->hs.any || t > g->hs.last_t)
		g->hs.last_t = t;
	g->hs.any = 1;
	if (!g->opt->wide) {
		if (csvin_field_len(g->in, (size_t)g->c_series) == 0)
			return csvin_field_error(g->in, (size_t)g->c_series,
			    "empty series name");
		if (parse_value(g, g->c_value, &g->vals[0]) < 0)
			return -1;
		writer_add(g->w, csvin_field(g->in, (size_t)g->c_series), t,
		    g->vals[0]);
		g->points++;
		return 0;
	}
	/* all of the row or none of it */
	for (size_t i = 0; i < g->nv; i++)
		if (csvin_field_len(g->in, (size_t)g->vcols[i]) > 0 &&
		    parse_value(g, g->vcols[i], &g->vals[n++]) < 0)
			return -1;
	n = 0;
	for (size_t i = 0; i < g->nv; i++)
		if (csvin_field_len(g->in, (size_t)g->vcols[i]) > 0) {
			writer_add(g->w, series_name(g, g->vcols[i]), t,
			    g->vals[n++]);
			g->points++;
		}
	return 0;
}

/* What a failed batch leaves out, for the operator who loads it again. */
static void
not_stored(const struct ingest *g)
{
	if (!g->committed)
		warnx("%s: nothing stored", g->name);
	else
		warnx("%s: lines %ld-%ld not stored (the lines before them "
		    "are)", g->name, g->first_line, g->last_line);
}

static int
commit(struct ingest *g)
{
	size_t np = writer_points(g->w), ns = writer_series(g->w);

	if (np == 0)
		return 0;
	if (writer_flush(g->w) < 0) {
		warnx("%s", g->st->err);
		not_stored(g);
		return -1;
	}
	g->committed = 1;
	if (g->hs.s != NULL) {
		stats_add(g->hs.s, g->hs.points, (double)np);
		stats_add(g->hs.s, g->hs.commits, 1);
	}
	if (g->opt->verbose)
		warnx("%s: lines %ld-%ld committed: %zu values in %zu series",
		    g->name, g->first_line, g->last_line, np, ns);
	g->first_line = 0;
	return 0;
}

static void
show_progress(struct ingest *g, int last)
{
	cli_progress(&g->progress, last, "%s: %ld rows, %lld points",
	    g->name, g->rows, g->points);
	if (last)
		cli_progress_end(&g->progress);
}

/* --stats: the periods up to now, with what waits and how old the newest
 * row is. */
static void
stats_now(struct ingest *g)
{
	ts_us now;

	if (g->hs.s == NULL)
		return;         /* no clock read per row without --stats */
	now = ts_now();
	stats_set(g->hs.s, g->hs.pending, (double)writer_points(g->w));
	if (g->hs.any)
		stats_set(g->hs.s, g->hs.lag, ts_to_sec(now - g->hs.last_t));
	stats_tick(g->hs.s, now);
}

/* Wait for input while a batch waits; commit it when it is due. */
static int
wait_for_input(struct ingest *g)
{
	for (;;) {
		stats_now(g);
		double due = g->batch_since + g->opt->commit_every - ts_elapsed();
		int ms = POLL_MS;
		if (writer_points(g->w) > 0 && (due <= 0 || stop_signal)) {
			if (commit(g) < 0)
				return -1;
			continue;
		}
		if (stop_signal)
			return 1;
		if (writer_points(g->w) > 0 && due * 1000 < ms)
			ms = (int)(due * 1000) + 1;
		if (csvin_wait(g->in, ms))
			return 0;
	}
}

static void
bad_row(struct ingest *g)
{
	if (g->hs.s != NULL)
		stats_add(g->hs.s, g->hs.bad, 1);
	if (g->opt->skip_bad && ++g->skipped > MAX_BAD_SHOWN)
		return;
	warnx("%s", csvin_error(g->in));
}

/* The rows of one opened input; 0, or -1 after a message. */
static int
ingest_rows(struct ingest *g)
{
	int rc;

	for (;;) {
		if ((rc = wait_for_input(g)) != 0)
			return rc < 0 ? -1 : 0;
		if ((rc = csvin_read(g->in)) <= 0)
			break;
		g->rows++;
		if (g->hs.s != NULL)
			stats_add(g->hs.s, g->hs.rows, 1);
		if (writer_points(g->w) == 0) {
			g->first_line = csvin_line(g->in);
			g->batch_since = ts_elapsed();
		}
		g->last_line = csvin_line(g->in);
		if (take_row(g) < 0) {
			bad_row(g);
			if (g->opt->skip_bad)
				continue;
			writer_discard(g->w);
			not_stored(g);
			return -1;
		}
		if (writer_points(g->w) >= g->opt->batch && commit(g) < 0)
			return -1;
		show_progress(g, 0);
	}
	if (rc < 0) {
		warnx("%s", csvin_error(g->in));
		writer_discard(g->w);
		if (g->first_line > 0)
			not_stored(g);
		return -1;
	}
	return commit(g);
}

/* One opened input; 0, or -1 after a message. */
static int
ingest_stream(struct ingest *g, FILE *fp, const char *name)
{
	int rc = -1;

	g->name = name;
	g->progress = (struct cli_progress){ 0 };
	if (g->opt->progress)
		cli_progress_init(&g->progress, fileno(fp));
	g->in = csvin_new(fp, g->name);
	g->rows = g->skipped = 0;
	g->points = 0;
	g->committed = 0;
	g->first_line = 0;
	if (csvin_header(g->in) < 0) {
		/* stopped (Ctrl-C on a pipe) before the first line came:
		 * nothing read, nothing to say */
		if (stop_signal)
			rc = 0;
		else
			warnx("%s", csvin_error(g->in));
	} else if (find_columns(g) == 0) {
		csvin_background(g->in);
		rc = ingest_rows(g);
	}
	show_progress(g, 1);
	if (g->skipped > 0)
		warnx("%s: skipped %ld bad row%s", g->name, g->skipped,
		    g->skipped == 1 ? "" : "s");
	csvin_free(g->in);
	free(g->parts);
	free(g->vcols);
	free(g->vals);
	g->parts = NULL;
	g->vcols = NULL;
	g->vals = xcalloc(1, sizeof *g->vals);
	return rc;
}

/* One input; after a signal, none more (what was read is committed: a
 * stop, not a failure). */
static int
ingest_file(FILE *fp, const char *name, void *g)
{
	if (ingest_stream(g, fp, name) < 0)
		return stop_signal ? -2 : -1;
	return stop_signal ? -3 : 0;
}

int
ingest_series_csv(struct store *st, FILE *fp, const char *name, int verbose)
{
	struct ingest_opts o = { .time_col = "ts", .template = "{col}",
		.batch = DEFAULT_BATCH, .commit_every = DEFAULT_COMMIT_S,
		.verbose = verbose,
		.progress = isatty(STDERR_FILENO) && !verbose };
	struct ingest g = { .opt = &o, .st = st };
	int rc;

	g.w = writer_new(st);
	g.vals = xcalloc(1, sizeof *g.vals);
	rc = ingest_stream(&g, fp, name);
	writer_free(g.w);
	free(g.vals);
	free(g.buf);
	return rc;
}

static void
parse_options(int argc, char **argv, struct common *c, struct ingest_opts *o)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "wide", no_argument, NULL, 'w' },
		{ "series", required_argument, NULL, 's' },
		{ "values", required_argument, NULL, 'V' },
		{ "time", required_argument, NULL, 't' },
		{ "skip-bad", no_argument, NULL, 'k' },
		{ "batch", required_argument, NULL, 'b' },
		{ "commit-every", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", required_argument, NULL, 'S' },
		{ "stats-every", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (common_option(c, opt, optarg))
			continue;
		switch (opt) {
		case 'w': o->wide = 1; break;
		case 's': o->template = optarg; break;
		case 'V': o->values = optarg; break;
		case 't': o->time_col = optarg; break;
		case 'k': o->skip_bad = 1; break;
		case 'b':
			o->batch = (size_t)cli_long("--batch", optarg, 1,
			    100000000);
			break;
		case 'c':
			o->commit_every = cli_seconds("--commit-every", optarg,
			    0.001, 86400);
			break;
		case 'v': o->verbose = 1; break;
		case 'S': o->stats = optarg; break;
		case 'E': o->stats_every = stats_period(optarg); break;
		}
	}
	if (!o->wide && (o->template != NULL || o->values != NULL))
		cli_usage_error("--series and --values go with --wide");
	if (o->template == NULL)
		o->template = "{col}";
	(void)count_parts(o->template);
}

/* The figures are named by the host: health/tsstore/HOST/rows. */
static void
open_stats(struct ingest_stats *st, const struct ingest_opts *o)
{
	st->s = stats_open(o->stats, "tsstore", NULL, o->stats_every);
	st->rows = stats_figure(st->s, "rows", STATS_COUNT);
	st->points = stats_figure(st->s, "points", STATS_COUNT);
	st->bad = stats_figure(st->s, "bad_rows", STATS_COUNT);
	st->commits = stats_figure(st->s, "commits", STATS_COUNT);
	st->pending = stats_figure(st->s, "pending", STATS_GAUGE);
	st->lag = stats_figure(st->s, "lag_s", STATS_GAUGE);
}

int
cmd_ingest(int argc, char **argv)
{
	struct common c = { 0 };
	struct ingest_opts o = { .time_col = "ts", .batch = DEFAULT_BATCH,
		.commit_every = DEFAULT_COMMIT_S };
	struct ingest g = { .opt = &o };
	struct sigaction sa = { .sa_handler = on_stop };
	int status = 0;

	parse_options(argc, argv, &c, &o);
	o.progress = isatty(STDERR_FILENO) && !o.verbose;
	g.st = common_open(&c, STORE_CREATE);
	g.w = writer_new(g.st);
	g.vals = xcalloc(1, sizeof *g.vals);
	if (o.stats != NULL)
		open_stats(&g.hs, &o);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	status = cli_each_input(argc - optind, argv + optind, ingest_file, &g);
	stats_now(&g);
	stats_close(g.hs.s);
	writer_free(g.w);
	free(g.vals);
	free(g.buf);
	g.st->ops->close(g.st);
	return status;
}
