/*
 * window: crowd windows per source, opened as rows arrive and written
 * when they close.
 *
 * Windows are aligned to the clock (multiples of --slide since the Unix
 * epoch; --slide is --window for tumbling windows), so two hosts, or two
 * runs, cut the same hours. A source's time is the latest row time it has
 * seen; a window closes when that time, less --lateness, reaches its end.
 * A row for a window already closed is too late and is counted, not used.
 *
 * Inside a window the rows of one frame are gathered until the frame
 * number changes: the frame's count is its frame row's count (people
 * writes one per frame, nobody in view included) or, from a detector that
 * writes none, its detection rows. Visitors are tracks: one visitor
 * however many frames show it, if they add up to --min-track (each frame
 * standing for the source's frame interval, the shortest seen between
 * two frames: a box that flickers on a group for a frame now and then
 * over minutes is not a visitor, as its first and last sightings would
 * make it), its demographics the values most of its rows agree on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "crowdagg.h"
#include "xalloc.h"

struct visitor {
	ts_us first, last;
	long frames;            /* that show it */
	int gender[GENDERS];
	double age_sum;
	int age_n;
	int emotion[EMOTIONS];
};

struct window {
	struct window *next;    /* the source's open windows, by start */
	ts_us start, end;
	long frames, peak, in, out;
	double count_sum;
	/* the frame being gathered */
	char *frame;
	size_t frame_cap;
	int in_frame, frame_has_row;
	long frame_dets, frame_count;
	struct strmap visitors; /* track -> struct visitor */
	struct strmap persons;  /* person ids seen in the window */
};

struct source {
	char *name;
	struct window *open;
	ts_us now;              /* the latest row time */
	ts_us frame_gap;        /* the shortest from one frame to the next */
	ts_us closed_before;    /* windows ending by then are written */
	ts_us partial_next;
	struct strmap first_seen;       /* person -> ts_us, first sighting */
};

struct windows {
	struct window_spec spec;
	struct layout lay;
	struct csv_out out;
	FILE *fp;
	struct strmap sources;
	struct source *last;
};

struct windows *
windows_new(const struct window_spec *spec, const struct layout *lay,
    FILE *out)
{
	struct windows *ws = xcalloc(1, sizeof *ws);

	ws->spec = *spec;
	ws->lay = *lay;
	ws->fp = out;
	csvout_init(&ws->out, out);
	strmap_init(&ws->sources);
	return ws;
}

static void
put_names(struct csv_out *out, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		csvout_str(out, names[i]);
}

void
windows_header(struct windows *ws)
{
	static const char *const base[] = { "window_start", "window_end",
		"src", "frames", "visitors", "peak", "mean", "in", "out",
		"dwell_mean", "dwell_p95" };
	static const char *const visits[] = { "new", "returning" };

	put_names(&ws->out, base, 11);
	if (ws->lay.persons)
		put_names(&ws->out, visits, 2);
	if (ws->lay.gender)
		put_names(&ws->out, gender_cols, GENDERS);
	if (ws->lay.age)
		put_names(&ws->out, age_cols, AGE_BUCKETS);
	if (ws->lay.emotion)
		put_names(&ws->out, emotion_cols, EMOTIONS);
	if (ws->lay.partial)
		csvout_str(&ws->out, "partial");
	csvout_end(&ws->out);
}

/* The frame's count into the window's figures. */
static void
end_frame(struct window *w)
{
	long c = w->frame_has_row ? w->frame_count : w->frame_dets;

	if (!w->in_frame)
		return;
	w->frames++;
	w->count_sum += (double)c;
	if (c > w->peak)
		w->peak = c;
	w->in_frame = 0;
}

static void
start_frame(struct window *w, const char *frame)
{
	size_t len = strlen(frame);

	end_frame(w);
	if (len + 1 > w->frame_cap) {
		w->frame_cap = len + 16;
		w->frame = xreallocarray(w->frame, w->frame_cap, 1);
	}
	memcpy(w->frame, frame, len + 1);
	w->in_frame = 1;
	w->frame_has_row = 0;
	w->frame_dets = w->frame_count = 0;
}

static void
add_visitor(struct window *w, const struct row *r, const struct layout *lay)
{
	void **slot = strmap_slot(&w->visitors, r->track);
	struct visitor *v = *slot;
	double age;

	if (v == NULL) {
		*slot = v = xcalloc(1, sizeof *v);
		v->first = v->last = r->ts;
	}
	v->frames++;
	if (r->ts < v->first)
		v->first = r->ts;
	if (r->ts > v->last)
		v->last = r->ts;
	if (lay->gender && *r->gender != '\0')
		v->gender[gender_of(r->gender)]++;
	if (lay->age && (age = age_of(r->age)) >= 0) {
		v->age_sum += age;
		v->age_n++;
	}
	if (lay->emotion && *r->emotion != '\0')
		v->emotion[emotion_of(r->emotion)]++;
}

static void
update(struct window *w, const struct row *r, const struct layout *lay)
{
	if (!w->in_frame || strcmp(w->frame, r->frame) != 0)
		start_frame(w, r->frame);
	switch (r->kind) {
	case ROW_DETECTION:
		w->frame_dets++;
		if (*r->track != '\0')
			add_visitor(w, r, lay);
		if (*r->person != '\0')
			*strmap_slot(&w->persons, r->person) = w;
		break;
	case ROW_FRAME:
		w->frame_has_row = 1;
		w->frame_count = r->count;
		break;
	case ROW_IN: w->in++; break;
	case ROW_OUT: w->out++; break;
	case ROW_OTHER: break;
	}
}

/* What a window's rows come to, written out. */
struct tally {
	struct windows *ws;
	const struct source *src;
	const struct window *w;
	ts_us *dwell;
	size_t n;
	long gender[GENDERS], age[AGE_BUCKETS], emotion[EMOTIONS];
	long fresh, returning;
};

/* The index of the largest count, or unknown if none or a tie. */
static int
most(const int *votes, int n, int unknown)
{
	int best = unknown, tie = 0;

	for (int i = 0; i < n; i++) {
		if (votes[i] == 0)
			continue;
		if (best == unknown || votes[i] > votes[best]) {
			best = i;
			tie = 0;
		} else if (votes[i] == votes[best]) {
			tie = 1;
		}
	}
	return tie ? unknown : best;
}

static void
tally_visitor(const char *key, void *value, void *arg)
{
	struct tally *t = arg;
	const struct visitor *v = value;

	(void)key;
	if (v->frames * t->src->frame_gap < t->ws->spec.min_track)
		return;
	t->dwell[t->n++] = v->last - v->first;
	t->gender[most(v->gender, GENDER_UNKNOWN, GENDER_UNKNOWN)]++;
	t->age[age_bucket(v->age_n > 0 ? v->age_sum / v->age_n : -1)]++;
	t->emotion[most(v->emotion, EMOTIONS - 1, EMOTIONS - 1)]++;
}

static void
tally_person(const char *key, void *value, void *arg)
{
	struct tally *t = arg;
	const ts_us *first = strmap_get(&t->src->first_seen, key);

	(void)value;
	if (first != NULL && *first < t->w->start)
		t->returning++;
	else
		t->fresh++;
}

static int
cmp_ts(const void *a, const void *b)
{
	ts_us x = *(const ts_us *)a, y = *(const ts_us *)b;

	return (x > y) - (x < y);
}

static void
put_counts(struct csv_out *out, const long *c, int n)
{
	for (int i = 0; i < n; i++)
		csvout_long(out, c[i]);
}

/* The frame being gathered counts too, without ending it (--partial). */
static void
write_window(struct windows *ws, const struct source *src,
    const struct window *w, int partial)
{
	struct tally t = { .ws = ws, .src = src, .w = w };
	struct csv_out *out = &ws->out;
	struct window now = *w;
	double mean = 0, dwell_mean = 0;

	end_frame(&now);
	t.dwell = xreallocarray(NULL, w->visitors.count + 1, sizeof *t.dwell);
	strmap_each(&w->visitors, tally_visitor, &t);
	strmap_each(&w->persons, tally_person, &t);
	qsort(t.dwell, t.n, sizeof *t.dwell, cmp_ts);
	for (size_t i = 0; i < t.n; i++)
		dwell_mean += ts_to_sec(t.dwell[i]) / (double)t.n;
	if (now.frames > 0)
		mean = now.count_sum / (double)now.frames;
	csvout_time(out, w->start, ws->lay.iso);
	csvout_time(out, w->end, ws->lay.iso);
	csvout_str(out, src->name);
	csvout_long(out, now.frames);
	csvout_long(out, (long long)t.n);
	csvout_long(out, now.peak);
	csvout_double(out, mean, 3);
	csvout_long(out, w->in);
	csvout_long(out, w->out);
	csvout_double(out, dwell_mean, 3);
	/* nearest rank: the smallest dwell at least 95% are within */
	csvout_double(out, t.n == 0 ? 0 : ts_to_sec(t.dwell[(t.n * 95 + 99) /
	    100 - 1]), 3);
	if (ws->lay.persons) {
		csvout_long(out, t.fresh);
		csvout_long(out, t.returning);
	}
	if (ws->lay.gender)
		put_counts(out, t.gender, GENDERS);
	if (ws->lay.age)
		put_counts(out, t.age, AGE_BUCKETS);
	if (ws->lay.emotion)
		put_counts(out, t.emotion, EMOTIONS);
	if (ws->lay.partial)
		csvout_long(out, partial);
	csvout_end(out);
	free(t.dwell);
}

static void
free_window(struct window *w)
{
	strmap_free(&w->visitors, free);
	strmap_free(&w->persons, NULL);
	free(w->frame);
	free(w);
}

/* Write and drop the windows that end by limit; flushed for live pipes. */
static void
close_windows(struct windows *ws, struct source *src, ts_us limit)
{
	int wrote = 0;

	while (src->open != NULL && src->open->end <= limit) {
		struct window *w = src->open;
		src->open = w->next;
		write_window(ws, src, w, 0);
		free_window(w);
		wrote = 1;
	}
	if (limit > src->closed_before)
		src->closed_before = limit;
	if (wrote) {
		fflush(ws->fp);
		cli_check_write(ws->fp, "stdout");
	}
}

static struct source *
find_source(struct windows *ws, const char *name)
{
	void **slot;
	struct source *src;

	if (ws->last != NULL && strcmp(ws->last->name, name) == 0)
		return ws->last;
	slot = strmap_slot(&ws->sources, name);
	if ((src = *slot) == NULL) {
		*slot = src = xcalloc(1, sizeof *src);
		src->name = xstrdup(name);
		src->now = src->closed_before = src->partial_next = INT64_MIN;
		strmap_init(&src->first_seen);
	}
	return ws->last = src;
}

/* The open window starting at start, made if need be. */
static struct window *
window_at(struct windows *ws, struct source *src, ts_us start)
{
	struct window **p = &src->open, *w;

	while (*p != NULL && (*p)->start < start)
		p = &(*p)->next;
	if (*p != NULL && (*p)->start == start)
		return *p;
	w = xcalloc(1, sizeof *w);
	w->start = start;
	w->end = start + ws->spec.length;
	strmap_init(&w->visitors);
	strmap_init(&w->persons);
	w->next = *p;
	*p = w;
	return w;
}

static ts_us
floor_div(ts_us a, ts_us b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void
note_person(struct source *src, const struct row *r)
{
	void **slot = strmap_slot(&src->first_seen, r->person);
	ts_us *first = *slot;

	if (first == NULL) {
		*slot = first = xcalloc(1, sizeof *first);
		*first = r->ts;
	} else if (r->ts < *first) {
		*first = r->ts;
	}
}

int
windows_add(struct windows *ws, const struct row *r)
{
	struct source *src = find_source(ws, r->src);
	ts_us start = floor_div(r->ts, ws->spec.slide) * ws->spec.slide;
	int used = 0;

	/* every window [start, start + length) that holds the row */
	for (; start > r->ts - ws->spec.length; start -= ws->spec.slide) {
		if (start + ws->spec.length <= src->closed_before)
			break;          /* written already: too late */
		update(window_at(ws, src, start), r, &ws->lay);
		used = 1;
	}
	if (used && ws->lay.persons && *r->person != '\0')
		note_person(src, r);
	if (r->ts > src->now) {
		if (src->now != INT64_MIN && (src->frame_gap == 0 ||
		    r->ts - src->now < src->frame_gap))
			src->frame_gap = r->ts - src->now;
		src->now = r->ts;
		close_windows(ws, src, r->ts - ws->spec.lateness);
	}
	if (ws->spec.partial_every > 0 && src->now >= src->partial_next) {
		for (struct window *w = src->open; w != NULL; w = w->next)
			write_window(ws, src, w, 1);
		fflush(ws->fp);
		cli_check_write(ws->fp, "stdout");
		src->partial_next = src->now + ws->spec.partial_every;
	}
	return used ? 0 : 1;
}

struct pending {
	struct source *src;
	struct window *w;
};

static int
cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int c;

	if (x->w->end != y->w->end)
		return x->w->end < y->w->end ? -1 : 1;
	if ((c = strcmp(x->src->name, y->src->name)) != 0)
		return c;
	return (x->w->start > y->w->start) - (x->w->start < y->w->start);
}

static void
collect(const char *key, void *value, void *arg)
{
	struct pending **p = arg;
	struct source *src = value;

	(void)key;
	for (struct window *w = src->open; w != NULL; w = w->next) {
		(*p)->src = src;
		(*p)->w = w;
		(*p)++;
	}
}

static void
count_open(const char *key, void *value, void *arg)
{
	(void)key;
	for (struct window *w = ((struct source *)value)->open; w != NULL;
	    w = w->next)
		(*(size_t *)arg)++;
}

void
windows_flush(struct windows *ws)
{
	size_t n = 0;
	struct pending *all, *end;

	strmap_each(&ws->sources, count_open, &n);
	end = all = xreallocarray(NULL, n + 1, sizeof *all);
	strmap_each(&ws->sources, collect, &end);
	qsort(all, n, sizeof *all, cmp_pending);
	for (size_t i = 0; i < n; i++)
		write_window(ws, all[i].src, all[i].w, 0);
	free(all);
	fflush(ws->fp);
}

static void
free_source(void *value)
{
	struct source *src = value;

	while (src->open != NULL) {
		struct window *w = src->open;
		src->open = w->next;
		free_window(w);
	}
	strmap_free(&src->first_seen, free);
	free(src->name);
	free(src);
}

void
windows_free(struct windows *ws)
{
	strmap_free(&ws->sources, free_source);
	free(ws);
}
