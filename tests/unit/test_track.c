/*
 * track (cmd/people): a walker followed through looks that miss them,
 * and a lost track taken up again only by one alike, near and soon
 * enough (--rejoin). The people-vtest case shows the tracker on a real
 * clip; here each rule is tried alone on drawn frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "people.h"
#include "tap.h"

#define W 640
#define H 240
#define FPS 10.0f
#define EVERY 3                 /* frames between looks, as people --every */
#define BODY_W 40
#define BODY_H 80
#define START_X 20.0f
#define STEP 4.0f               /* px a frame: half a height a second */

static uint8_t luma[W * H];
static const struct picture pic = { luma, NULL, NULL, W, H, 0, 0 };

/* A grey frame with a person in box b: the upper half of the box of one
 * shade, the lower of another (a coat, trousers). */
static void
draw(const struct vis_box *b, uint8_t upper, uint8_t lower)
{
	memset(luma, 128, sizeof luma);
	for (int r = (int)b->y; r < (int)(b->y + b->h); r++)
		for (int c = (int)b->x; c < (int)(b->x + b->w); c++)
			luma[r * W + c] = r < b->y + b->h / 2 ? upper : lower;
}

static struct vis_box
walker_at(long frame, float dx)
{
	return (struct vis_box){ START_X + STEP * (float)frame + dx, 60,
		BODY_W, BODY_H, 2 };
}

/* Frames from..to (looks every EVERY'th), the walker detected at the
 * looks when seen, in the given shades; nothing detected otherwise. */
static void
walk(struct tracker *tr, long from, long to, int seen, float dx,
    uint8_t upper, uint8_t lower)
{
	for (long f = from; f <= to; f++) {
		if (f > 0)
			tracker_predict(tr);
		if (f % EVERY != 0)
			continue;
		struct vis_box b = walker_at(f, dx);
		draw(&b, upper, lower);
		tracker_update(tr, &b, seen ? 1 : 0, f, &pic);
	}
}

/* The id of the track detected at frame, or 0. */
static long
id_at(const struct tracker *tr, long frame)
{
	for (int i = 0; i < tr->n; i++)
		if (tr->t[i].lframe == frame)
			return tr->t[i].id;
	return 0;
}

static void
missed_looks(void)
{
	struct tracker tr;

	tracker_init(&tr, 2, 3, 1, FPS, 0.87f);
	walk(&tr, 0, 9, 1, 0, 220, 30);
	ok(tr.n == 1 && tr.t[0].hits == 4, "four looks, one track");
	walk(&tr, 10, 12, 0, 0, 220, 30);
	ok(track_visible(&tr, &tr.t[0]), "seen 4 times: shown through a "
	    "missed look");
	ok(tr.t[0].x > walker_at(12, 0).x - 4 && tr.t[0].x < walker_at(12,
	    0).x + 4, "where its speed took it (x %.1f, walker at %.1f)",
	    tr.t[0].x, walker_at(12, 0).x);
	walk(&tr, 13, 15, 0, 0, 220, 30);
	ok(!track_visible(&tr, &tr.t[0]), "not shown after two");
	walk(&tr, 16, 18, 1, 0, 220, 30);
	ok(id_at(&tr, 18) == 1 && tr.rejoined == 0, "met again by its "
	    "motion, not re-joined (id %ld, rejoined %ld)", id_at(&tr, 18),
	    tr.rejoined);
	tracker_free(&tr);

	tracker_init(&tr, 2, 3, 1, FPS, 0.87f);
	walk(&tr, 0, 0, 1, 0, 220, 30);
	walk(&tr, 1, 3, 0, 0, 220, 30);
	ok(!track_visible(&tr, &tr.t[0]), "seen once: not shown through a "
	    "missed look");
	tracker_free(&tr);
}

/* The walker seen for four looks, then hidden for hidden frames (lost
 * after three missed looks), then detected at frame back, dx off their
 * path, in the shades given. */
static long
hidden_then_back(long back, float dx, uint8_t upper, uint8_t lower,
    long *rejoined)
{
	struct tracker tr;
	long id;

	tracker_init(&tr, 2, 3, 1, FPS, 0.87f);
	walk(&tr, 0, 9, 1, 0, 220, 30);
	walk(&tr, 10, back - 1, 0, 0, 220, 30);
	walk(&tr, back, back, 1, dx, upper, lower);
	id = id_at(&tr, back);
	*rejoined = tr.rejoined;
	tracker_free(&tr);
	return id;
}

static void
rejoin(void)
{
	static const struct {
		long back;              /* the frame they are seen again */
		float dx;               /* px off where the walk took them */
		uint8_t upper, lower;   /* their shades then */
		long id;                /* the track that takes them */
		const char *what;
	} c[] = {
		{ 24, 0, 220, 30, 1, "alike, near, 1.5 s later: re-joined" },
		{ 24, 0, 30, 220, 2, "dressed the other way round: a new "
		    "track" },
		{ 24, 250, 220, 30, 2, "250 px past where the walk took them "
		    "in 1.5 s: a new track" },
		{ 36, 0, 220, 30, 1, "2.7 s later, within --rejoin 3: "
		    "re-joined" },
		{ 42, 0, 220, 30, 2, "3.3 s later, past --rejoin 3: a new "
		    "track" },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		long r, id = hidden_then_back(c[i].back, c[i].dx, c[i].upper,
		    c[i].lower, &r);
		ok(id == c[i].id && r == (c[i].id == 1), "%s (id %ld, "
		    "rejoined %ld)", c[i].what, id, r);
	}
}

int
main(void)
{
	missed_looks();
	rejoin();
	return tap_done();
}
