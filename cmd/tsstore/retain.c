/*
 * retain: retention policies, kept in the store, applied from cron.
 *
 *   tsstore retain --series GLOB --keep DUR    set a policy
 *   tsstore retain --series GLOB --forget      drop it
 *   tsstore retain --list                      the policies, as CSV
 *   tsstore retain [--now TIME] [-v]           apply them
 *
 * A series that several patterns match keeps the longest of their times:
 * a policy never removes what another one keeps. A series no pattern
 * matches is kept whole.
 */
#include <err.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "tsstore.h"
#include "writer.h"
#include "xalloc.h"

struct policy {
	char *pattern;
	ts_us keep;
};

struct policies {
	struct policy *p;
	size_t n, cap;
};

static int
take_policy(const char *pattern, ts_us keep, void *arg)
{
	struct policies *ps = arg;

	if (ps->n == ps->cap) {
		ps->cap = ps->cap * 2 + 8;
		ps->p = xreallocarray(ps->p, ps->cap, sizeof *ps->p);
	}
	ps->p[ps->n].pattern = xstrdup(pattern);
	ps->p[ps->n++].keep = keep;
	return 0;
}

/* The series to trim and their cutoffs, gathered before any change. */
struct trim {
	long long id;
	char *name;
	ts_us cutoff;
	long long removed;      /* points, with the partitions dropped */
};

struct plan {
	const struct policies *ps;
	ts_us now;
	struct trim *t;
	size_t n, cap;
};

static int
plan_series(const struct series_info *si, void *arg)
{
	struct plan *pl = arg;
	ts_us keep = -1;

	for (size_t i = 0; i < pl->ps->n; i++)
		if (fnmatch(pl->ps->p[i].pattern, si->name, 0) == 0 &&
		    pl->ps->p[i].keep > keep)
			keep = pl->ps->p[i].keep;
	if (keep < 0 || si->points == 0 || si->first >= pl->now - keep)
		return 0;
	if (pl->n == pl->cap) {
		pl->cap = pl->cap * 2 + 16;
		pl->t = xreallocarray(pl->t, pl->cap, sizeof *pl->t);
	}
	pl->t[pl->n].id = si->id;
	pl->t[pl->n].name = xstrdup(si->name);
	pl->t[pl->n].removed = 0;
	pl->t[pl->n++].cutoff = pl->now - keep;
	return 0;
}

static struct trim *
find_trim(struct plan *pl, long long id)
{
	for (size_t i = 0; i < pl->n; i++)
		if (pl->t[i].id == id)
			return &pl->t[i];
	return NULL;
}

/*
 * A partition whose every chunk is older than its series' cutoff goes
 * whole: no row is deleted. One with a chunk of a series kept longer (or
 * kept whole) stays, and its expired chunks go one by one after.
 */
static int
drop_expired(const char *part, const struct series_info *in, size_t n,
    void *arg)
{
	void **a = arg;
	struct store *st = a[0];
	struct plan *pl = a[1];
	const int *verbose = a[2];
	long long points = 0;

	for (size_t i = 0; i < n; i++) {
		struct trim *t = find_trim(pl, in[i].id);
		if (t == NULL || in[i].last >= t->cutoff)
			return 0;
		points += in[i].points;
	}
	if (n == 0 || st->ops->partition_drop(st, part) < 0)
		return n == 0 ? 0 : -1;
	for (size_t i = 0; i < n; i++)
		find_trim(pl, in[i].id)->removed += in[i].points;
	if (*verbose)
		warnx("retain: partition %s dropped (%lld points)", part,
		    points);
	return 0;
}

/* Each series in its own transaction: a long cron run never holds the
 * writers off for long. */
static int
apply(struct store *st, ts_us now, int verbose)
{
	struct policies ps = { 0 };
	struct plan pl = { .ps = &ps, .now = now };
	int rc = st->ops->policy_each(st, take_policy, &ps);

	void *arg[3] = { st, &pl, &verbose };

	if (rc == 0)
		rc = st->ops->series_each(st, plan_series, &pl);
	if (rc == 0 && pl.n > 0 && st->ops->partition_each != NULL)
		rc = st->ops->partition_each(st, drop_expired, arg);
	for (size_t i = 0; rc == 0 && i < pl.n; i++) {
		long long removed = 0;
		char buf[TS_BUFSZ];
		if ((rc = st->ops->begin(st)) < 0)
			break;
		rc = store_delete_before(st, pl.t[i].id, pl.t[i].cutoff,
		    &removed);
		if (rc == 0)
			rc = st->ops->commit(st);
		if (rc < 0)
			st->ops->rollback(st);
		else if (verbose)
			warnx("retain: %s: %lld points before %s removed",
			    pl.t[i].name, removed + pl.t[i].removed,
			    ts_format_rfc3339(pl.t[i].cutoff, buf));
	}
	if (rc < 0)
		warnx("%s", st->err);
	for (size_t i = 0; i < pl.n; i++)
		free(pl.t[i].name);
	for (size_t i = 0; i < ps.n; i++)
		free(ps.p[i].pattern);
	free(pl.t);
	free(ps.p);
	return rc;
}

static int
list_policy(const char *pattern, ts_us keep, void *arg)
{
	struct csv_out *out = arg;
	char buf[64];

	csvout_str(out, pattern);
	snprintf(buf, sizeof buf, "%llds", (long long)(keep / TS_US_PER_S));
	csvout_str(out, buf);
	csvout_end(out);
	return 0;
}

struct retain_opts {
	struct common c;
	const char *pattern;
	ts_us keep, now;
	int forget, list, verbose;
};

static void
parse_retain_options(int argc, char **argv, struct retain_opts *o)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "series", required_argument, NULL, 's' },
		{ "keep", required_argument, NULL, 'k' },
		{ "forget", no_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "now", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (common_option(&o->c, opt, optarg))
			continue;
		switch (opt) {
		case 's': o->pattern = optarg; break;
		case 'k':
			if (ts_parse_duration(optarg, &o->keep) < 0)
				cli_usage_error("--keep: not a duration (30d, "
				    "12h): '%s'", optarg);
			break;
		case 'f': o->forget = 1; break;
		case 'l': o->list = 1; break;
		case 'n':
			if (ts_parse_when(optarg, ts_now(), &o->now) < 0)
				cli_usage_error("--now: not a time: '%s'",
				    optarg);
			break;
		case 'v': o->verbose = 1; break;
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	if ((o->pattern != NULL) != (o->keep >= 0 || o->forget) ||
	    (o->keep >= 0 && o->forget))
		cli_usage_error("--series goes with one of --keep DUR and "
		    "--forget");
}

static int
list_policies(struct store *st)
{
	struct csv_out out;
	int rc;

	csvout_init(&out, stdout);
	csvout_str(&out, "series");
	csvout_str(&out, "keep");
	csvout_end(&out);
	if ((rc = st->ops->policy_each(st, list_policy, &out)) < 0)
		warnx("%s", st->err);
	return rc;
}

int
cmd_retain(int argc, char **argv)
{
	struct retain_opts o = { .keep = -1, .now = ts_now() };
	struct store *st;
	int rc;

	parse_retain_options(argc, argv, &o);
	st = common_open(&o.c, STORE_OPEN);
	if (o.pattern != NULL) {
		rc = st->ops->policy_set(st, o.pattern, o.forget ? -1 : o.keep);
		if (rc < 0)
			warnx("%s", st->err);
	} else if (o.list) {
		rc = list_policies(st);
	} else {
		rc = apply(st, o.now, o.verbose);
	}
	st->ops->close(st);
	return rc < 0 ? 1 : 0;
}
