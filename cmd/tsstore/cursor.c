/* cursor: the points of one series in a time range, chunk by chunk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cursor.h"

void
cursor_init(struct cursor *c, struct store *st, long long id, ts_us from,
    ts_us to)
{
	*c = (struct cursor){ .st = st, .id = id, .from = from, .to = to };
}

void
cursor_free(struct cursor *c)
{
	free(c->p);
	c->p = NULL;
	chunk_row_free(&c->row);
}

static int
load_chunk(struct cursor *c, int dir, ts_us t)
{
	long n;
	int rc = c->st->ops->chunk_seek(c->st, c->id, t, dir, &c->row);

	if (rc != 0)
		return rc;
	if ((n = store_chunk_points(c->st, &c->row, &c->p, &c->cap, 0)) < 0)
		return -1;
	c->n = (size_t)n;
	c->i = 0;
	c->after = c->row.t0;
	return 0;
}

/* The next point: 1, 0 at the end, -1 on a store error. */
int
cursor_next(struct cursor *c, struct tspoint *out)
{
	int rc;

	while (!c->done) {
		if (c->i < c->n) {
			const struct tspoint *p = &c->p[c->i++];
			if (p->t < c->from)
				continue;
			if (p->t >= c->to)
				break;
			*out = *p;
			return 1;
		}
		if (!c->started) {
			c->started = 1;
			rc = load_chunk(c, -1, c->from);
			if (rc == 1) {  /* nothing at or before from */
				c->after = INT64_MIN;
				rc = load_chunk(c, 1, INT64_MIN);
			}
		} else {
			rc = load_chunk(c, 1, c->after);
		}
		if (rc < 0)
			return -1;
		if (rc == 1 || c->row.t0 >= c->to)
			break;
	}
	c->done = 1;
	return 0;
}

