/*
 * writer: points gathered per series and written to a store in one
 * transaction (a batch), merged with the chunks already there.
 *
 * A point is identified by its series and time: a later value for the
 * same point replaces the earlier one, within a batch (the last row read
 * wins) and across batches (the batch written later wins), so loading a
 * file twice changes nothing. Late and out-of-order points are merged
 * into the chunks they fall in.
 */
#ifndef WRITER_H
#define WRITER_H

#include <stddef.h>

#include "store.h"
#include "tschunk.h"

struct writer;

struct writer *writer_new(struct store *st);
void writer_free(struct writer *w);

void writer_add(struct writer *w, const char *series, ts_us t,
    struct decval v);
/* Points waiting to be written, and in how many series. */
size_t writer_points(const struct writer *w);
size_t writer_series(const struct writer *w);
/* Write every waiting point in one transaction; 0, or -1 with nothing of
 * the batch stored and the reason in the store's err. Either way nothing
 * is left waiting. */
int writer_flush(struct writer *w);
/* Drop the waiting points. */
void writer_discard(struct writer *w);

/* Merge points p[0..n) (sorted, one per time) into series id's chunks:
 * for the commands that rewrite chunks (ingest, restore). */
int store_merge(struct store *st, long long id, const struct tspoint *p,
    size_t n);

/* Remove series id's points before cutoff; *removed counts them. */
int store_delete_before(struct store *st, long long id, ts_us cutoff,
    long long *removed);

#endif
