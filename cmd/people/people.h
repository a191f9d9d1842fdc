/*
 * people: persons or faces in Y4M frames, tracked, as detections CSV. See
 * people(1).
 */
#ifndef PEOPLE_H
#define PEOPLE_H

#include "vision.h"

struct track {
	long id;
	float x, y, w, h;       /* the box now (detected or predicted) */
	float vx, vy;           /* its motion, px a frame */
	float score;            /* the last detection's */
	float lx, ly;           /* centre at the last detection */
	long lframe;            /* frame of the last detection */
	int hits;               /* detections matched */
	int misses;             /* detection rounds missed since */
	int side;               /* of the counting line: -1, +1, 0 unknown */
	struct vis_attributes attr;     /* --attributes: the latest */
};

struct tracker {
	struct track *t;
	int n, cap;
	long next_id;
	int max_missed;         /* rounds a track may miss before it ends */
	int confirm;            /* hits before a track is shown */
};

void tracker_init(struct tracker *tr, int max_missed, int confirm);
void tracker_free(struct tracker *tr);
/* Move every track one frame along its motion. */
void tracker_predict(struct tracker *tr);
/* Nothing moved: tracks stay where they are. */
void tracker_hold(struct tracker *tr);
/* Match a detection round (frame number frame) to the tracks. */
void tracker_update(struct tracker *tr, const struct vis_box *box, int n,
    long frame);
/* Is the track shown (matched in the last round and confirmed)? */
int track_visible(const struct tracker *tr, const struct track *t);

/* A counting line from (x1, y1) to (x2, y2). */
struct line {
	float x1, y1, x2, y2;
};
/* Has the track's centre crossed the line? +1 to the line's right
 * (looking from its start to its end; in the image, down for a line drawn
 * left to right): "in"; -1 back: "out"; 0 not. A side counts once the
 * centre is a sixth of the box's height past the line, beside the
 * segment, so a person standing on the line is not counted again and
 * again. */
int line_crossed(const struct line *l, struct track *t);

#endif
