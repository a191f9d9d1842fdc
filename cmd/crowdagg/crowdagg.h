/*
 * crowdagg: detections (people's CSV) into crowd windows per source. See
 * crowdagg(1).
 */
#ifndef CROWDAGG_H
#define CROWDAGG_H

#include <stdio.h>

#include "csvio.h"
#include "strmap.h"
#include "tstime.h"

/* What the output has, decided by the input's header and the options. */
struct layout {
	int persons;            /* a "person" column: new and returning */
	int gender, age, emotion;       /* demographic columns present */
	int partial;            /* --partial: a "partial" column */
	int iso;
};

/* One row, as the windows need it. */
struct row {
	ts_us ts;
	const char *src, *frame, *track, *person;
	enum { ROW_DETECTION, ROW_FRAME, ROW_IN, ROW_OUT, ROW_OTHER } kind;
	long count;             /* a frame row: the people in view */
	const char *gender, *age, *emotion;     /* "" when unknown */
};

/* How rows are cut into windows, and which tracks are visitors. */
struct window_spec {
	ts_us length, slide;    /* a window, and from one start to the next */
	ts_us lateness;         /* how late a row may come */
	ts_us partial_every;    /* open windows written this often, or 0 */
	ts_us min_track;        /* a visitor's track lasts at least this */
};

struct windows;
struct windows *windows_new(const struct window_spec *spec,
    const struct layout *lay, FILE *out);
/* Write the header. */
void windows_header(struct windows *ws);
/* Take a row: windows that close on its time are written. Returns 0, or
 * 1 if the row came too late for every window it belongs to. */
int windows_add(struct windows *ws, const struct row *r);
/* The end of the input: write every open window, oldest first. */
void windows_flush(struct windows *ws);
void windows_free(struct windows *ws);

/* demog.c: demographic values as the windows count them */
enum { GENDER_FEMALE, GENDER_MALE, GENDER_UNKNOWN, GENDERS };
enum { AGE_BUCKETS = 8 };       /* 0-15 ... 60+, unknown */
enum { EMOTIONS = 9 };          /* seven, other, unknown */
extern const char *const gender_cols[GENDERS];
extern const char *const age_cols[AGE_BUCKETS];
extern const char *const emotion_cols[EMOTIONS];
/* "female", "F", "woman"... to GENDER_*; anything else is unknown. */
int gender_of(const char *s);
/* An age in years ("34", "34.5") or a range ("25-32", "(25-32)", taken
 * at its middle); -1 if it is neither. */
double age_of(const char *s);
/* The bucket of an age in years (-1: the unknown bucket). */
int age_bucket(double years);
/* An emotion's column index: synonyms ("happiness", "happy") agree;
 * an unlisted one is "other", an empty one "unknown". */
int emotion_of(const char *s);

#endif
