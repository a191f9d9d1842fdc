/*
 * query: points of the selected series in [--from, --to), as they were
 * ingested or aggregated in --step buckets aligned to the Unix epoch (so
 * 1h buckets start on the hour, 1d at midnight UTC). Long form by default,
 * one series after the other; --wide puts one column per series, ready
 * for gnuplot, with an empty cell where a series has no point.
 */
#include <err.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "agg.h"
#include "cursor.h"
#include "tschunk.h"
#include "tsstore.h"
#include "xalloc.h"

struct query_opts {
	char **globs, **where;
	int nglobs, nwhere;
	ts_us from, to, step;   /* step 0: the points themselves */
	enum agg aggs[A_NAGG];
	int naggs;
	int need_all;           /* an aggregate needs every value (p95) */
	int wide, iso;
};

/* A series as the output sees it: a time and its cells, row by row. */
struct source {
	const char *name;
	struct cursor cur;
	struct tspoint pt;      /* the cursor's next point */
	int have_pt;
	ts_us t;                /* this row's time */
	char cells[A_NAGG][DECVAL_BUFSZ];
	int have;               /* a row is ready */
};

/* The next row of a source: a point, or a whole bucket. 1, 0, -1. */
static int
source_next(struct source *s, const struct query_opts *o,
    struct bucket *b)
{
	int rc;

	if (!s->have_pt) {
		if ((rc = cursor_next(&s->cur, &s->pt)) <= 0)
			return rc;
		s->have_pt = 1;
	}
	if (o->step == 0) {
		s->t = s->pt.t;
		decval_format(s->pt.v, s->cells[0]);
		s->have_pt = 0;
		return 1;
	}
	s->t = bucket_of(s->pt.t, o->step);
	b->count = 0;
	do {
		bucket_add(b, &s->pt.v, o->need_all);
		s->have_pt = 0;
		if ((rc = cursor_next(&s->cur, &s->pt)) < 0)
			return -1;
		s->have_pt = rc;
	} while (s->have_pt && bucket_of(s->pt.t, o->step) == s->t);
	for (int i = 0; i < o->naggs; i++)
		agg_format(b, o->aggs[i], s->cells[i]);
	return 1;
}

static void
write_header(struct csv_out *out, const struct query_opts *o,
    const struct source *src, size_t nsrc)
{
	char name[1024];
	int n = o->step == 0 ? 1 : o->naggs;

	csvout_str(out, "ts");
	if (!o->wide) {
		csvout_str(out, "series");
		for (int i = 0; i < n; i++)
			csvout_str(out, n == 1 ? "value" :
			    agg_names[o->aggs[i]]);
	}
	for (size_t k = 0; o->wide && k < nsrc; k++)
		for (int i = 0; i < n; i++) {
			if (n == 1)
				csvout_str(out, src[k].name);
			else {
				snprintf(name, sizeof name, "%s:%s",
				    src[k].name, agg_names[o->aggs[i]]);
				csvout_str(out, name);
			}
		}
	csvout_end(out);
}

/* One series after the other. */
static int
write_long(struct csv_out *out, const struct query_opts *o,
    struct source *src, size_t nsrc, struct bucket *b)
{
	int n = o->step == 0 ? 1 : o->naggs, rc = 0;

	for (size_t k = 0; k < nsrc && rc >= 0; k++)
		while ((rc = source_next(&src[k], o, b)) > 0) {
			csvout_time(out, src[k].t, o->iso);
			csvout_str(out, src[k].name);
			for (int i = 0; i < n; i++)
				csvout_str(out, src[k].cells[i]);
			csvout_end(out);
			cli_check_write(stdout, "stdout");
		}
	return rc;
}

/* A row per time any series has, a column per series. */
static int
write_wide(struct csv_out *out, const struct query_opts *o,
    struct source *src, size_t nsrc, struct bucket *b)
{
	int n = o->step == 0 ? 1 : o->naggs;

	for (size_t k = 0; k < nsrc; k++) {
		int rc = source_next(&src[k], o, b);
		if (rc < 0)
			return -1;
		src[k].have = rc;
	}
	for (;;) {
		ts_us t = INT64_MAX;
		int any = 0;
		for (size_t k = 0; k < nsrc; k++)
			if (src[k].have && (!any || src[k].t < t))
				t = src[k].t, any = 1;
		if (!any)
			return 0;
		csvout_time(out, t, o->iso);
		for (size_t k = 0; k < nsrc; k++) {
			int here = src[k].have && src[k].t == t, rc;
			for (int i = 0; i < n; i++)
				csvout_str(out, here ? src[k].cells[i] : "");
			if (!here)
				continue;
			if ((rc = source_next(&src[k], o, b)) < 0)
				return -1;
			src[k].have = rc;
		}
		csvout_end(out);
		cli_check_write(stdout, "stdout");
	}
}

struct selection {
	const struct query_opts *o;
	struct source *src;
	size_t n, cap;
	struct store *st;
};

static int
select_series(const struct series_info *si, void *arg)
{
	struct selection *s = arg;
	struct source *src;
	int rc;

	if (!series_selected(s->o->globs, s->o->nglobs, si->name))
		return 0;
	if ((rc = series_where(s->st, si->id, s->o->where, s->o->nwhere)) <= 0)
		return rc;
	if (s->n == s->cap) {
		s->cap = s->cap * 2 + 16;
		s->src = xreallocarray(s->src, s->cap, sizeof *s->src);
	}
	src = &s->src[s->n++];
	memset(src, 0, sizeof *src);
	src->name = xstrdup(si->name);
	cursor_init(&src->cur, s->st, si->id, s->o->from, s->o->to);
	return 0;
}

static void
parse_aggs(struct query_opts *o, const char *list)
{
	const char *bad;
	int badlen;

	o->naggs = agg_parse_list(list, o->aggs, &bad, &badlen);
	if (o->naggs < 0)
		cli_usage_error("--agg: not one of mean, min, max, first, last, "
		    "count, sum, p95: '%.*s'", badlen, bad);
	o->need_all = 0;
	for (int i = 0; i < o->naggs; i++)
		o->need_all |= o->aggs[i] == A_P95;
}

static ts_us
parse_when(const char *opt, const char *arg)
{
	ts_us t;

	if (ts_parse_when(arg, ts_now(), &t) < 0)
		cli_usage_error("%s: not a time (Unix seconds, RFC 3339, now "
		    "or -DURATION): '%s'", opt, arg);
	return t;
}

static void
parse_options(int argc, char **argv, struct common *c, struct query_opts *o)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "series", required_argument, NULL, 's' },
		{ "where", required_argument, NULL, 'W' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "step", required_argument, NULL, 'S' },
		{ "agg", required_argument, NULL, 'a' },
		{ "wide", no_argument, NULL, 'w' },
		{ "iso", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 } };
	const char *aggs = NULL;
	int opt;

	o->globs = xcalloc((size_t)argc, sizeof *o->globs);
	o->where = xcalloc((size_t)argc, sizeof *o->where);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (common_option(c, opt, optarg))
			continue;
		switch (opt) {
		case 's': o->globs[o->nglobs++] = optarg; break;
		case 'W': o->where[o->nwhere++] = (char *)where_option(optarg);
			break;
		case 'f': o->from = parse_when("--from", optarg); break;
		case 't': o->to = parse_when("--to", optarg); break;
		case 'S':
			if (ts_parse_duration(optarg, &o->step) < 0 ||
			    o->step <= 0)
				cli_usage_error("--step: not a duration above "
				    "zero: '%s'", optarg);
			break;
		case 'a': aggs = optarg; break;
		case 'w': o->wide = 1; break;
		case 'I': o->iso = 1; break;
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	if (aggs != NULL && o->step == 0)
		cli_usage_error("--agg goes with --step");
	parse_aggs(o, aggs != NULL ? aggs : "mean");
	if (o->from >= o->to)
		cli_usage_error("--from is not before --to");
}

/* A query that selects nothing (a series name mistyped, a site that has
 * not shipped yet) writes a bare header, which a forecast or an alert
 * rule downstream would take for quiet: said, naming what was asked. */
static void
say_nothing_selected(const struct common *c, const struct query_opts *o)
{
	char asked[512] = "";
	size_t len = 0;

	for (int i = 0; i < o->nglobs && len < sizeof asked; i++)
		len += (size_t)snprintf(asked + len, sizeof asked - len,
		    " --series '%s'", o->globs[i]);
	for (int i = 0; i < o->nwhere && len < sizeof asked; i++)
		len += (size_t)snprintf(asked + len, sizeof asked - len,
		    " --where %s", o->where[i]);
	warnx("%s: no series matches%s", c->db, len > 0 ? asked :
	    " (the store holds none)");
}

int
cmd_query(int argc, char **argv)
{
	struct common c = { 0 };
	struct query_opts o = { .from = INT64_MIN, .to = INT64_MAX };
	struct selection sel = { .o = &o };
	struct bucket b = { 0 };
	struct csv_out out;
	int rc;

	parse_options(argc, argv, &c, &o);
	sel.st = common_open(&c, STORE_OPEN);
	rc = sel.st->ops->series_each(sel.st, select_series, &sel);
	if (rc == 0 && sel.n == 0)
		say_nothing_selected(&c, &o);
	if (rc == 0) {
		csvout_init(&out, stdout);
		write_header(&out, &o, sel.src, sel.n);
		rc = o.wide ? write_wide(&out, &o, sel.src, sel.n, &b) :
		    write_long(&out, &o, sel.src, sel.n, &b);
	}
	if (rc < 0)
		warnx("%s", sel.st->err);
	for (size_t k = 0; k < sel.n; k++) {
		free((char *)sel.src[k].name);
		cursor_free(&sel.src[k].cur);
	}
	free(sel.src);
	free(b.all);
	free(o.globs);
	free(o.where);
	sel.st->ops->close(sel.st);
	return rc < 0 ? 1 : 0;
}
