/* store: the backend a store's name selects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "xalloc.h"

int
store_is_pg(const char *name)
{
	size_t key = strspn(name, "abcdefghijklmnopqrstuvwxyz_");

	if (strncmp(name, "postgresql://", 13) == 0 ||
	    strncmp(name, "postgres://", 11) == 0)
		return 1;
	/* libpq's keywords: "host=db1 dbname=vib", "service=control" */
	return key > 0 && name[key + strspn(name + key, " ")] == '=';
}

struct store *
store_open(const char *name, enum store_mode mode, int busy_ms, char *err,
    size_t errsz)
{
	if (store_is_pg(name))
		return store_pg_open(name, mode, busy_ms, err, errsz);
	return store_sqlite_open(name, mode, busy_ms, err, errsz);
}

void
chunk_row_free(struct chunk_row *row)
{
	free(row->data);
	row->data = NULL;
	row->len = row->cap = 0;
}

const char *
chunk_points(const struct chunk_row *row, struct tspoint **p, size_t *cap,
    size_t at, long *n)
{
	int sum = tschunk_checksum(row->data, row->len);

	*n = tschunk_count(row->data, row->len);
	if (sum < 0)
		return "fails its checksum (damaged on disk or on the way)";
	if (*n < 1 || *n != row->n)
		return "does not hold the count its row gives";
	if (at + (size_t)*n > *cap) {
		*cap = at + (size_t)*n > 2 * *cap ? at + (size_t)*n : 2 * *cap;
		*p = xreallocarray(*p, *cap, sizeof **p);
	}
	if (tschunk_decode(row->data, row->len, *p + at, (size_t)*n) != *n)
		return "does not decode";
	if ((*p)[at].t != row->t0 || (*p)[at + (size_t)*n - 1].t != row->t1)
		return "does not span the times its row gives";
	return NULL;
}

long
store_chunk_points(struct store *st, const struct chunk_row *row,
    struct tspoint **p, size_t *cap, size_t at)
{
	struct series_names sn = { 0 };
	char where[320];
	const char *what;
	long n;

	if ((what = chunk_points(row, p, cap, at, &n)) == NULL)
		return n;
	(void)series_names_load(st, &sn);
	chunk_where(&sn, row, where, sizeof where);
	series_names_free(&sn);
	snprintf(st->err, sizeof st->err, "%s: %s %s: not read (see tsstore "
	    "check)", st->name, where, what);
	return -1;
}

static int
add_name(const struct series_info *si, void *arg)
{
	struct series_names *sn = arg;

	if (sn->n == sn->cap) {
		sn->cap = sn->cap * 2 + 16;
		sn->v = xreallocarray(sn->v, sn->cap, sizeof *sn->v);
	}
	sn->v[sn->n].id = si->id;
	sn->v[sn->n++].name = xstrdup(si->name);
	return 0;
}

int
series_names_load(struct store *st, struct series_names *sn)
{
	return st->ops->series_each(st, add_name, sn);
}

void
chunk_where(const struct series_names *sn, const struct chunk_row *row,
    char *buf, size_t size)
{
	char from[TS_BUFSZ], to[TS_BUFSZ];
	const char *name = NULL;

	for (size_t i = 0; i < sn->n && name == NULL; i++)
		if (sn->v[i].id == row->series)
			name = sn->v[i].name;
	ts_format_rfc3339(row->t0, from);
	ts_format_rfc3339(row->t1, to);
	if (name != NULL)
		snprintf(buf, size, "series %s, chunk %s to %s (%ld points)",
		    name, from, to, row->n);
	else
		snprintf(buf, size, "series of id %lld (no name: its row is "
		    "missing), chunk %s to %s (%ld points)", row->series, from,
		    to, row->n);
}

void
series_names_free(struct series_names *sn)
{
	for (size_t i = 0; i < sn->n; i++)
		free(sn->v[i].name);
	free(sn->v);
	*sn = (struct series_names){ 0 };
}
