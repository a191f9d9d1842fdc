/*
 * tschunk: a run of one series' points, compressed into a byte string.
 *
 * Times are strictly increasing integer microseconds, coded as the first
 * time, the first step and then delta-of-delta: a steady 120 Hz camera
 * costs about 2 bits a point, a perfectly regular clock a fraction of one.
 * Values are decimals (lib/decval.h) brought to the chunk's largest number
 * of decimals and coded as differences; each point's own number of
 * decimals (and a negative zero) is kept beside, so every value comes back
 * as it was written. A value that is not a decimal, or would not fit in 64
 * bits at the chunk's scale, is kept whole on the side as an exception.
 *
 * Every sequence (time deltas-of-deltas, value differences, decimals) is
 * zigzag-coded and bit-packed in blocks of 16 at the block's widest value,
 * so one outlier costs its block only. A CRC-32 of the rest ends the
 * chunk: a damaged chunk is refused, never read as other values. The
 * layout, for readers in other languages, is in tsstore(1).
 */
#ifndef TSCHUNK_H
#define TSCHUNK_H

#include <stddef.h>

#include "decval.h"
#include "tstime.h"

/* Points per chunk that a writer aims for (a reader accepts any count). */
#define TSCHUNK_POINTS 4096
#define TSCHUNK_VERSION 2

struct tspoint {
	ts_us t;
	struct decval v;
};

/* Code n >= 1 points, times strictly increasing; returns the length of the
 * malloc'd *out (which the caller frees). */
size_t tschunk_encode(const struct tspoint *p, size_t n, unsigned char **out);

/* 1 if the chunk's checksum is right, 0 if it has none (version 1, from
 * before checksums), -1 if it differs or the version is unknown. */
int tschunk_checksum(const unsigned char *buf, size_t len);

/* The number of points a chunk holds, from its header; -1 if damaged. */
long tschunk_count(const unsigned char *buf, size_t len);

/* Decode into p[0..max); the number of points, or -1 if the chunk is
 * damaged (its checksum differs, truncated, a count over max, times not
 * increasing, bytes left over): a reader never trusts a stored chunk
 * further than that. */
long tschunk_decode(const unsigned char *buf, size_t len, struct tspoint *p,
    size_t max);

#endif
