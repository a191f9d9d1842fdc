/*
 * clips: the camera's recent video, kept as stream-copied segments, and
 * the clip around an alert. See clips(1).
 *
 * main.c dispatches; record.c writes segments; cut.c makes clips from
 * them; forward.c relays the live stream while an alert fires; seg.c
 * names and lists segments (what record and cut agree on).
 */
#ifndef CLIPS_H
#define CLIPS_H

#include <stddef.h>
#include <sys/types.h>

#include "tstime.h"

/* A complete segment: DIR/SRC/<start>+<duration>.mp4, the start as UTC
 * (20261204T094512.345678Z), the duration in seconds (2.002000). */
struct seg {
	ts_us start, end;
	off_t bytes;
	char *path;
};

/* The segment file name for start and duration, into buf. */
void seg_name(char *buf, size_t len, ts_us start, ts_us dur);
/* A segment's times from its file name; 0, or -1 if it is not one. */
int seg_parse(const char *name, ts_us *start, ts_us *dur);
/* The complete segments in dir, oldest first; 0, or -1 after saying
 * why (dir unreadable). */
int seg_list(const char *dir, struct seg **out, size_t *n);
void seg_free(struct seg *s, size_t n);

/* dir/prefixname into buf; exits if it does not fit. */
void path_join(char *buf, size_t len, const char *dir, const char *prefix,
    const char *name);

/* The directory of a source's segments: DIR/SRC. */
void seg_dir(char *buf, size_t len, const char *dir, const char *src);

/* The lock clips record holds on DIR/SRC/.recording while it runs, so
 * that a second recorder of one source is refused and cut knows whether
 * the recording goes on: its descriptor, kept open, or -1 (errno
 * EWOULDBLOCK: another recorder holds it). */
int seg_lock_recording(const char *segdir);
/* Does a clips record hold segdir's lock now? */
int seg_recording(const char *segdir);

/* Does alert event key (or its src column) name source src? */
int event_is_for(const char *src, const char *key, const char *src_col);

int cmd_record(int argc, char **argv);
int cmd_cut(int argc, char **argv);
int cmd_forward(int argc, char **argv);

void usage(int status) __attribute__((noreturn));

#endif
