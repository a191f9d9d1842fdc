/*
 * rollup: downsampled series kept in the store, brought up to date
 * incrementally.
 *
 *   tsstore rollup --series GLOB --step DUR --agg LIST   define one
 *   tsstore rollup --series GLOB --step DUR --forget     drop it
 *   tsstore rollup --list                                the definitions
 *   tsstore rollup [-v]                                  bring them up to date
 *
 * Series NAME rolled up at 1m with mean,max gives the series NAME@1m:mean
 * and NAME@1m:max, one point per bucket (aligned to the epoch, stamped
 * with its start), queried like any other. Every write to a series widens
 * its "dirty" range (one row per series, while any rollup is defined);
 * a run recomputes the buckets that range touches, from the raw points,
 * so late and corrected points are reflected, and a bucket still filling
 * is recomputed when more points arrive. Rollups outlive the raw points
 * that retain removes.
 */
#include <err.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "cli.h"
#include "csvio.h"
#include "cursor.h"
#include "strmap.h"
#include "tsstore.h"
#include "writer.h"
#include "xalloc.h"

struct def {
	char *pattern;
	ts_us step;
	enum agg aggs[A_NAGG];
	int naggs, need_all;
};

struct defs {
	struct def *d;
	size_t n, cap;
};

/* "1m", "10s", "1h", "1d", "500ms": the step as series names carry it. */
static void
step_name(ts_us step, char *buf, size_t size)
{
	static const struct { const char *unit; ts_us us; } units[] = {
		{ "d", INT64_C(86400000000) }, { "h", INT64_C(3600000000) },
		{ "m", 60000000 }, { "s", 1000000 }, { "ms", 1000 },
		{ "us", 1 },
	};

	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (step % units[i].us == 0) {
			snprintf(buf, size, "%lld%s",
			    (long long)(step / units[i].us), units[i].unit);
			return;
		}
}

static int
take_def(const char *pattern, ts_us step, const char *aggs, void *arg)
{
	struct defs *ds = arg;
	struct def *d;
	const char *bad;
	int badlen;

	if (ds->n == ds->cap) {
		ds->cap = ds->cap * 2 + 8;
		ds->d = xreallocarray(ds->d, ds->cap, sizeof *ds->d);
	}
	d = &ds->d[ds->n];
	d->naggs = agg_parse_list(aggs, d->aggs, &bad, &badlen);
	if (d->naggs < 0) {
		warnx("rollup %s: unknown aggregate '%.*s' (skipped)", pattern,
		    badlen, bad);
		return 0;
	}
	d->pattern = xstrdup(pattern);
	d->step = step;
	d->need_all = 0;
	for (int i = 0; i < d->naggs; i++)
		d->need_all |= d->aggs[i] == A_P95;
	ds->n++;
	return 0;
}

/* The buckets' aggregates, one array of points per aggregate. */
struct outputs {
	struct tspoint *p[A_NAGG];
	size_t n, cap;
};

static void
emit_bucket(struct outputs *o, const struct def *d, struct bucket *b,
    ts_us t)
{
	char text[DECVAL_BUFSZ];

	if (o->n == o->cap) {
		o->cap = o->cap * 2 + 64;
		for (int k = 0; k < d->naggs; k++)
			o->p[k] = xreallocarray(o->p[k], o->cap,
			    sizeof *o->p[k]);
	}
	for (int k = 0; k < d->naggs; k++) {
		agg_format(b, d->aggs[k], text);
		o->p[k][o->n].t = t;
		if (decval_parse(text, strlen(text), &o->p[k][o->n].v) < 0)
			o->p[k][o->n].v = (struct decval){ 0, 0, 0 };
	}
	o->n++;
}

/* Recompute def's buckets of series id over [t0, t1] and store them. */
static int
roll_range(struct store *st, long long id, const char *name,
    const struct def *d, ts_us t0, ts_us t1)
{
	struct outputs o = { 0 };
	struct bucket b = { 0 };
	struct cursor c;
	struct tspoint p;
	ts_us cur = 0;
	char out[1024], step[32];
	int rc;

	cursor_init(&c, st, id, bucket_of(t0, d->step),
	    bucket_of(t1, d->step) + d->step);
	while ((rc = cursor_next(&c, &p)) > 0) {
		ts_us bt = bucket_of(p.t, d->step);
		if (b.count > 0 && bt != cur) {
			emit_bucket(&o, d, &b, cur);
			b.count = 0;
		}
		cur = bt;
		bucket_add(&b, &p.v, d->need_all);
	}
	cursor_free(&c);
	if (rc == 0 && b.count > 0)
		emit_bucket(&o, d, &b, cur);
	step_name(d->step, step, sizeof step);
	for (int k = 0; rc == 0 && k < d->naggs && o.n > 0; k++) {
		long long oid;
		snprintf(out, sizeof out, "%s@%s:%s", name, step,
		    agg_names[d->aggs[k]]);
		rc = st->ops->series_id(st, out, 1, &oid);
		if (rc == 0)
			rc = store_merge(st, oid, o.p[k], o.n);
	}
	for (int k = 0; k < A_NAGG; k++)
		free(o.p[k]);
	free(b.all);
	return rc < 0 ? -1 : 0;
}

static int
remember_name(const struct series_info *si, void *arg)
{
	char key[32];

	snprintf(key, sizeof key, "%lld", si->id);
	*strmap_slot(arg, key) = xstrdup(si->name);
	return 0;
}

/* One dirty series per transaction, until none is left. */
static int
run(struct store *st, int verbose)
{
	struct defs ds = { 0 };
	struct strmap names;
	long long id, done = 0;
	ts_us t0, t1;
	int rc;

	strmap_init(&names);
	rc = st->ops->rollup_each(st, take_def, &ds);
	if (rc == 0)
		rc = st->ops->series_each(st, remember_name, &names);
	while (rc == 0 && (rc = st->ops->begin(st)) == 0 &&
	    (rc = st->ops->dirty_take(st, &id, &t0, &t1)) == 0) {
		char key[32];
		const char *name;
		snprintf(key, sizeof key, "%lld", id);
		if ((name = strmap_get(&names, key)) == NULL) {
			/* a series made since the run began */
			rc = st->ops->series_each(st, remember_name, &names);
			name = strmap_get(&names, key);
		}
		for (size_t i = 0; rc == 0 && name != NULL && i < ds.n; i++)
			if (fnmatch(ds.d[i].pattern, name, 0) == 0)
				rc = roll_range(st, id, name, &ds.d[i], t0, t1);
		if (rc == 0)
			rc = st->ops->commit(st);
		done++;
	}
	if (rc == 1)    /* nothing dirty: end the last transaction */
		rc = st->ops->commit(st);
	if (rc < 0) {
		warnx("%s", st->err);
		st->ops->rollback(st);
	} else if (verbose) {
		warnx("rollup: %lld series brought up to date", done);
	}
	for (size_t i = 0; i < ds.n; i++)
		free(ds.d[i].pattern);
	free(ds.d);
	strmap_free(&names, free);
	return rc;
}

struct backlog {
	struct store *st;
	const char *pattern;
};

/* A new definition covers what is already stored. */
static int
mark_all(const struct series_info *si, void *arg)
{
	struct backlog *bl = arg;

	if (si->points == 0 || strchr(si->name, '@') != NULL ||
	    fnmatch(bl->pattern, si->name, 0) != 0)
		return 0;
	return bl->st->ops->dirty_mark(bl->st, si->id, si->first, si->last) <
	    0 ? -1 : 0;
}

static int
define(struct store *st, const char *pattern, ts_us step, const char *aggs)
{
	struct backlog bl = { st, pattern };
	int rc = st->ops->begin(st);

	if (rc == 0)
		rc = st->ops->rollup_set(st, pattern, step, aggs);
	if (rc == 0 && aggs != NULL)
		rc = st->ops->series_each(st, mark_all, &bl);
	if (rc == 0)
		rc = st->ops->commit(st);
	if (rc < 0) {
		warnx("%s", st->err);
		st->ops->rollback(st);
	}
	return rc;
}

static int
list_def(const char *pattern, ts_us step, const char *aggs, void *arg)
{
	struct csv_out *out = arg;
	char buf[32];

	step_name(step, buf, sizeof buf);
	csvout_str(out, pattern);
	csvout_str(out, buf);
	csvout_str(out, aggs);
	csvout_end(out);
	return 0;
}

struct rollup_opts {
	struct common c;
	const char *pattern, *aggs;
	ts_us step;
	int forget, list, verbose;
};

static void
check_rollup_options(const struct rollup_opts *o)
{
	enum agg parsed[A_NAGG];
	const char *bad;
	int badlen;

	if (o->pattern != NULL && (o->step == 0 || (o->aggs == NULL) ==
	    !o->forget))
		cli_usage_error("--series goes with --step and one of --agg "
		    "LIST and --forget");
	if (o->pattern == NULL && (o->step != 0 || o->aggs != NULL ||
	    o->forget))
		cli_usage_error("--step, --agg and --forget go with --series");
	if (o->pattern != NULL && strchr(o->pattern, '@') != NULL)
		cli_usage_error("--series: rollups are not rolled up again: "
		    "'%s'", o->pattern);
	if (o->aggs != NULL && agg_parse_list(o->aggs, parsed, &bad,
	    &badlen) < 0)
		cli_usage_error("--agg: not one of mean, min, max, first, last, "
		    "count, sum, p95: '%.*s'", badlen, bad);
}

static void
parse_rollup_options(int argc, char **argv, struct rollup_opts *o)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "series", required_argument, NULL, 's' },
		{ "step", required_argument, NULL, 'S' },
		{ "agg", required_argument, NULL, 'a' },
		{ "forget", no_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (common_option(&o->c, opt, optarg))
			continue;
		switch (opt) {
		case 's': o->pattern = optarg; break;
		case 'S':
			if (ts_parse_duration(optarg, &o->step) < 0 ||
			    o->step <= 0)
				cli_usage_error("--step: not a duration above "
				    "zero: '%s'", optarg);
			break;
		case 'a': o->aggs = optarg; break;
		case 'f': o->forget = 1; break;
		case 'l': o->list = 1; break;
		case 'v': o->verbose = 1; break;
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	check_rollup_options(o);
}

int
cmd_rollup(int argc, char **argv)
{
	static const char *const header[] = { "series", "step", "agg" };
	struct rollup_opts o = { .c = { 0 } };
	struct store *st;
	struct csv_out out;
	int rc;

	parse_rollup_options(argc, argv, &o);
	st = common_open(&o.c, STORE_OPEN);
	if (o.pattern != NULL) {
		rc = define(st, o.pattern, o.step, o.forget ? NULL : o.aggs);
	} else if (o.list) {
		csvout_init(&out, stdout);
		csvout_row(&out, 3, header);
		if ((rc = st->ops->rollup_each(st, list_def, &out)) < 0)
			warnx("%s", st->err);
	} else {
		rc = run(st, o.verbose);
	}
	st->ops->close(st);
	return rc < 0 ? 1 : 0;
}
