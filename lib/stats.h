/*
 * stats: a long-running program's health figures (frames in and out,
 * dropped, how long the picture has not changed, how far behind real
 * time) as series CSV, ts,series,value: one row a figure at the end of
 * every period of the stream's time, so that a frozen camera or a host
 * falling behind raises an alert through the same thresh | alertsend
 * pipe as everything else (--stats FILE in frames(1)).
 */
#ifndef STATS_H
#define STATS_H

#include "tstime.h"

#define STATS_MAX 16

enum stats_kind {
	STATS_COUNT,            /* summed over the period, then 0 again */
	STATS_GAUGE,            /* the last value set */
};

struct stats;

/* Figures to where (a file, appended to, or "fd:N", an open descriptor)
 * every period (0: 10 s), named health/PROGRAM/SRC/NAME
 * ("health/frames/cam1/still_s"); src NULL: the host's name up to its
 * first dot (a store's or a delivery's health is the host's). Exits with
 * a message if where cannot be opened. */
struct stats *stats_open(const char *where, const char *program,
    const char *src, ts_us period);
/* --stats-every's argument: a duration of 1 ms to a day, else a usage
 * error naming it. */
ts_us stats_period(const char *arg);
/* A figure: its index for stats_add and stats_set. */
int stats_figure(struct stats *s, const char *name, enum stats_kind kind);
void stats_add(struct stats *s, int figure, double n);
void stats_set(struct stats *s, int figure, double v);
/* The stream has reached now: write the periods that have ended (the
 * first starts at the first time seen). */
void stats_tick(struct stats *s, ts_us now);
/* Write what the last, partial period holds, at the last time seen;
 * close. NULL is ignored. */
void stats_close(struct stats *s);

#endif
