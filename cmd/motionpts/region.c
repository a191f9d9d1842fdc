#include <err.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "motionpts.h"
#include "xalloc.h"

/* Look again for corners in a region this often when it has fewer points
 * than it may and none were lost (seconds). */
#define REPICK_INTERVAL 1.0
/* Seconds a region must keep its points before losing them all is
 * reported again. */
#define LOST_QUIET 60.0

/* A refined point may have moved from its LK estimate by this much (px);
 * more, and one of them is wrong. */
#define REFINE_MAX_STEP 1.0

/* r grown by m on every side, clipped to the w x h frame. */
static struct vis_rect
grow(struct vis_rect r, int m, int w, int h)
{
	int x0 = r.x - m < 0 ? 0 : r.x - m;
	int y0 = r.y - m < 0 ? 0 : r.y - m;
	int x1 = r.x + r.w + m > w ? w : r.x + r.w + m;
	int y1 = r.y + r.h + m > h ? h : r.y + r.h + m;

	return (struct vis_rect){ x0, y0, x1 - x0, y1 - y0 };
}

/* The LK window reaches win/2 << levels pixels around a point at the top
 * of the pyramid: the crop keeps that much around the region. */
static struct vis_rect
crop_for(struct vis_rect r, int w, int h, const struct vis_params *lk)
{
	return grow(r, (lk->win / 2 + 2) << lk->levels, w, h);
}

/* The spline model covers a window around every point of the region, with
 * room for the points to move and 16 px more, where the effect of its
 * mirrored edges (falling by 0.43 a pixel) has faded. */
static struct vis_rect
plane_for(struct vis_rect r, int w, int h, const struct vis_params *lk)
{
	return grow(r, lk->win / 2 + 16, w, h);
}

struct region *
region_new(const struct roi_spec *spec, int w, int h,
    const struct options *opt)
{
	struct region *reg = xcalloc(1, sizeof *reg);

	reg->spec = spec;
	reg->trk = vis_tracker_new(&opt->lk);
	if (reg->trk == NULL)
		errx(1, "out of memory");
	reg->crop = crop_for(spec->r, w, h, &opt->lk);
	if (opt->spline > 0) {
		reg->prect = plane_for(spec->r, w, h, &opt->lk);
		sp_plane_init(&reg->ref_plane, reg->prect.w, reg->prect.h,
		    opt->spline);
		sp_plane_init(&reg->cur_plane, reg->prect.w, reg->prect.h,
		    opt->spline);
		reg->refiner = sp_refiner_new(opt->lk.win / 2, opt->spline);
		reg->tmpl = xcalloc((size_t)opt->max, sizeof *reg->tmpl);
		for (int i = 0; i < opt->max; i++)
			sp_template_init(&reg->tmpl[i], reg->refiner);
	}
	reg->max = opt->max;
	reg->pts = xcalloc((size_t)opt->max, sizeof *reg->pts);
	reg->ref = xcalloc((size_t)opt->max * 2, sizeof *reg->ref);
	reg->cur = xcalloc((size_t)opt->max * 2, sizeof *reg->cur);
	reg->scratch = xcalloc((size_t)opt->max * 2, sizeof *reg->scratch);
	reg->errs = xcalloc((size_t)opt->max, sizeof *reg->errs);
	reg->fb = xcalloc((size_t)opt->max, sizeof *reg->fb);
	reg->ok = xcalloc((size_t)opt->max, 1);
	reg->lk_ok = xcalloc((size_t)opt->max, 1);
	reg->idx = xcalloc((size_t)opt->max, sizeof *reg->idx);
	reg->next_id = 1;
	return reg;
}

void
region_free(struct region *reg)
{
	if (reg == NULL)
		return;
	vis_tracker_free(reg->trk);
	sp_plane_free(&reg->ref_plane);
	sp_plane_free(&reg->cur_plane);
	sp_refiner_free(reg->refiner);
	for (int i = 0; reg->tmpl != NULL && i < reg->max; i++)
		sp_template_free(&reg->tmpl[i]);
	free(reg->tmpl);
	free(reg->pts);
	free(reg->ref);
	free(reg->cur);
	free(reg->scratch);
	free(reg->errs);
	free(reg->fb);
	free(reg->ok);
	free(reg->lk_ok);
	free(reg->idx);
	free(reg);
}

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* Median of (a - b) over the points, fields chosen by offset. */
static float
median_offset(const struct region *reg, size_t a, size_t b)
{
	float *v = reg->scratch, m;

	if (reg->n == 0)
		return 0;
	for (int i = 0; i < reg->n; i++) {
		const char *p = (const char *)&reg->pts[i];
		v[i] = *(const float *)(p + a) - *(const float *)(p + b);
	}
	qsort(v, (size_t)reg->n, sizeof *v, cmp_float);
	m = reg->n % 2 ? v[reg->n / 2] :
	    (v[reg->n / 2 - 1] + v[reg->n / 2]) / 2;
	return m;
}

#define OFF(f) offsetof(struct point, f)

/* The region's crop of img as a B-spline model. */
static void
model(struct sp_plane *p, const struct vis_image *img, struct vis_rect crop)
{
	sp_prefilter(p, img->data + (size_t)crop.y * (size_t)img->stride +
	    (size_t)crop.x, crop.w, crop.h, img->stride);
}

/*
 * Make the current frame the region's reference image. Points keep their
 * first reference position r, so displacement stays measured from the
 * same place; only the template they are tracked from is renewed.
 */
static void
anchor(struct region *reg, const struct vis_image *img, ts_us ts)
{
	for (int i = 0; i < reg->n; i++) {
		reg->pts[i].tx = reg->pts[i].x;
		reg->pts[i].ty = reg->pts[i].y;
		reg->pts[i].has_tmpl = 0;
	}
	reg->ax = median_offset(reg, OFF(tx), OFF(rx));
	reg->ay = median_offset(reg, OFF(ty), OFF(ry));
	vis_set_reference(reg->trk, img, reg->crop);
	if (reg->refiner != NULL)
		model(&reg->ref_plane, img, reg->prect);
	reg->anchored = 1;
	reg->anchored_at = ts;
}

/* New corners in the reference image, away from the points we have. */
static void
replenish(struct region *reg, ts_us ts, const struct options *opt)
{
	int want = opt->max - reg->n, got;
	float *avoid = reg->ref, *found = reg->cur, gx, gy;

	for (int i = 0; i < reg->n; i++) {
		avoid[2 * i] = reg->pts[i].tx;
		avoid[2 * i + 1] = reg->pts[i].ty;
	}
	got = vis_pick(reg->trk, reg->spec->r, want, opt->quality,
	    opt->min_dist, avoid, reg->n, found);
	/* Where the new points are now: where the others have gone. */
	gx = median_offset(reg, OFF(x), OFF(tx));
	gy = median_offset(reg, OFF(y), OFF(ty));
	for (int i = 0; i < got; i++) {
		struct point *p = &reg->pts[reg->n++];
		p->id = reg->next_id++;
		p->tx = found[2 * i];
		p->ty = found[2 * i + 1];
		p->rx = p->tx - reg->ax;
		p->ry = p->ty - reg->ay;
		p->x = p->tx + gx;
		p->y = p->ty + gy;
		p->has_tmpl = 0;
	}
	if (reg->n == 0 && !reg->flat)
		warnx("region \"%s\": nothing to track (a flat image?); "
		    "looking again every %g s", reg->spec->name,
		    REPICK_INTERVAL);
	reg->flat = reg->n == 0;
	reg->picked = 1;
	reg->picked_at = ts;
	reg->dropped = 0;
}

static int
needs_points(const struct region *reg, ts_us ts, const struct options *opt)
{
	if (reg->n >= opt->max)
		return 0;
	return reg->dropped > 0 || !reg->picked ||
	    ts - reg->picked_at >= ts_from_sec(REPICK_INTERVAL);
}

/* Keep the points that were found, came back to where they started and
 * stayed in the frame. */
static void
keep_reliable(struct region *reg, const uint8_t *ok, const float *fb,
    const struct vis_image *img, const struct options *opt)
{
	int kept = 0;

	for (int i = 0; i < reg->n; i++) {
		struct point *p = &reg->pts[i];
		if (!ok[i] || !(fb[i] <= opt->fb_max) || p->x < 0 ||
		    p->y < 0 || p->x > img->w - 1 || p->y > img->h - 1)
			continue;
		p->err = fb[i];
		if (reg->tmpl != NULL && kept != i) {
			/* its template goes with it */
			struct sp_template t = reg->tmpl[kept];
			reg->tmpl[kept] = reg->tmpl[i];
			reg->tmpl[i] = t;
		}
		reg->pts[kept++] = *p;
	}
	reg->dropped += reg->n - kept;
	reg->n = kept;
}

/* Align point i on the B-spline models, from where it is now (lib/subpix.h);
 * its template is taken at the first frame after an anchor. */
static int
align(struct region *reg, int i)
{
	struct point *p = &reg->pts[i];
	double ox = reg->prect.x, oy = reg->prect.y;
	double x = p->x - ox, y = p->y - oy;

	if (!p->has_tmpl) {
		if (sp_template_take(reg->refiner, &reg->ref_plane, p->tx - ox,
		    p->ty - oy, &reg->tmpl[i]) < 0)
			return -1;
		p->has_tmpl = 1;
	}
	if (sp_align(reg->refiner, &reg->tmpl[i], &reg->cur_plane, &x, &y,
	    REFINE_MAX_STEP) < 0)
		return -1;
	p->x = (float)(x + ox);
	p->y = (float)(y + oy);
	return 0;
}

/*
 * --refine: each point aligned on the B-spline models from where it was a
 * frame ago, which for a vibration is a fraction of a pixel away. The few
 * it does not find (a jolt, a point lost) go through OpenCV's pyramid LK
 * first, and are aligned again from where that puts them. Either way the
 * position is the spline's, unbiased; the forward-backward check is
 * OpenCV's, as without --refine.
 */
static void
track_refined(struct region *reg, const struct vis_image *img)
{
	float *ref = reg->ref, *cur = reg->cur;
	int *idx = reg->idx, nlost = 0, nfound = 0;

	model(&reg->cur_plane, img, reg->prect);
	for (int i = 0; i < reg->n; i++) {
		reg->ok[i] = align(reg, i) == 0;
		if (!reg->ok[i])
			idx[nlost++] = i;
	}
	if (nlost > 0) {
		for (int k = 0; k < nlost; k++) {
			const struct point *p = &reg->pts[idx[k]];
			ref[2 * k] = p->tx;
			ref[2 * k + 1] = p->ty;
			cur[2 * k] = p->x;
			cur[2 * k + 1] = p->y;
		}
		vis_track(reg->trk, img, nlost, ref, cur, reg->lk_ok, reg->errs,
		    reg->scratch);
		for (int k = 0; k < nlost; k++) {
			int i = idx[k];
			if (!reg->lk_ok[k])
				continue;
			reg->pts[i].x = cur[2 * k];
			reg->pts[i].y = cur[2 * k + 1];
			reg->ok[i] = align(reg, i) == 0;
			reg->fb[i] = reg->scratch[k];
		}
	}
	/* The forward-backward check for the points found at once. */
	for (int i = 0, k = 0; i < reg->n; i++) {
		if (k < nlost && idx[k] == i) {
			k++;
			continue;
		}
		ref[2 * nfound] = reg->pts[i].tx;
		ref[2 * nfound + 1] = reg->pts[i].ty;
		cur[2 * nfound] = reg->pts[i].x;
		cur[2 * nfound + 1] = reg->pts[i].y;
		idx[nlost + nfound++] = i;
	}
	vis_track_back(reg->trk, img, nfound, ref, cur, reg->scratch);
	for (int k = 0; k < nfound; k++)
		reg->fb[idx[nlost + k]] = reg->scratch[k];
}

static void
track(struct region *reg, const struct vis_image *img,
    const struct options *opt)
{
	size_t n = (size_t)reg->n;
	float *ref = reg->ref, *cur = reg->cur;

	if (reg->refiner != NULL) {
		track_refined(reg, img);
		keep_reliable(reg, reg->ok, reg->fb, img, opt);
		return;
	}

	for (size_t i = 0; i < n; i++) {
		ref[2 * i] = reg->pts[i].tx;
		ref[2 * i + 1] = reg->pts[i].ty;
		cur[2 * i] = reg->pts[i].x;
		cur[2 * i + 1] = reg->pts[i].y;
	}
	vis_track(reg->trk, img, reg->n, ref, cur, reg->ok, reg->errs,
	    reg->fb);
	for (size_t i = 0; i < n; i++) {
		reg->pts[i].x = cur[2 * i];
		reg->pts[i].y = cur[2 * i + 1];
	}
	keep_reliable(reg, reg->ok, reg->fb, img, opt);
}

/*
 * Is the region near its mean position now? Tracking error depends on the
 * sub-pixel offset between a template and the image, so a reference
 * renewed while the region is swung out measures the swing differently
 * (2.5% of a 0.5 px amplitude, renewing 4 times a second). Renewing at
 * rest keeps the new template where the first one was. Also updates the
 * running statistics (about a second's memory at 120 frames/s).
 */
static int
at_rest(struct region *reg)
{
	float d[2];
	int rest = 1;

	d[0] = median_offset(reg, OFF(x), OFF(rx));
	d[1] = median_offset(reg, OFF(y), OFF(ry));
	for (int a = 0; a < 2; a++) {
		double dev = d[a] - reg->mean[a];
		if (fabs(dev) > 0.1 * sqrt(reg->var[a]) + 0.002)
			rest = 0;
		reg->mean[a] += 0.01 * dev;
		reg->var[a] += 0.01 * (dev * dev - reg->var[a]);
	}
	return rest;
}

/* --reanchor is due, and the region is at rest or has kept us waiting
 * half the interval more. */
static int
renew_now(struct region *reg, ts_us ts, const struct options *opt)
{
	ts_us every = ts_from_sec(opt->reanchor), since;
	int rest;

	if (reg->n == 0)
		return 0;
	rest = at_rest(reg);
	since = ts - reg->anchored_at;
	return opt->reanchor > 0 && since >= every &&
	    (rest || since >= every + every / 2);
}

void
region_frame(struct region *reg, const struct vis_image *img, ts_us ts,
    const struct options *opt)
{
	if (!reg->anchored)
		anchor(reg, img, ts);
	/* a flat reference (a black first frame) has nothing to pick, now or
	 * ever: looking again means in the frame of now */
	if (reg->flat && reg->n == 0 && needs_points(reg, ts, opt)) {
		anchor(reg, img, ts);
		reg->ax = reg->ay = 0;
	}
	if (needs_points(reg, ts, opt))
		replenish(reg, ts, opt);
	if (reg->n == 0)
		return;
	track(reg, img, opt);
	/* After tracking: the template is taken where the points now are. */
	if (renew_now(reg, ts, opt))
		anchor(reg, img, ts);
	/* Every point lost at once: the view itself changed (the camera was
	 * moved or knocked). Start again from this frame; displacements then
	 * count from the new view. */
	if (reg->n == 0) {
		/* Once, not at every frame of a busy scene: again only after
		 * the region has kept its points for a while. */
		if (!reg->lost_warned || ts - reg->lost_at >=
		    ts_from_sec(LOST_QUIET))
			warnx("region \"%s\": every point lost; taking a new "
			    "reference%s", reg->spec->name, reg->lost_warned ?
			    "" : " (again only after a minute without)");
		reg->lost_warned = 1;
		reg->lost_at = ts;
		anchor(reg, img, ts);
		reg->ax = reg->ay = 0;
		replenish(reg, ts, opt);
		if (reg->n > 0)
			track(reg, img, opt);
	}
}
