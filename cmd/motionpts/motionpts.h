/*
 * motionpts: sub-pixel motion points from a Y4M stream.
 *
 * main.c reads options and the stream and writes the motion CSV;
 * region.c keeps each region's points: picking, tracking against the
 * region's reference image, dropping and replacing.
 */
#ifndef MOTIONPTS_H
#define MOTIONPTS_H

#include <stdint.h>

#include "subpix.h"
#include "tstime.h"
#include "vision.h"

#define ROI_NAME_MAX 64

struct options {
	struct roi_spec {
		char name[ROI_NAME_MAX];
		struct vis_rect r;
	} *rois;
	int nrois;
	int max;                /* --max points per region */
	double min_dist;        /* --min-distance px */
	double quality;         /* --quality, of the best corner */
	struct vis_params lk;   /* --win, --levels */
	double reanchor;        /* --reanchor seconds, 0 never */
	double fb_max;          /* --fb-max px */
	const char *overlay;    /* --overlay FILE */
	double gain;            /* --gain for overlay vectors */
	const char *src;        /* --src, or NULL for the stream's XSRC */
	int iso;                /* --iso */
	int threads;            /* --threads for OpenCV */
	const char *stats;      /* --stats FILE or fd:N */
	ts_us stats_every;      /* --stats-every, stream time */
	int spline;             /* --refine: B-spline degree, 0 for none */
};

/*
 * A tracked point. Positions: r = where it was in the first reference
 * (displacement is measured from there), t = where it is in the current
 * reference image (the template it is tracked from), c = where it is now.
 */
struct point {
	long id;
	float rx, ry, tx, ty, x, y;
	float err;              /* forward-backward error, px */
	int has_tmpl;           /* --refine: its template is taken */
};

struct region {
	const struct roi_spec *spec;
	struct vis_tracker *trk;
	struct vis_rect crop;   /* spec->r with a margin for the LK window */
	/* --refine: the crop's B-spline model, of the reference image and of
	 * the current frame, and the refiner's scratch. */
	struct vis_rect prect;  /* what the models cover */
	struct sp_plane ref_plane, cur_plane;
	struct sp_refiner *refiner;
	struct sp_template *tmpl;       /* one a point, moved with it */
	struct point *pts;
	int n, max;
	long next_id;
	int anchored;
	ts_us anchored_at;
	int picked;             /* corners have been looked for */
	ts_us picked_at;
	int dropped;            /* points lost since the last pick */
	int flat;               /* warned: nothing to track */
	ts_us lost_at;          /* last time every point was lost */
	int lost_warned;        /* said so, and not since */
	float ax, ay;           /* template offset: t - r at the anchor */
	/* Running mean and variance of the region's median displacement, to
	 * renew the reference when the region is back at rest. */
	double mean[2], var[2];

	/* Scratch for vis_pick() and vis_track(), sized for --max points, so
	 * that no frame allocates. */
	float *ref, *cur, *errs, *fb, *scratch;
	uint8_t *ok, *lk_ok;
	int *idx;
};

struct region *region_new(const struct roi_spec *spec, int w, int h,
    const struct options *opt);
void region_free(struct region *reg);
/* Track the region's points into frame img at time ts. */
void region_frame(struct region *reg, const struct vis_image *img, ts_us ts,
    const struct options *opt);

#endif
