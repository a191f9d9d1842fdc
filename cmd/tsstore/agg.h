/*
 * agg: aggregates of the points in one time bucket, for query --step and
 * rollup. min, max, first, last and p95 (by nearest rank) are points as
 * they were ingested; sum is exact while it fits in 64 bits at the
 * bucket's decimals; the mean has three decimals more than the data.
 */
#ifndef AGG_H
#define AGG_H

#include <stdint.h>

#include "decval.h"
#include "tstime.h"

enum agg { A_MEAN, A_MIN, A_MAX, A_FIRST, A_LAST, A_COUNT, A_SUM, A_P95,
	A_NAGG };
extern const char *const agg_names[A_NAGG];

/* Running aggregates of one bucket. */
struct bucket {
	long long count;
	struct decval min, max, first, last;
	double dmin, dmax, sum;
	int64_t exact;          /* the sum at 'dec' decimals, while it fits */
	int dec, exact_ok, maxdec;
	struct decval *all;     /* p95 only */
	size_t nall, capall;
};

/* The bucket (of length step, aligned to the epoch) that t falls in. */
ts_us bucket_of(ts_us t, ts_us step);
/* Add a value; keep_all when p95 is wanted. Start a bucket with
 * b->count = 0. */
void bucket_add(struct bucket *b, const struct decval *v, int keep_all);
/* The aggregate as text. */
void agg_format(struct bucket *b, enum agg a, char out[DECVAL_BUFSZ]);
/* "mean,max" into aggs (at most A_NAGG); the count, or -1 with the
 * offending name in *bad. */
int agg_parse_list(const char *list, enum agg *aggs, const char **bad,
    int *badlen);

#endif
