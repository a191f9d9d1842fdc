/*
 * Tags: a plant's names for its series (KKS codes, equipment, area), kept
 * beside them so that a query can select by them: --where area=tankfarm.
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
#include "xalloc.h"

/* One tag row: series, then tag columns; an empty cell removes the tag. */
static int
tag_row(struct store *st, struct csv_in *in, int c_series)
{
	long long id;

	if (csvin_field_len(in, (size_t)c_series) == 0)
		return csvin_field_error(in, (size_t)c_series,
		    "empty series name");
	if (st->ops->series_id(st, csvin_field(in, (size_t)c_series), 1,
	    &id) < 0)
		return -2;
	for (size_t c = 0; c < csvin_ncols(in); c++) {
		const char *v = csvin_field(in, c);
		if ((int)c == c_series)
			continue;
		if (st->ops->tag_set(st, id, csvin_colname(in, c),
		    *v != '\0' ? v : NULL) < 0)
			return -2;
	}
	return 0;
}

/* A whole file in one transaction: all of its tags or none. */
static int
load_tags(struct store *st, FILE *fp, const char *name)
{
	struct csv_in *in = csvin_new(fp, name);
	int c_series, rc = -1;
	long rows = 0;

	if (csvin_header(in) < 0) {
		warnx("%s", csvin_error(in));
	} else if ((c_series = csvin_col(in, "series")) < 0) {
		warnx("%s: no column \"series\" (a tag file has series and "
		    "one column per tag)", name);
	} else if (st->ops->begin(st) == 0) {
		while ((rc = csvin_read(in)) > 0 &&
		    (rc = tag_row(st, in, c_series)) == 0)
			rows++;
		if (rc == -1)
			warnx("%s", csvin_error(in));
		else if (rc == -2)
			warnx("%s", st->err);
		if (rc == 0 && st->ops->commit(st) < 0) {
			warnx("%s", st->err);
			rc = -1;
		}
		if (rc < 0) {
			st->ops->rollback(st);
			warnx("%s: no tags stored", name);
		}
	} else {
		warnx("%s", st->err);
	}
	csvin_free(in);
	return rc < 0 ? -1 : 0;
}

static int
load_one(FILE *fp, const char *name, void *st)
{
	return load_tags(st, fp, name) < 0 ? -1 : 0;
}

int
cmd_tag(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	struct common c = { 0 };
	struct store *st;
	int opt, status = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		common_option(&c, opt, optarg);
	st = common_open(&c, STORE_CREATE);
	status = cli_each_input(argc - optind, argv + optind, load_one, st);
	st->ops->close(st);
	return status;
}

struct tag_text {
	char *buf;
	size_t len, cap;
};

static int
append_tag(const char *key, const char *value, void *arg)
{
	struct tag_text *t = arg;
	size_t need = t->len + strlen(key) + strlen(value) + 3;

	if (need > t->cap) {
		t->cap = need * 2;
		t->buf = xreallocarray(t->buf, t->cap, 1);
	}
	t->len += (size_t)sprintf(t->buf + t->len, "%s%s=%s",
	    t->len > 0 ? ";" : "", key, value);
	return 0;
}

char *
series_tags(struct store *st, long long id)
{
	struct tag_text t = { xstrdup(""), 0, 1 };

	if (st->ops->tags_each(st, id, append_tag, &t) < 0) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

struct where_check {
	const char *cond;       /* "key=glob" */
	size_t keylen;
	int found;
};

static int
check_tag(const char *key, const char *value, void *arg)
{
	struct where_check *w = arg;

	if (strlen(key) != w->keylen || strncmp(key, w->cond, w->keylen) != 0)
		return 0;
	w->found = fnmatch(w->cond + w->keylen + 1, value, 0) == 0;
	return 1;
}

int
series_where(struct store *st, long long id, char *const *where, int n)
{
	for (int i = 0; i < n; i++) {
		struct where_check w = { where[i], strcspn(where[i], "="), 0 };
		if (st->ops->tags_each(st, id, check_tag, &w) < 0)
			return -1;
		if (!w.found)
			return 0;
	}
	return 1;
}

const char *
where_option(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		cli_usage_error("--where: not KEY=VALUE: '%s'", arg);
	return arg;
}
