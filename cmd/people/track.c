/*
 * track: detections joined across frames into tracks.
 *
 * As SORT does: each track's centre is a Kalman filter of constant speed,
 * moved one frame at a time, so a person walking between detection rounds
 * (people --every) or behind a post for a round or two is still looked for
 * where they went; each round's detections are paired with the tracks by
 * least total cost (lib/assign, the Hungarian method), the cost being the
 * distance from where the track was expected, in standard deviations of
 * that expectation, plus the change of height. (Overlap of the boxes, as
 * SORT has it, cannot pair a small person who walked more than a third of
 * their width since the last round: three tracks for one.)
 *
 * A track missed for more than max_missed rounds is lost, not ended: for
 * the next rejoin frames a detection nobody else takes, near enough for a
 * walker and coloured like it (upper and lower body), takes it up again,
 * as DeepSORT re-joins by appearance, so a person hidden by another or by
 * a sign for a few seconds stays one visitor. A detection left over
 * starts a track.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "people.h"
#include "xalloc.h"

/* In heights of the person, per second (walking is about 0.8). */
#define SPEED_SD 0.5f           /* of a new track's speed */
#define ACCEL_SD 1.0f           /* change of speed, per second */
#define BOX_SD 0.12f            /* a detection's error, in heights */
#define GATE 3.0f               /* standard deviations */
#define SIZE_GATE 1.5f          /* ratio of heights */
#define GAIN 0.4f               /* weight of the newest height, colours */
#define NEVER 2.0               /* a pair's cost that forbids it */
/* Re-joining: a lost track may be this far from a detection (in its
 * heights: half of one, and WALK more every second it was lost), and must
 * look as alike (Bhattacharyya coefficient of the histograms). */
#define WALK 1.2f
#define MIN_LIKENESS 0.8f

void
tracker_init(struct tracker *tr, int max_missed, double rejoin, int confirm,
    float fps, float foot)
{
	memset(tr, 0, sizeof *tr);
	tr->next_id = 1;
	tr->max_missed = max_missed;
	tr->confirm = confirm;
	tr->fps = fps > 0 ? fps : 25;
	tr->rejoin = (int)(rejoin * tr->fps + 0.5);
	tr->foot = foot;
}

void
tracker_free(struct tracker *tr)
{
	free(tr->t);
}

static int
lost(const struct tracker *tr, const struct track *t)
{
	return t->misses > tr->max_missed;
}

/* The box follows the centre. */
static void
place(struct track *t)
{
	t->x = t->cx.p - t->w / 2;
	t->y = t->cy.p - t->h / 2;
}

static void
axis_predict(struct axis *a, float accel_sd)
{
	float q = accel_sd * accel_sd;

	a->p += a->v;
	a->pp += 2 * a->pv + a->vv + q / 4;
	a->pv += a->vv + q / 2;
	a->vv += q;
}

static void
axis_update(struct axis *a, float z, float meas_sd)
{
	float s = a->pp + meas_sd * meas_sd, kp = a->pp / s, kv = a->pv / s;
	float e = z - a->p, pp = a->pp, pv = a->pv;

	a->p += kp * e;
	a->v += kv * e;
	a->pp = (1 - kp) * pp;
	a->pv = (1 - kp) * pv;
	a->vv -= kv * pv;
}

static void
axis_start(struct axis *a, float z, float meas_sd, float speed_sd)
{
	*a = (struct axis){ .p = z, .pp = meas_sd * meas_sd,
		.vv = speed_sd * speed_sd };
}

void
tracker_predict(struct tracker *tr)
{
	for (int i = 0; i < tr->n; i++) {
		struct track *t = &tr->t[i];
		float a = ACCEL_SD * t->h / (tr->fps * tr->fps);
		axis_predict(&t->cx, a);
		axis_predict(&t->cy, a);
		place(t);
	}
}

void
tracker_hold(struct tracker *tr)
{
	for (int i = 0; i < tr->n; i++)
		tr->t[i].cx.v = tr->t[i].cy.v = 0;
}

/* The histogram of one part of the box (rows from y0 to y1 of its
 * height, the middle half of its width), as a share of the pixels; grey
 * frames have the same number of bins, of Y alone. */
static void
part_histogram(const struct picture *pic, const struct vis_box *b,
    float y0, float y1, float *hist)
{
	int x0 = (int)(b->x + b->w / 4), x1 = (int)(b->x + 3 * b->w / 4);
	int r0 = (int)(b->y + y0 * b->h), r1 = (int)(b->y + y1 * b->h);
	int bins = HIST_BINS / 2, n = 0;

	x0 = x0 < 0 ? 0 : x0;
	r0 = r0 < 0 ? 0 : r0;
	x1 = x1 > pic->w ? pic->w : x1;
	r1 = r1 > pic->h ? pic->h : r1;
	memset(hist, 0, (size_t)bins * sizeof *hist);
	for (int r = r0; r < r1; r += 2)
		for (int c = x0; c < x1; c += 2) {
			int y = pic->y[(size_t)r * (size_t)pic->w + (size_t)c];
			size_t k;
			if (pic->u == NULL) {
				hist[y * bins / 256]++;
			} else {
				k = (size_t)(r * pic->ch / pic->h) *
				    (size_t)pic->cw + (size_t)(c * pic->cw /
				    pic->w);
				hist[(y * HIST_LEVELS / 256 * HIST_LEVELS +
				    pic->u[k] * HIST_LEVELS / 256) * HIST_LEVELS +
				    pic->v[k] * HIST_LEVELS / 256]++;
			}
			n++;
		}
	for (int i = 0; n > 0 && i < bins; i++)
		hist[i] /= (float)n;
}

/* Upper body and lower body (HOG's box has room above the head and below
 * the feet: the parts are taken inside it). */
static void
histogram(const struct picture *pic, const struct vis_box *b, float *hist)
{
	part_histogram(pic, b, 0.15f, 0.5f, hist);
	part_histogram(pic, b, 0.5f, 0.85f, hist + HIST_BINS / 2);
}

/* Bhattacharyya coefficient: 1 for the same colours, 0 for none shared. */
static float
likeness(const float *a, const float *b)
{
	float s = 0;

	for (int i = 0; i < HIST_BINS; i++)
		s += sqrtf(a[i] * b[i]);
	return s / 2;
}

static void
match(struct track *t, const struct vis_box *b, long frame,
    const float *hist)
{
	float cx = b->x + b->w / 2, cy = b->y + b->h / 2;
	float sd = BOX_SD * b->h;

	axis_update(&t->cx, cx, sd);
	axis_update(&t->cy, cy, sd);
	t->w += GAIN * (b->w - t->w);
	t->h += GAIN * (b->h - t->h);
	place(t);
	for (int i = 0; i < HIST_BINS; i++)
		t->hist[i] += GAIN * (hist[i] - t->hist[i]);
	t->score = b->score;
	t->lx = cx;
	t->ly = cy;
	t->lframe = frame;
	t->hits++;
	t->misses = 0;
}

static void
add_track(struct tracker *tr, const struct vis_box *b, long frame,
    const float *hist)
{
	struct track *t;
	float sd = BOX_SD * b->h, speed = SPEED_SD * b->h / tr->fps;

	if (tr->n == tr->cap) {
		tr->cap = tr->cap * 2 + 16;
		tr->t = xreallocarray(tr->t, (size_t)tr->cap, sizeof *tr->t);
	}
	t = &tr->t[tr->n++];
	memset(t, 0, sizeof *t);
	t->id = tr->next_id++;
	t->attr = (struct vis_attributes){ .age = -1, .gender = -1,
		.emotion = -1 };
	axis_start(&t->cx, b->x + b->w / 2, sd, speed);
	axis_start(&t->cy, b->y + b->h / 2, sd, speed);
	t->w = b->w;
	t->h = b->h;
	memcpy(t->hist, hist, sizeof t->hist);
	match(t, b, frame, hist);
	t->hits = 1;
}

/* How far a detection is from where the track was expected, in standard
 * deviations, and how much taller or shorter: NEVER beyond the gates. */
static double
motion_cost(const struct track *t, const struct vis_box *b)
{
	float dx = b->x + b->w / 2 - t->cx.p, dy = b->y + b->h / 2 - t->cy.p;
	float r = BOX_SD * b->h, sx = t->cx.pp + r * r, sy = t->cy.pp + r * r;
	float d = sqrtf(dx * dx / sx + dy * dy / sy);
	float size = fabsf(logf(b->h / t->h));

	if (d > GATE || size > logf(SIZE_GATE))
		return NEVER;
	return d / GATE + size / logf(SIZE_GATE);
}

/* A lost track and a detection: how unlike they look, if near enough and
 * within rejoin frames (lost tracks are dropped after a look's pairing:
 * without the check here, up to --every frames late). */
static double
rejoin_cost(const struct tracker *tr, const struct track *t,
    const struct vis_box *b, const float *hist, long frame)
{
	float dx = b->x + b->w / 2 - t->lx, dy = b->y + b->h / 2 - t->ly;
	float reach = t->h * (0.5f + WALK * (float)(frame - t->lframe) /
	    tr->fps), like;

	if (frame - t->lframe > tr->rejoin ||
	    dx * dx + dy * dy > reach * reach ||
	    fabsf(logf(b->h / t->h)) > logf(SIZE_GATE))
		return NEVER;
	like = likeness(t->hist, hist);
	return like < MIN_LIKENESS ? NEVER : 1 - like;
}

/* Pair the tracks that are (or are not) lost with the detections left;
 * those paired are matched and marked used. */
static void
pair_up(struct tracker *tr, int want_lost, const struct vis_box *box,
    int n, long frame, const float *hists, char *used)
{
	int *row = xreallocarray(NULL, (size_t)tr->n + 1, sizeof *row);
	int *pair = xreallocarray(NULL, (size_t)tr->n + 1, sizeof *pair);
	double *cost;
	int k = 0;

	for (int i = 0; i < tr->n; i++)
		if (lost(tr, &tr->t[i]) == want_lost)
			row[k++] = i;
	cost = xreallocarray(NULL, (size_t)k * (size_t)n + 1, sizeof *cost);
	for (int i = 0; i < k; i++)
		for (int j = 0; j < n; j++) {
			const struct track *t = &tr->t[row[i]];
			cost[(size_t)i * (size_t)n + (size_t)j] = used[j] ?
			    NEVER : want_lost ? rejoin_cost(tr, t, &box[j],
			    hists + (size_t)j * HIST_BINS, frame) :
			    motion_cost(t, &box[j]);
		}
	assign_min(cost, k, n, NEVER, pair);
	for (int i = 0; i < k; i++)
		if (pair[i] >= 0) {
			match(&tr->t[row[i]], &box[pair[i]], frame,
			    hists + (size_t)pair[i] * HIST_BINS);
			used[pair[i]] = 1;
			tr->rejoined += want_lost;
		}
	free(row);
	free(pair);
	free(cost);
}

void
tracker_update(struct tracker *tr, const struct vis_box *box, int n,
    long frame, const struct picture *pic)
{
	float *hists = xreallocarray(NULL, (size_t)n * HIST_BINS + 1,
	    sizeof *hists);
	char *used = xcalloc((size_t)n + 1, 1);
	int k = 0;

	for (int j = 0; j < n; j++)
		histogram(pic, &box[j], hists + (size_t)j * HIST_BINS);
	pair_up(tr, 0, box, n, frame, hists, used);
	pair_up(tr, 1, box, n, frame, hists, used);
	for (int i = 0; i < tr->n; i++)
		if (tr->t[i].lframe != frame)
			tr->t[i].misses++;
	for (int j = 0; j < n; j++)
		if (!used[j])
			add_track(tr, &box[j], frame,
			    hists + (size_t)j * HIST_BINS);
	/* drop the tracks lost too long, keeping the order */
	for (int i = 0; i < tr->n; i++)
		if (!lost(tr, &tr->t[i]) ||
		    frame - tr->t[i].lframe <= tr->rejoin)
			tr->t[k++] = tr->t[i];
	tr->n = k;
	free(hists);
	free(used);
}

/* A track seen COAST_HITS times is still shown, where it is expected to
 * be, for COAST_LOOKS looks that miss it: HOG loses a walker beside
 * another or passing a post for a look now and then, and each such look
 * took one person off the frame's count. */
#define COAST_HITS 3
#define COAST_LOOKS 1

int
track_visible(const struct tracker *tr, const struct track *t)
{
	if (t->hits < tr->confirm)
		return 0;
	return t->misses == 0 ||
	    (t->hits >= COAST_HITS && t->misses <= COAST_LOOKS);
}

#define LINE_MARGIN 0.1f        /* of the box's height */

int
line_crossed(const struct tracker *tr, const struct line *l,
    struct track *t)
{
	float px = t->x + t->w / 2, py = t->y + tr->foot * t->h;
	float dx = l->x2 - l->x1, dy = l->y2 - l->y1;
	float len2 = dx * dx + dy * dy, len = sqrtf(len2), dist, along;
	int was = t->side;

	if (len2 == 0)
		return 0;
	/* signed distance (> 0: right, image y down) and place along it */
	dist = (dx * (py - l->y1) - dy * (px - l->x1)) / len;
	along = (dx * (px - l->x1) + dy * (py - l->y1)) / len2;
	if (along < 0 || along > 1 || fabsf(dist) < LINE_MARGIN * t->h)
		return 0;
	t->side = dist > 0 ? 1 : -1;
	return was != 0 && was != t->side ? t->side : 0;
}
