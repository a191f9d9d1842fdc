/* The small commands: init, series, check. */
#include <err.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "tschunk.h"
#include "tsstore.h"
#include "xalloc.h"

/* A command with only the common options and no operands. */
static void
parse_common_only(struct common *c, int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		common_option(c, opt, optarg);
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
}

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "max-size", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 } };
	struct common c = { 0 };
	struct store *st;
	long long max = -1;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		if (!common_option(&c, opt, optarg) && opt == 'm')
			max = cli_bytes("--max-size", optarg);
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	st = common_open(&c, STORE_INIT);
	if (max >= 0 && (rc = st->ops->set_max_bytes(st, max)) < 0)
		warnx("%s", st->err);
	st->ops->close(st);
	return rc < 0 ? 1 : 0;
}

struct listing {
	struct store *st;
	char **globs, **where;
	int nglobs, nwhere;
	int iso;
	struct csv_out out;
};

int
series_selected(char *const *globs, int nglobs, const char *name)
{
	if (nglobs == 0)
		return 1;
	for (int i = 0; i < nglobs; i++)
		if (fnmatch(globs[i], name, 0) == 0)
			return 1;
	return 0;
}

static int
list_one(const struct series_info *si, void *arg)
{
	struct listing *l = arg;
	char *tags;
	int rc;

	if (!series_selected(l->globs, l->nglobs, si->name))
		return 0;
	if ((rc = series_where(l->st, si->id, l->where, l->nwhere)) <= 0)
		return rc;
	if ((tags = series_tags(l->st, si->id)) == NULL)
		return -1;
	csvout_str(&l->out, si->name);
	csvout_long(&l->out, si->points);
	if (si->points > 0) {
		csvout_time(&l->out, si->first, l->iso);
		csvout_time(&l->out, si->last, l->iso);
	} else {
		csvout_str(&l->out, "");
		csvout_str(&l->out, "");
	}
	csvout_long(&l->out, si->chunks);
	csvout_long(&l->out, si->bytes);
	csvout_str(&l->out, tags);
	csvout_end(&l->out);
	free(tags);
	cli_check_write(stdout, "stdout");
	return 0;
}

int
cmd_series(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "series", required_argument, NULL, 's' },
		{ "where", required_argument, NULL, 'W' },
		{ "iso", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 } };
	static const char *const header[] = { "series", "points", "first",
		"last", "chunks", "bytes", "tags" };
	struct common c = { 0 };
	struct listing l = { 0 };
	struct store *st;
	int opt, rc;

	l.globs = xcalloc((size_t)argc, sizeof *l.globs);
	l.where = xcalloc((size_t)argc, sizeof *l.where);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (common_option(&c, opt, optarg))
			continue;
		if (opt == 's')
			l.globs[l.nglobs++] = optarg;
		else if (opt == 'W')
			l.where[l.nwhere++] = (char *)where_option(optarg);
		else if (opt == 'I')
			l.iso = 1;
	}
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	st = l.st = common_open(&c, STORE_OPEN);
	csvout_init(&l.out, stdout);
	csvout_row(&l.out, 7, header);
	rc = st->ops->series_each(st, list_one, &l);
	if (rc < 0)
		warnx("%s", st->err);
	st->ops->close(st);
	free(l.globs);
	free(l.where);
	return rc < 0 ? 1 : 0;
}

/* A chunk that failed, kept to be named once the scan is over (the
 * backend's scan may not be interrupted by a lookup). */
struct damaged {
	struct chunk_row row;   /* without its data */
	const char *what;
};

struct checking {
	struct tspoint *p;
	size_t cap;
	long long series, chunks, points, unsummed, nseries;
	ts_us last_t1;
	struct damaged *bad;
	size_t nbad, capbad;
};

static int
check_chunk(const struct chunk_row *row, void *arg)
{
	struct checking *k = arg;
	const char *what = NULL;
	long n;

	if (row->series != k->series) {
		k->series = row->series;
		k->nseries++;
	} else if (row->t0 <= k->last_t1) {
		what = "overlaps the chunk before it";
	}
	k->last_t1 = row->t1;
	k->chunks++;
	if (what == NULL)
		what = chunk_points(row, &k->p, &k->cap, 0, &n);
	if (what == NULL) {
		k->points += n;
		k->unsummed += tschunk_checksum(row->data, row->len) == 0;
		return 0;
	}
	if (k->nbad == k->capbad) {
		k->capbad = k->capbad * 2 + 8;
		k->bad = xreallocarray(k->bad, k->capbad, sizeof *k->bad);
	}
	k->bad[k->nbad].row = *row;
	k->bad[k->nbad].row.data = NULL;
	k->bad[k->nbad++].what = what;
	return 0;
}

/* Each damaged chunk by its series' name and time range. */
static int
say_damaged(struct store *st, const struct checking *k)
{
	struct series_names sn = { 0 };
	char where[320];
	int rc = series_names_load(st, &sn);

	for (size_t i = 0; i < k->nbad; i++) {
		chunk_where(&sn, &k->bad[i].row, where, sizeof where);
		warnx("%s: %s %s", st->name, where, k->bad[i].what);
	}
	series_names_free(&sn);
	return rc;
}

int
cmd_check(int argc, char **argv)
{
	struct common c = { 0 };
	struct checking k = { 0 };
	struct store *st;
	int rc;

	parse_common_only(&c, argc, argv);
	st = common_open(&c, STORE_OPEN);
	k.series = -1;
	rc = st->ops->integrity(st);
	if (rc < 0)
		warnx("%s", st->err);
	else if ((rc = st->ops->chunk_each(st, check_chunk, &k)) < 0)
		warnx("%s", st->err);
	else if ((rc = say_damaged(st, &k)) < 0)
		warnx("%s", st->err);
	if (rc == 0 && k.nbad == 0)
		printf("%s: ok: %lld series, %lld chunks, %lld points\n",
		    st->name, k.nseries, k.chunks, k.points);
	else if (rc == 0)
		warnx("%s: %zu of %lld chunks damaged", st->name, k.nbad,
		    k.chunks);
	if (rc == 0 && k.unsummed > 0)
		warnx("%s: chunks without a checksum: %lld (written before "
		    "tsstore had them; a chunk gets one when written again)",
		    st->name, k.unsummed);
	free(k.p);
	free(k.bad);
	st->ops->close(st);
	return rc < 0 || k.nbad > 0 ? 1 : 0;
}

int
cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	struct common c = { 0 };
	struct store *st;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		common_option(&c, opt, optarg);
	if (optind != argc - 1)
		cli_usage_error("backup: give one destination file");
	st = common_open(&c, STORE_OPEN);
	if ((rc = st->ops->backup(st, argv[optind])) < 0)
		warnx("%s", st->err);
	st->ops->close(st);
	return rc < 0 ? 1 : 0;
}
