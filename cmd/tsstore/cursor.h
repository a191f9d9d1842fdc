/*
 * cursor: the points of one series in [from, to), in time order, read a
 * chunk at a time so that memory stays at one chunk whatever the range.
 */
#ifndef CURSOR_H
#define CURSOR_H

#include "store.h"
#include "tschunk.h"

struct cursor {
	struct store *st;
	long long id;
	ts_us from, to;
	struct chunk_row row;
	struct tspoint *p;
	size_t n, i, cap;
	ts_us after;            /* the last chunk loaded starts here */
	int started, done;
};

void cursor_init(struct cursor *c, struct store *st, long long id,
    ts_us from, ts_us to);
/* The next point: 1, 0 at the end, -1 with the reason in the store's err
 * (a damaged chunk, a store error). */
int cursor_next(struct cursor *c, struct tspoint *out);
void cursor_free(struct cursor *c);

#endif
