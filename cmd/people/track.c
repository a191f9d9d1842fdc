/*
 * track: detections joined across frames into tracks, by overlap.
 *
 * Each detection round is paired with the tracks by intersection over
 * union, the pairs of least total 1 - IoU (lib/assign: the Hungarian
 * method, as SORT pairs them; at least MIN_IOU each), each track's box
 * moved first along its motion since its last detection, so a person
 * walking between rounds (people --every) is still found where they went.
 * A detection nobody matches starts a track; a track no detection matches
 * for more than max_missed rounds ends. (Greedy pairing, the best pair
 * first, can take a pair that leaves two others both badly paired.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "people.h"
#include "xalloc.h"

#define MIN_IOU 0.3f
#define MOTION_GAIN 0.5f        /* weight of the newest motion estimate */

void
tracker_init(struct tracker *tr, int max_missed, int confirm)
{
	memset(tr, 0, sizeof *tr);
	tr->next_id = 1;
	tr->max_missed = max_missed;
	tr->confirm = confirm;
}

void
tracker_free(struct tracker *tr)
{
	free(tr->t);
}

void
tracker_predict(struct tracker *tr)
{
	for (int i = 0; i < tr->n; i++) {
		tr->t[i].x += tr->t[i].vx;
		tr->t[i].y += tr->t[i].vy;
	}
}

void
tracker_hold(struct tracker *tr)
{
	for (int i = 0; i < tr->n; i++)
		tr->t[i].vx = tr->t[i].vy = 0;
}

static float
iou(const struct track *t, const struct vis_box *b)
{
	float x0 = t->x > b->x ? t->x : b->x;
	float y0 = t->y > b->y ? t->y : b->y;
	float x1 = t->x + t->w < b->x + b->w ? t->x + t->w : b->x + b->w;
	float y1 = t->y + t->h < b->y + b->h ? t->y + t->h : b->y + b->h;
	float inter, uni;

	if (x1 <= x0 || y1 <= y0)
		return 0;
	inter = (x1 - x0) * (y1 - y0);
	uni = t->w * t->h + b->w * b->h - inter;
	return uni > 0 ? inter / uni : 0;
}

static void
match(struct track *t, const struct vis_box *b, long frame)
{
	float cx = b->x + b->w / 2, cy = b->y + b->h / 2;
	long k = frame - t->lframe;

	if (k > 0) {
		t->vx = (1 - MOTION_GAIN) * t->vx + MOTION_GAIN *
		    (cx - t->lx) / (float)k;
		t->vy = (1 - MOTION_GAIN) * t->vy + MOTION_GAIN *
		    (cy - t->ly) / (float)k;
	}
	t->x = b->x;
	t->y = b->y;
	t->w = b->w;
	t->h = b->h;
	t->score = b->score;
	t->lx = cx;
	t->ly = cy;
	t->lframe = frame;
	t->hits++;
	t->misses = 0;
}

static void
add_track(struct tracker *tr, const struct vis_box *b, long frame)
{
	struct track *t;

	if (tr->n == tr->cap) {
		tr->cap = tr->cap * 2 + 16;
		tr->t = xreallocarray(tr->t, (size_t)tr->cap, sizeof *tr->t);
	}
	t = &tr->t[tr->n++];
	memset(t, 0, sizeof *t);
	t->id = tr->next_id++;
	t->lframe = frame;
	t->attr = (struct vis_attributes){ .age = -1, .gender = -1,
		.emotion = -1 };
	match(t, b, frame);
}

void
tracker_update(struct tracker *tr, const struct vis_box *box, int n,
    long frame)
{
	int ntr = tr->n, k = 0;
	double *cost = xreallocarray(NULL, (size_t)ntr * (size_t)n + 1,
	    sizeof *cost);
	int *pair = xreallocarray(NULL, (size_t)ntr + 1, sizeof *pair);
	char *det_used = xcalloc((size_t)n + 1, 1);

	/* the pairs of least total 1 - IoU, none under MIN_IOU */
	for (int i = 0; i < ntr; i++)
		for (int j = 0; j < n; j++)
			cost[(size_t)i * (size_t)n + (size_t)j] =
			    1 - iou(&tr->t[i], &box[j]);
	assign_min(cost, ntr, n, 1 - MIN_IOU, pair);
	for (int i = 0; i < ntr; i++)
		if (pair[i] >= 0) {
			match(&tr->t[i], &box[pair[i]], frame);
			det_used[pair[i]] = 1;
		} else {
			tr->t[i].misses++;
		}
	for (int j = 0; j < n; j++)
		if (!det_used[j])
			add_track(tr, &box[j], frame);
	/* drop the tracks that missed too many rounds, keeping the order */
	for (int i = 0; i < tr->n; i++)
		if (tr->t[i].misses <= tr->max_missed)
			tr->t[k++] = tr->t[i];
	tr->n = k;
	free(cost);
	free(pair);
	free(det_used);
}

int
track_visible(const struct tracker *tr, const struct track *t)
{
	return t->misses == 0 && t->hits >= tr->confirm;
}

#define LINE_MARGIN (1 / 6.0f)  /* of the box's height */

int
line_crossed(const struct line *l, struct track *t)
{
	float cx = t->x + t->w / 2, cy = t->y + t->h / 2;
	float dx = l->x2 - l->x1, dy = l->y2 - l->y1;
	float len2 = dx * dx + dy * dy, len = sqrtf(len2), dist, along;
	int was = t->side;

	if (len2 == 0)
		return 0;
	/* signed distance (> 0: right, image y down) and place along it */
	dist = (dx * (cy - l->y1) - dy * (cx - l->x1)) / len;
	along = (dx * (cx - l->x1) + dy * (cy - l->y1)) / len2;
	if (along < 0 || along > 1 || fabsf(dist) < LINE_MARGIN * t->h)
		return 0;
	t->side = dist > 0 ? 1 : -1;
	return was != 0 && was != t->side ? t->side : 0;
}
