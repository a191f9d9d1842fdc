#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "writer.h"
#include "xalloc.h"

struct pending {
	char *name;
	struct tspoint *p;
	size_t n, cap;
	int unsorted;           /* a time came before the one added last */
	int active;             /* in the writer's list for this batch */
};

struct writer {
	struct store *st;
	struct strmap series;   /* name -> struct pending */
	struct pending **active;
	size_t nactive, capactive;
	size_t points;
};

struct writer *
writer_new(struct store *st)
{
	struct writer *w = xcalloc(1, sizeof *w);

	w->st = st;
	strmap_init(&w->series);
	return w;
}

static void
free_pending(void *v)
{
	struct pending *pd = v;

	free(pd->name);
	free(pd->p);
	free(pd);
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	strmap_free(&w->series, free_pending);
	free(w->active);
	free(w);
}

void
writer_add(struct writer *w, const char *series, ts_us t, struct decval v)
{
	void **slot = strmap_slot(&w->series, series);
	struct pending *pd = *slot;

	if (pd == NULL) {
		pd = *slot = xcalloc(1, sizeof *pd);
		pd->name = xstrdup(series);
	}
	if (!pd->active) {
		if (w->nactive == w->capactive) {
			w->capactive = w->capactive * 2 + 16;
			w->active = xreallocarray(w->active, w->capactive,
			    sizeof *w->active);
		}
		w->active[w->nactive++] = pd;
		pd->active = 1;
	}
	if (pd->n > 0 && t <= pd->p[pd->n - 1].t) {
		if (t == pd->p[pd->n - 1].t) {  /* the later row wins */
			pd->p[pd->n - 1].v = v;
			return;
		}
		pd->unsorted = 1;
	}
	if (pd->n == pd->cap) {
		pd->cap = pd->cap * 2 + 256;
		pd->p = xreallocarray(pd->p, pd->cap, sizeof *pd->p);
	}
	pd->p[pd->n].t = t;
	pd->p[pd->n].v = v;
	pd->n++;
	w->points++;
}

size_t
writer_points(const struct writer *w)
{
	return w->points;
}

size_t
writer_series(const struct writer *w)
{
	return w->nactive;
}

/* Stable merge sort by time: of two points at one time, the later read
 * stays later, so that dedupe() keeps it. */
static void
sort_points(struct tspoint *a, struct tspoint *tmp, size_t n)
{
	size_t m = n / 2, i = 0, j = m, k = 0;

	if (n < 2)
		return;
	sort_points(a, tmp, m);
	sort_points(a + m, tmp, n - m);
	while (i < m && j < n)
		tmp[k++] = a[j].t < a[i].t ? a[j++] : a[i++];
	while (i < m)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof *a);
}

/* One point per time, the last of each run; returns the new count. */
static size_t
dedupe(struct tspoint *a, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (k > 0 && a[k - 1].t == a[i].t)
			a[k - 1] = a[i];
		else
			a[k++] = a[i];
	}
	return k;
}

static void
clear_batch(struct writer *w)
{
	for (size_t i = 0; i < w->nactive; i++) {
		w->active[i]->n = 0;
		w->active[i]->unsorted = 0;
		w->active[i]->active = 0;
	}
	w->nactive = 0;
	w->points = 0;
}

void
writer_discard(struct writer *w)
{
	clear_batch(w);
}

static int
flush_series(struct writer *w, struct pending *pd)
{
	long long id;

	if (pd->unsorted) {
		struct tspoint *tmp = xreallocarray(NULL, pd->n, sizeof *tmp);
		sort_points(pd->p, tmp, pd->n);
		free(tmp);
		pd->n = dedupe(pd->p, pd->n);
	}
	if (w->st->ops->series_id(w->st, pd->name, 1, &id) < 0 ||
	    store_merge(w->st, id, pd->p, pd->n) < 0)
		return -1;
	/* rollups are not rolled up again */
	if (strchr(pd->name, '@') != NULL)
		return 0;
	return w->st->ops->dirty_mark(w->st, id, pd->p[0].t,
	    pd->p[pd->n - 1].t);
}

int
writer_flush(struct writer *w)
{
	struct store *st = w->st;

	if (w->points == 0)
		return 0;
	if (st->ops->begin(st) < 0) {
		clear_batch(w);
		return -1;
	}
	for (size_t i = 0; i < w->nactive; i++)
		if (flush_series(w, w->active[i]) < 0) {
			st->ops->rollback(st);
			clear_batch(w);
			return -1;
		}
	clear_batch(w);
	if (st->ops->commit(st) < 0) {
		st->ops->rollback(st);
		return -1;
	}
	return 0;
}

/* Points and the chunks they came from, gathered for a merge. */
struct gathered {
	struct tspoint *p;
	size_t n, cap;
	ts_us *t0;              /* chunks to delete */
	size_t nt0, capt0;
};

static int
gather(struct store *st, struct gathered *g, const struct chunk_row *row)
{
	long n = store_chunk_points(st, row, &g->p, &g->cap, g->n);

	if (n < 0)
		return -1;
	g->n += (size_t)n;
	if (g->nt0 == g->capt0) {
		g->capt0 = g->capt0 * 2 + 8;
		g->t0 = xreallocarray(g->t0, g->capt0, sizeof *g->t0);
	}
	g->t0[g->nt0++] = row->t0;
	return 0;
}

/*
 * The chunks that [a, b] touches: the one a falls in (or the last one
 * before a, if it has room to fill), and every one that starts in (a, b].
 */
static int
gather_range(struct store *st, long long id, ts_us a, ts_us b,
    struct gathered *g)
{
	struct chunk_row row = { 0 };
	ts_us t = a;
	int rc = st->ops->chunk_seek(st, id, a, -1, &row);

	if (rc == 0 && (row.t1 >= a || row.n < TSCHUNK_POINTS))
		rc = gather(st, g, &row);
	while (rc >= 0 && (rc = st->ops->chunk_seek(st, id, t, 1, &row)) == 0 &&
	    row.t0 <= b) {
		rc = gather(st, g, &row);
		t = row.t0;
	}
	chunk_row_free(&row);
	return rc < 0 ? -1 : 0;
}

/* Both sorted, one point per time; at one time, p's point wins. */
static struct tspoint *
merge_points(const struct tspoint *old, size_t nold, const struct tspoint *p,
    size_t np, size_t *n)
{
	struct tspoint *m = xreallocarray(NULL, nold + np, sizeof *m);
	size_t i = 0, j = 0, k = 0;

	while (i < nold && j < np) {
		if (old[i].t < p[j].t)
			m[k++] = old[i++];
		else if (p[j].t < old[i].t)
			m[k++] = p[j++];
		else
			m[k++] = p[j++], i++;
	}
	while (i < nold)
		m[k++] = old[i++];
	while (j < np)
		m[k++] = p[j++];
	*n = k;
	return m;
}

static int
put_chunks(struct store *st, long long id, const struct tspoint *p, size_t n)
{
	for (size_t i = 0; i < n; i += TSCHUNK_POINTS) {
		size_t k = n - i < TSCHUNK_POINTS ? n - i : TSCHUNK_POINTS;
		struct chunk_row row = {
			.series = id, .t0 = p[i].t, .t1 = p[i + k - 1].t,
			.n = (long)k,
		};
		int rc;
		row.len = tschunk_encode(p + i, k, &row.data);
		rc = st->ops->chunk_put(st, &row);
		free(row.data);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
store_merge(struct store *st, long long id, const struct tspoint *p,
    size_t n)
{
	struct gathered g = { 0 };
	struct tspoint *m = NULL;
	size_t nm = 0;
	int rc;

	if (n == 0)
		return 0;
	rc = gather_range(st, id, p[0].t, p[n - 1].t, &g);
	for (size_t i = 0; rc == 0 && i < g.nt0; i++)
		rc = st->ops->chunk_delete(st, id, g.t0[i]);
	if (rc == 0 && g.n == 0)
		rc = put_chunks(st, id, p, n);
	else if (rc == 0) {
		m = merge_points(g.p, g.n, p, n, &nm);
		rc = put_chunks(st, id, m, nm);
	}
	free(m);
	free(g.p);
	free(g.t0);
	return rc;
}

/*
 * Remove the points of series id before cutoff: whole chunks go, the one
 * that straddles the cutoff is cut and written again. *removed counts the
 * points.
 */
int
store_delete_before(struct store *st, long long id, ts_us cutoff,
    long long *removed)
{
	struct chunk_row row = { 0 };
	struct tspoint *p = NULL;
	size_t cap = 0;
	int rc;

	*removed = 0;
	/* from the last chunk starting before the cutoff, backwards */
	while ((rc = st->ops->chunk_seek(st, id, cutoff - 1, -1, &row)) == 0) {
		long n, keep = 0;
		if (row.t1 < cutoff) {
			*removed += row.n;
			if ((rc = st->ops->chunk_delete(st, id, row.t0)) < 0)
				break;
			continue;
		}
		if ((n = store_chunk_points(st, &row, &p, &cap, 0)) < 0) {
			rc = -1;
			break;
		}
		while (keep < n && p[n - 1 - keep].t >= cutoff)
			keep++;
		*removed += n - keep;
		if ((rc = st->ops->chunk_delete(st, id, row.t0)) < 0 ||
		    (rc = put_chunks(st, id, p + (n - keep), (size_t)keep)) < 0)
			break;
	}
	free(p);
	chunk_row_free(&row);
	return rc < 0 ? -1 : 0;
}
