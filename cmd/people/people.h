/*
 * people: persons or faces in Y4M frames, tracked, as detections CSV. See
 * people(1).
 */
#ifndef PEOPLE_H
#define PEOPLE_H

#include <stdint.h>

#include "vision.h"

/* One axis of a track's centre, a Kalman filter of constant speed:
 * position and speed (px, px a frame) and their covariance. */
struct axis {
	float p, v;
	float pp, pv, vv;
};

/* Colours of the upper and the lower body: a joint histogram of
 * HIST_LEVELS levels of Y, U and V each (of Y alone in grey frames). */
#define HIST_LEVELS 4
#define HIST_BINS (2 * HIST_LEVELS * HIST_LEVELS * HIST_LEVELS)

struct track {
	long id;
	float x, y, w, h;       /* the box now (detected or predicted) */
	struct axis cx, cy;     /* its centre */
	float score;            /* the last detection's */
	float lx, ly;           /* centre at the last detection */
	long lframe;            /* frame of the last detection */
	int hits;               /* detections matched */
	int misses;             /* detection rounds missed since */
	int side;               /* of the counting line: -1, +1, 0 unknown */
	int moved;              /* was once on what moved (--background) */
	float hist[HIST_BINS];  /* what it looks like, for re-joining */
	struct vis_attributes attr;     /* --attributes: the latest */
};

struct tracker {
	struct track *t;
	int n, cap;
	long next_id;
	int max_missed;         /* rounds a track may miss before it is lost */
	int rejoin;             /* frames a lost track waits to be re-joined */
	int confirm;            /* hits before a track is shown */
	float fps;              /* frames a second, for speeds */
	float foot;             /* the feet, down the box (of its height) */
	long rejoined;          /* lost tracks found again */
};

/* A frame's planes: luma w x h, then chroma cw x ch (u, v NULL: grey). */
struct picture {
	const uint8_t *y, *u, *v;
	int w, h, cw, ch;
};

/* rejoin in seconds; fps 0 when the stream does not say (25 taken). */
void tracker_init(struct tracker *tr, int max_missed, double rejoin,
    int confirm, float fps, float foot);
void tracker_free(struct tracker *tr);
/* Move every track one frame along its motion. */
void tracker_predict(struct tracker *tr);
/* Nothing moved: tracks stay where they are. */
void tracker_hold(struct tracker *tr);
/* Match a detection round (frame number frame) to the tracks. */
void tracker_update(struct tracker *tr, const struct vis_box *box, int n,
    long frame, const struct picture *pic);
/* Is the track shown (matched in the last round and confirmed)? */
int track_visible(const struct tracker *tr, const struct track *t);

/* A counting line from (x1, y1) to (x2, y2). */
struct line {
	float x1, y1, x2, y2;
};
/* Has the track's foot point (the middle of the box, tr->foot down it)
 * crossed the line? +1 to the line's right (looking from its start to its
 * end; in the image, down for a line drawn left to right): "in"; -1 back:
 * "out"; 0 not. A side counts once the point is a tenth of the box's
 * height past the line, beside the segment, so a person standing on the
 * line is not counted again and again. */
int line_crossed(const struct tracker *tr, const struct line *l,
    struct track *t);

#endif
