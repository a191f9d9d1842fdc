/*
 * series: the samples of one key and axis, resampled onto a uniform grid
 * at the series' own nominal rate, in a ring as long as one window.
 */
#ifndef SERIES_H
#define SERIES_H

#include <stddef.h>

#include "strmap.h"
#include "tstime.h"

/* A series' rate is fixed from its first samples: RATE_PROBE of them, or
 * fewer (at least RATE_PROBE_MIN) once they span half a window. Many, so
 * that times rounded to the millisecond (Matroska) still give the rate to
 * about 0.1%. */
#define RATE_PROBE 65
#define RATE_PROBE_MIN 9

struct series {
	char *key;              /* key fields joined by '\037' (owned) */
	int axis;               /* index into the value columns */

	/* Before the rate is known: the first samples as they came. */
	ts_us probe_t[RATE_PROBE];
	double probe_v[RATE_PROBE];
	int nprobe;

	double rate;            /* Hz, 0 until known */
	ts_us last_t;           /* last input sample */
	double last_v;
	double next_grid;       /* next grid time, seconds from grid_t0 */
	ts_us grid_t0;
	long grid_k;            /* index of the next grid point */

	double *ring;           /* one window of grid samples */
	int n, head, count;     /* window length, next slot, filled */
	int since_emit;         /* grid samples since the restart */
	long long last_slot;    /* hop slot of the last sample */
	ts_us first_t;          /* its first sample */
	long windows;           /* windows analysed */
};

/* The series by key and axis (lib/strmap underneath). */
struct series_map {
	struct strmap map;
	char *scratch;          /* the lookup key being made */
	size_t cap;
};

void series_map_init(struct series_map *m);
/* The series for key and axis, made if new. */
struct series *series_get(struct series_map *m, const char *key, int axis);
void series_map_free(struct series_map *m);
/* fn(series, arg) for every series. */
void series_map_each(struct series_map *m,
    void (*fn)(const struct series *, void *), void *arg);

#endif
