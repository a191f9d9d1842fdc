/*
 * people: persons (OpenCV's HOG detector) or faces (a Haar or LBP
 * cascade) in a Y4M stream, tracked across frames, as detections CSV.
 * See people(1).
 *
 * For every frame: a row per tracked detection in view, an "in" or "out"
 * row per crossing of --line, then one "frame" row with the count, so a
 * frame with nobody in it is seen downstream. Detection runs every
 * --every frames, and not at all while nothing moves; in between, tracks
 * move along their motion.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "overlay.h"
#include "people.h"
#include "stats.h"
#include "xalloc.h"
#include "y4m.h"

#define MAX_BOXES 512
#define FACE_CASCADE \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define STILL_STEP 4            /* motion gating samples every 4th pixel */
#define MIN_BLOB 60             /* px: a region that moved, smaller is noise */
#define FULL_EVERY 20           /* --background: the whole frame each 20th look */
#define WARM_UP 10              /* looks at the whole frame first */
#define SURE_MARGIN 1.0         /* HOG's SVM margin of a box taken as it is */
#define MOVING_SHARE 0.2        /* of a box's pixels: it is on what moved */
#define SMALL_REGION 100        /* px: a region this low, searched at 2x --scale */
#define COVERED_SHARE 0.3       /* of a track's box: what moved searches it */
#define HEIGHT_SURE 30          /* sure boxes before heights are checked */
#define HEIGHT_RATIO 1.5        /* a box this much taller or lower is not one */

struct options {
	const char *detect, *cascade, *model, *attributes, *src, *overlay;
	char **emotions;        /* --emotions, split */
	int nemotions;
	int attr_size[2];
	int every, threads, iso, has_line, max_missed, confirm, verbose;
	int background;         /* --background: history in frames, 0 off */
	int model_size[2];
	double scale, still, min_score;
	double rejoin;          /* --rejoin: seconds a lost track waits */
	struct line line;
	const char *stats;      /* --stats FILE or fd:N */
	ts_us stats_every;
};

static void __attribute__((noreturn))
usage(int status)
{
	static const char synopsis[] =
	    "usage: people [-v] [--detect person|face] [--cascade FILE]"
	    " [--model FILE.onnx\n"
	    "              [--model-size WxH] [--min-score S]] [--every N]"
	    " [--scale F]\n"
	    "              [--attributes FILE.onnx [--attributes-size WxH]"
	    " [--emotions LIST]]\n"
	    "              [--background N] [--still LEVEL]"
	    " [--line X1,Y1,X2,Y2]\n"
	    "              [--overlay FILE.y4m] [--src ID] [--max-missed N]"
	    " [--rejoin SECS]\n"
	    "              [--confirm N] [--threads N] [--iso]\n"
	    "              [--stats FILE [--stats-every DUR]] [input]\n";

	if (status != 0) {
		fputs(synopsis, stderr);
		exit(status);
	}
	fputs(synopsis, stdout);
	fputs("\n"
	    "Persons (or faces) in a YUV4MPEG2 stream, as frames writes it, from\n"
	    "input or standard input (\"-\"), tracked from frame to frame: one CSV\n"
	    "row per shown track and frame (ts,src,frame,track,kind,x,y,w,h,score),\n"
	    "a frame row with the count, and in/out rows where a track crosses\n"
	    "--line; crowdagg turns them into visitors per window.\n"
	    "\n"
	    "  --detect KIND      person (HOG, the default) or face (a cascade)\n"
	    "  --cascade FILE     the cascade for faces (OpenCV XML)\n"
	    "  --model FILE.onnx  a DNN detector (SSD output) instead\n"
	    "  --model-size WxH   the size the model takes (default 300x300)\n"
	    "  --min-score S      drop the model's detections below S (default 0.5)\n"
	    "  --attributes FILE.onnx  age, gender, emotion of each track\n"
	    "  --attributes-size WxH   the crop size it takes (default 64x64)\n"
	    "  --emotions LIST    names of its emotion scores, in order\n"
	    "  --every N          detect on every Nth frame (default 3)\n"
	    "  --scale F          detect on a copy scaled by F (default 2 for\n"
	    "                     persons with --background, else 1)\n"
	    "  --background N     fixed camera: learn the background over N looks\n"
	    "                     and detect where things moved (default 500 for\n"
	    "                     persons, 0 for faces and models; 0: everywhere)\n"
	    "  --still LEVEL      skip a look when the frame changed less (default 1)\n"
	    "  --line X1,Y1,X2,Y2 count tracks crossing this line (in, out)\n"
	    "  --overlay FILE.y4m the frames with the tracks boxed, to check by eye\n"
	    "  --src ID           the source id (default: the stream's)\n"
	    "  --max-missed N     looks a track may miss before it is lost\n"
	    "                     (default 2)\n"
	    "  --rejoin SECS      a lost track taken up again by one who looks\n"
	    "                     alike, near enough, within SECS (default 3)\n"
	    "  --confirm N        detections before a track is shown (default 1)\n"
	    "  --threads N        threads OpenCV may use (default: every core)\n"
	    "  --iso              times as RFC 3339\n"
	    "  --stats FILE       health figures as series CSV to FILE (or fd:N):\n"
	    "                     frames, looks, persons, tracks\n"
	    "  --stats-every DUR  their period, in stream time (default 10s)\n"
	    "  -v                 a summary on stderr at the end\n"
	    "  -h, --help         this help\n"
	    "      --version      the version\n", stdout);
	exit(cli_finish(0));
}

struct output {
	struct csv_out csv;
	const struct options *opt;
	const char *src, *kind;
	int iso;
	struct overlay overlay;         /* --overlay, when fp is set */
};

static void
row_start(struct output *out, const char *ts, long frame, long track,
    const char *kind)
{
	csvout_str(&out->csv, ts);
	csvout_str(&out->csv, out->src);
	csvout_long(&out->csv, frame);
	if (track > 0)
		csvout_long(&out->csv, track);
	else
		csvout_str(&out->csv, "");
	csvout_str(&out->csv, kind);
}

/* --attributes: age, gender, emotion, or empty where unknown. */
static void
row_attributes(struct output *out, const struct vis_attributes *a)
{
	const struct options *opt = out->opt;

	if (opt->attributes == NULL)
		return;
	if (a != NULL && a->age >= 0)
		csvout_double(&out->csv, a->age, 1);
	else
		csvout_str(&out->csv, "");
	csvout_str(&out->csv, a == NULL || a->gender < 0 ? "" :
	    a->gender == 0 ? "female" : "male");
	csvout_str(&out->csv, a == NULL || a->emotion < 0 ||
	    a->emotion >= opt->nemotions ? "" : opt->emotions[a->emotion]);
}

static void
row_box(struct output *out, const struct track *t, int with_score)
{
	csvout_double(&out->csv, t->x, 1);
	csvout_double(&out->csv, t->y, 1);
	csvout_double(&out->csv, t->w, 1);
	csvout_double(&out->csv, t->h, 1);
	if (with_score)
		csvout_double(&out->csv, t->score, 3);
	else
		csvout_str(&out->csv, "");
	row_attributes(out, with_score ? &t->attr : NULL);
	csvout_end(&out->csv);
}

/* This frame's rows: detections, crossings, then the count. */
/* The frame's rows; the number of tracks shown. */
static long
write_frame(struct output *out, struct tracker *tr, const struct options *opt,
    long frame, ts_us ts)
{
	char t[TS_BUFSZ];
	long count = 0;

	ts_format(ts, out->iso, t);
	for (int i = 0; i < tr->n; i++)
		if (track_visible(tr, &tr->t[i])) {
			row_start(out, t, frame, tr->t[i].id, out->kind);
			row_box(out, &tr->t[i], 1);
			count++;
		}
	for (int i = 0; i < tr->n; i++) {
		struct track *k = &tr->t[i];
		int c = opt->has_line && track_visible(tr, k) ?
		    line_crossed(tr, &opt->line, k) : 0;
		if (c != 0) {
			row_start(out, t, frame, k->id, c > 0 ? "in" : "out");
			row_box(out, k, 0);
		}
	}
	row_start(out, t, frame, 0, "frame");
	for (int i = 0; i < 4; i++)
		csvout_str(&out->csv, "");
	csvout_long(&out->csv, count);
	row_attributes(out, NULL);
	csvout_end(&out->csv);
	return count;
}

/* The frame with each shown track boxed and numbered, and the line. */
static void
write_overlay(struct output *out, const struct tracker *tr,
    const struct options *opt, const uint8_t *luma,
    const struct y4m_frame *f)
{
	uint8_t *buf = overlay_begin(&out->overlay, luma);
	int w = out->overlay.info.width, h = out->overlay.info.height;
	char id[32];

	for (int i = 0; i < tr->n; i++) {
		const struct track *t = &tr->t[i];
		struct vis_rect r = { (int)t->x, (int)t->y, (int)t->w,
			(int)t->h };
		if (!track_visible(tr, t))
			continue;
		snprintf(id, sizeof id, "%ld", t->id);
		vis_draw_box(buf, w, h, w, r, id, 255);
	}
	if (opt->has_line)
		vis_draw_marker(buf, w, h, w, opt->line.x1, opt->line.y1, opt->line.x2,
		    opt->line.y2, 0);
	overlay_write(&out->overlay, f);
}

/* Mean absolute grey difference between two frames, on a sparse grid:
 * below --still, nothing moved and detection can wait. */
static double
motion(const uint8_t *a, const uint8_t *b, int w, int h)
{
	long long sum = 0, n = 0;

	for (int y = 0; y < h; y += STILL_STEP)
		for (int x = 0; x < w; x += STILL_STEP) {
			int d = a[(size_t)y * w + x] - b[(size_t)y * w + x];
			sum += d < 0 ? -d : d;
			n++;
		}
	return n > 0 ? (double)sum / (double)n : 0;
}

/* A model or cascade file must be readable: said in our words, before
 * OpenCV prints its own. */
static const char *
readable(const char *path)
{
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		err(1, "%s", path);
	fclose(fp);
	return path;
}

static struct vis_detector *
make_detector(const struct options *opt)
{
	struct vis_detector *d;
	char why[512];

	if (opt->model != NULL) {
		if ((d = vis_dnn_new(readable(opt->model), opt->model_size[0],
		    opt->model_size[1], opt->min_score, why, sizeof why)) ==
		    NULL)
			errx(1, "%s: %s", opt->model, why);
	} else if (strcmp(opt->detect, "person") == 0) {
		if ((d = vis_people_new()) == NULL)
			errx(1, "out of memory");
	} else if ((d = vis_cascade_new(readable(opt->cascade))) == NULL) {
		errx(1, "%s: cannot load this cascade (Debian's opencv-data "
		    "has them; or give --cascade FILE)", opt->cascade);
	}
	return d;
}

static struct vis_classifier *
make_classifier(const struct options *opt)
{
	struct vis_classifier *c;
	char why[512];
	int n;

	if ((c = vis_classifier_new(readable(opt->attributes), opt->attr_size[0],
	    opt->attr_size[1], why, sizeof why)) == NULL)
		errx(1, "%s: %s", opt->attributes, why);
	if ((n = vis_classifier_emotions(c)) > 0 && n != opt->nemotions)
		errx(1, "%s: scores %d emotions, but --emotions names %d",
		    opt->attributes, n, opt->nemotions);
	return c;
}

/* The tracks detected in this round, classified on their new box. */
static void
classify_tracks(struct vis_classifier *c, struct tracker *tr,
    const struct vis_image *img, long frame, const char *name)
{
	char why[512];

	for (int i = 0; i < tr->n; i++) {
		struct track *t = &tr->t[i];
		struct vis_rect r = { (int)t->x, (int)t->y, (int)t->w,
			(int)t->h };
		if (t->lframe != frame)
			continue;
		if (vis_classify(c, img, r, &t->attr, why, sizeof why) < 0)
			errx(1, "%s: frame %ld: %s", name, frame, why);
	}
}

/* What looks for people in a frame, and what it has seen. */
struct looker {
	struct vis_detector *det;
	struct vis_classifier *cls;     /* --attributes, or NULL */
	struct vis_box *box;            /* MAX_BOXES */
	struct vis_motion *motion;      /* --background, or NULL */
	struct vis_box *blob;           /* MAX_BOXES: what moved */
	struct vis_rect *roi;           /* MAX_BOXES: where to look */
	uint8_t *last;                  /* the luma of the last look */
	long rounds, still;             /* looks made, and skipped */
	/* sums for the line of a person's height on their feet's row */
	double hn, hy, hh, hyy, hyh;
};

/* Rectangles a and b overlap (or touch)? */
static int
meet(const struct vis_rect *a, const struct vis_rect *b)
{
	return a->x <= b->x + b->w && b->x <= a->x + a->w &&
	    a->y <= b->y + b->h && b->y <= a->y + a->h;
}

/* Where to look: each of the nblob regions that moved, with room around
 * it for the detector's window (half its height on each side), and the
 * boxes of stopped tracks after them (nall in all) with a quarter: the
 * box is a person's already, and a half cost 10-40% more time
 * for no better count. Regions that meet become one, so no pixel is
 * searched twice. */
static int
regions_to_search(struct looker *lk, int nblob, int nall)
{
	int n = 0;

	for (int i = 0; i < nall; i++) {
		const struct vis_box *b = &lk->blob[i];
		int m = (int)(b->h / (i < nblob ? 2 : 4));
		if (m < 16)
			m = 16;
		struct vis_rect r = { (int)b->x - m, (int)b->y - m,
			(int)b->w + 2 * m, (int)b->h + 2 * m };
		for (int j = 0; j < n; j++)
			if (meet(&r, &lk->roi[j])) {
				int x0 = r.x < lk->roi[j].x ? r.x : lk->roi[j].x;
				int y0 = r.y < lk->roi[j].y ? r.y : lk->roi[j].y;
				int x1 = r.x + r.w > lk->roi[j].x + lk->roi[j].w ?
				    r.x + r.w : lk->roi[j].x + lk->roi[j].w;
				int y1 = r.y + r.h > lk->roi[j].y + lk->roi[j].h ?
				    r.y + r.h : lk->roi[j].y + lk->roi[j].h;
				r = (struct vis_rect){ x0, y0, x1 - x0, y1 - y0 };
				lk->roi[j] = lk->roi[--n];
				j = -1;         /* the grown one may meet more */
			}
		lk->roi[n++] = r;
	}
	return n;
}

/* The boxes of a look at the whole frame that are sure (an SVM margin of
 * SURE_MARGIN) or on what moved: below it, HOG's boxes are windows, a
 * van, a sign post. */
static int
keep_sure_or_moving(struct looker *lk, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		const struct vis_box *b = &lk->box[i];
		struct vis_rect r = { (int)b->x, (int)b->y, (int)b->w,
			(int)b->h };
		if (b->score >= SURE_MARGIN ||
		    vis_motion_share(lk->motion, r) >= MOVING_SHARE)
			lk->box[k++] = *b;
	}
	return k;
}

/* The area a and b have in common. */
static double
overlap_area(const struct vis_rect *a, const struct vis_box *b)
{
	double x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
	double x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
	double y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;

	return x1 > x0 && y1 > y0 ? (x1 - x0) * (y1 - y0) : 0;
}

/* Add to the nblob regions that moved the boxes of the tracks that moved
 * once and stand still now (what moved covers under COVERED_SHARE of the
 * box): people who stopped to talk fade into the background, all but a
 * waving hand, and the hand's small region alone was searched, not the
 * person (on vtest.avi's excerpt, two standing at the sign post were
 * lost so). (Searching where every track is kept
 * the false boxes on windows and vans alive, 16% too many people, and
 * cost 70% more time.) */
static int
add_stopped(struct looker *lk, const struct tracker *tr, int nblob)
{
	int n = nblob;

	for (int i = 0; i < tr->n && n < MAX_BOXES; i++) {
		const struct track *t = &tr->t[i];
		struct vis_rect r = { (int)t->x, (int)t->y, (int)t->w,
			(int)t->h };
		double covered = 0;
		if (!t->moved || t->misses > tr->max_missed)
			continue;
		for (int j = 0; j < nblob; j++)
			covered += overlap_area(&r, &lk->blob[j]);
		if (covered < COVERED_SHARE * r.w * r.h)
			lk->blob[n++] = (struct vis_box){ t->x, t->y, t->w,
				t->h, 0 };
	}
	return n;
}

/* The regions searched, the low ones (a person far away, 20 to 40 px
 * tall, smaller than HOG's window at --scale) at twice --scale; the
 * boxes found in both. */
static int
search_regions(struct looker *lk, const struct vis_image *img, int nroi,
    const struct options *opt, char *why, size_t whysz)
{
	int nlow = 0, a, b;

	for (int i = 0; i < nroi; i++)
		if (lk->roi[i].h < SMALL_REGION) {
			struct vis_rect r = lk->roi[nlow];
			lk->roi[nlow++] = lk->roi[i];
			lk->roi[i] = r;
		}
	if ((a = vis_detect_in(lk->det, img, 2 * opt->scale, lk->roi, nlow,
	    lk->box, MAX_BOXES, why, whysz)) < 0 ||
	    (b = vis_detect_in(lk->det, img, opt->scale, lk->roi + nlow,
	    nroi - nlow, lk->box + a, MAX_BOXES - a, why, whysz)) < 0)
		return -1;
	return a + b;
}

/*
 * A fixed camera: the background learnt at every look, and the detector
 * run only where something moved or someone stopped; the whole frame at
 * the first WARM_UP looks and every FULL_EVERY'th (before the background
 * is learnt, and for whoever stood still from the start), keeping what is
 * sure or moving.
 */
static int
detect_moving(struct looker *lk, const struct tracker *tr,
    const struct vis_image *img, const struct options *opt, char *why,
    size_t whysz)
{
	int nblob = vis_motion_boxes(lk->motion, img, MIN_BLOB, lk->blob,
	    MAX_BOXES, why, whysz), n;

	if (nblob < 0)
		return -1;
	if (lk->rounds > WARM_UP && (lk->rounds - 1) % FULL_EVERY != 0)
		return search_regions(lk, img, regions_to_search(lk, nblob,
		    add_stopped(lk, tr, nblob)), opt, why, whysz);
	n = vis_detect(lk->det, img, opt->scale, lk->box, MAX_BOXES, why,
	    whysz);
	return n < 0 ? -1 : keep_sure_or_moving(lk, n);
}

/* A fixed camera over flat ground: a person's height in the picture is a
 * line of the row their feet are on, fitted to the sure boxes (least
 * squares); once HEIGHT_SURE made it, a box HEIGHT_RATIO times taller or
 * lower than the line is dropped. What it drops are boxes around two
 * people, a person and their shadow, a post: such a box searched again
 * where its track stood found itself at every look (five false visitors
 * on vtest.avi). */
static int
keep_person_heights(struct looker *lk, int n)
{
	double d = lk->hn * lk->hyy - lk->hy * lk->hy;
	int k = 0;

	for (int i = 0; i < n; i++) {
		const struct vis_box *b = &lk->box[i];
		double foot = b->y + b->h, slope, want;
		if (lk->hn >= HEIGHT_SURE && d > 0) {
			slope = (lk->hn * lk->hyh - lk->hy * lk->hh) / d;
			want = (lk->hh - slope * lk->hy) / lk->hn + slope * foot;
			if (want > 0 && (b->h > want * HEIGHT_RATIO ||
			    b->h * HEIGHT_RATIO < want))
				continue;
		}
		if (b->score >= SURE_MARGIN) {
			lk->hn++;
			lk->hy += foot;
			lk->hh += b->h;
			lk->hyy += foot * foot;
			lk->hyh += foot * b->h;
		}
		lk->box[k++] = *b;
	}
	return k;
}

/* The tracks a look found on what moved are walkers (or were): if they
 * stop, their place is searched (add_stopped). */
static void
mark_moving(struct looker *lk, struct tracker *tr)
{
	for (int i = 0; i < tr->n; i++) {
		struct track *t = &tr->t[i];
		struct vis_rect r = { (int)t->x, (int)t->y, (int)t->w,
			(int)t->h };
		if (t->misses == 0 && !t->moved &&
		    vis_motion_share(lk->motion, r) >= MOVING_SHARE)
			t->moved = 1;
	}
}

/* A frame looked at: detections into the tracks, or, when nothing moved
 * since the last look, the tracks held as they are. */
static void
look(struct looker *lk, struct tracker *tr, const struct picture *pic,
    long index, const struct options *opt, const char *name)
{
	const struct vis_image *img = &(struct vis_image){ pic->y, pic->w,
		pic->h, pic->w };
	size_t size = (size_t)img->w * img->h;
	char why[512];
	int n;

	if (lk->last != NULL && motion(img->data, lk->last, img->w, img->h) <
	    opt->still) {
		tracker_hold(tr);
		lk->still++;
		return;
	}
	lk->rounds++;
	if (lk->motion != NULL)
		n = detect_moving(lk, tr, img, opt, why, sizeof why);
	else
		n = vis_detect(lk->det, img, opt->scale, lk->box, MAX_BOXES,
		    why, sizeof why);
	if (n < 0)
		errx(1, "%s: frame %ld: %s", name, index, why);
	if (lk->motion != NULL)
		n = keep_person_heights(lk, n);
	tracker_update(tr, lk->box, n, index, pic);
	if (lk->motion != NULL)
		mark_moving(lk, tr);
	if (lk->cls != NULL)
		classify_tracks(lk->cls, tr, img, index, name);
	if (lk->last == NULL)
		lk->last = xmalloc(size);
	memcpy(lk->last, img->data, size);
}

/* The luma plane comes first, then the chroma planes if any. */
static struct picture
picture_of(const uint8_t *frame, const struct y4m_info *info)
{
	struct picture p = { frame, NULL, NULL, info->width, info->height, 0,
		0 };
	size_t luma = (size_t)info->width * (size_t)info->height;

	y4m_chroma_size(info, &p.cw, &p.ch);
	if (p.cw > 0) {
		p.u = frame + luma;
		p.v = p.u + (size_t)p.cw * (size_t)p.ch;
	}
	return p;
}

/*
 * Where the feet are, down the box, for crossing lines: HOG's window has
 * room below the feet (OpenCV's peopledetect sample draws the person from
 * 7% to 87% of its height); a model's box ends at them; a face has none,
 * and its middle stands for the person.
 */
static float
foot_of(const struct options *opt)
{
	if (strcmp(opt->detect, "face") == 0)
		return 0.5f;
	return opt->model == NULL ? 0.87f : 1.0f;
}

static int
run(const struct options *opt, FILE *in, const char *name)
{
	struct y4m_reader r;
	struct y4m_frame f;
	struct output out = { .iso = opt->iso, .kind = opt->detect,
		.opt = opt };
	struct looker lk = { 0 };
	struct tracker tr;
	struct stats *st = NULL;
	int st_frames = 0, st_looks = 0, st_persons = 0, st_tracks = 0;
	uint8_t *frame;
	float fps;
	int rc;

	if (y4m_open(&r, in, name) < 0) {
		warnx("%s", r.err);
		return 1;
	}
	lk.box = xcalloc(MAX_BOXES, sizeof *lk.box);
	lk.det = make_detector(opt);
	if (opt->background > 0) {
		if ((lk.motion = vis_motion_new(opt->background)) == NULL)
			errx(1, "cannot make the background model");
		lk.blob = xcalloc(MAX_BOXES, sizeof *lk.blob);
		lk.roi = xcalloc(MAX_BOXES, sizeof *lk.roi);
	}
	fps = r.info.fps_den > 0 ? (float)r.info.fps_num / (float)r.info.fps_den :
	    0;
	tracker_init(&tr, opt->max_missed, opt->rejoin, opt->confirm, fps,
	    foot_of(opt));
	out.src = opt->src ? opt->src : r.info.src[0] ? r.info.src : "stdin";
	frame = xmalloc(r.frame_size);
	if (opt->overlay)
		overlay_open(&out.overlay, opt->overlay, &r.info);
	csvout_init(&out.csv, stdout);
	if (opt->attributes != NULL)
		lk.cls = make_classifier(opt);
	if (opt->stats != NULL) {
		st = stats_open(opt->stats, "people", out.src,
		    opt->stats_every);
		st_frames = stats_figure(st, "frames", STATS_COUNT);
		st_looks = stats_figure(st, "looks", STATS_COUNT);
		st_persons = stats_figure(st, "persons", STATS_GAUGE);
		st_tracks = stats_figure(st, "tracks", STATS_COUNT);
	}
	fputs(lk.cls != NULL ? "ts,src,frame,track,kind,x,y,w,h,score,age,gender,"
	    "emotion\n" : "ts,src,frame,track,kind,x,y,w,h,score\n", stdout);
	while ((rc = y4m_read_frame(&r, frame, &f)) > 0) {
		struct picture pic = picture_of(frame, &r.info);
		long shown, ids = tr.next_id, looks = lk.rounds;
		tracker_predict(&tr);
		if (f.index % opt->every == 0)
			look(&lk, &tr, &pic, f.index, opt, name);
		shown = write_frame(&out, &tr, opt, f.index, r.info.t0 + f.pts);
		if (st != NULL) {
			stats_tick(st, r.info.t0 + f.pts);
			stats_add(st, st_frames, 1);
			stats_add(st, st_looks, (double)(lk.rounds - looks));
			stats_set(st, st_persons, (double)shown);
			stats_add(st, st_tracks, (double)(tr.next_id - ids));
		}
		if (out.overlay.fp != NULL)
			write_overlay(&out, &tr, opt, frame, &f);
		fflush(stdout);
		cli_check_write(stdout, "stdout");
	}
	if (rc < 0)
		warnx("%s", r.err);
	if (opt->verbose)
		warnx("%ld frames, %ld detection rounds, %ld skipped (nothing "
		    "moved), %ld tracks, %ld re-joined", r.nframes, lk.rounds,
		    lk.still, tr.next_id - 1, tr.rejoined);
	stats_close(st);
	vis_detector_free(lk.det);
	vis_motion_free(lk.motion);
	free(lk.blob);
	free(lk.roi);
	if (lk.cls != NULL)
		vis_classifier_free(lk.cls);
	tracker_free(&tr);
	free(lk.box);
	free(frame);
	free(lk.last);
	overlay_close(&out.overlay);
	return rc < 0 ? 1 : 0;
}

static void
size_option(const char *name, const char *arg, int size[2])
{
	char extra;

	if (sscanf(arg, "%dx%d%c", &size[0], &size[1], &extra) != 2 ||
	    size[0] < 8 || size[1] < 8 || size[0] > 4096 || size[1] > 4096)
		cli_usage_error("%s: not WxH (8 to 4096): '%s'", name, arg);
}

/* --emotions a,b,c: the labels of the classifier's emotion scores. */
static void
split_emotions(struct options *opt, char *list)
{
	char *save, *t;

	free(opt->emotions);
	opt->emotions = NULL;
	opt->nemotions = 0;
	for (t = strtok_r(list, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		opt->emotions = xreallocarray(opt->emotions,
		    (size_t)opt->nemotions + 1, sizeof *opt->emotions);
		opt->emotions[opt->nemotions++] = t;
	}
	if (opt->nemotions == 0)
		cli_usage_error("--emotions: no names");
}

/* The options into opt (which holds the defaults). */
static void
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "detect", required_argument, NULL, 'd' },
		{ "cascade", required_argument, NULL, 'c' },
		{ "model", required_argument, NULL, 'M' },
		{ "attributes", required_argument, NULL, 'A' },
		{ "attributes-size", required_argument, NULL, 'Z' },
		{ "emotions", required_argument, NULL, 'E' },
		{ "model-size", required_argument, NULL, 'z' },
		{ "min-score", required_argument, NULL, 'n' },
		{ "every", required_argument, NULL, 'e' },
		{ "scale", required_argument, NULL, 's' },
		{ "still", required_argument, NULL, 'S' },
		{ "background", required_argument, NULL, 'B' },
		{ "line", required_argument, NULL, 'l' },
		{ "overlay", required_argument, NULL, 'o' },
		{ "src", required_argument, NULL, 'r' },
		{ "max-missed", required_argument, NULL, 'm' },
		{ "confirm", required_argument, NULL, 'C' },
		{ "rejoin", required_argument, NULL, 'R' },
		{ "threads", required_argument, NULL, 't' },
		{ "iso", no_argument, NULL, 'i' },
		{ "stats", required_argument, NULL, 'T' },
		{ "stats-every", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 } };
	int c, line[4];

	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (strcmp(optarg, "person") != 0 &&
			    strcmp(optarg, "face") != 0)
				cli_usage_error("--detect: person or face: "
				    "'%s'", optarg);
			opt->detect = optarg;
			break;
		case 'c': opt->cascade = optarg; break;
		case 'M': opt->model = optarg; break;
		case 'z': size_option("--model-size", optarg, opt->model_size);
			break;
		case 'A': opt->attributes = optarg; break;
		case 'Z': size_option("--attributes-size", optarg,
			    opt->attr_size);
			break;
		case 'E': split_emotions(opt, optarg); break;
		case 'n': opt->min_score = cli_double("--min-score", optarg,
			    0, 1);
			break;
		case 'e': opt->every = (int)cli_long("--every", optarg, 1, 1000);
			break;
		case 's': opt->scale = cli_double("--scale", optarg, 0.05, 4);
			break;
		case 'B': opt->background = (int)cli_long("--background",
			    optarg, 0, 100000);
			break;
		case 'S': opt->still = cli_double("--still", optarg, 0, 255);
			break;
		case 'l':
			cli_ints("--line", optarg, ',', 4, line);
			opt->line = (struct line){ (float)line[0],
				(float)line[1], (float)line[2],
				(float)line[3] };
			opt->has_line = 1;
			break;
		case 'o': opt->overlay = optarg; break;
		case 'r': opt->src = cli_src(optarg); break;
		case 'm': opt->max_missed = (int)cli_long("--max-missed",
			    optarg, 0, 1000);
			break;
		case 'R': opt->rejoin = cli_double("--rejoin", optarg, 0,
			    3600);
			break;
		case 'C': opt->confirm = (int)cli_long("--confirm", optarg, 1,
			    1000);
			break;
		case 't': opt->threads = (int)cli_long("--threads", optarg, 0,
			    256);
			break;
		case 'i': opt->iso = 1; break;
		case 'T': opt->stats = optarg; break;
		case 'P': opt->stats_every = stats_period(optarg); break;
		case 'v': opt->verbose = 1; break;
		case 'h': usage(0);
		case 'V': cli_version();
		default: cli_usage_hint();
		}
	}
}

/*
 * Persons with HOG (no --model): the background learnt (a fixed camera)
 * and the moving regions searched at twice their size, where HOG's
 * 64x128 window finds people from 64 px tall. At the size they come, it
 * found 3.6 of the 6 people a frame in vtest.avi: most are under 128 px
 * (bench/RESULTS.md, issue 22). Faces and models: the whole frame as it
 * is.
 */
static void
settle_defaults(struct options *opt)
{
	int hog = strcmp(opt->detect, "person") == 0 && opt->model == NULL;

	if (opt->background < 0)
		opt->background = hog ? 500 : 0;
	if (opt->scale < 0)
		opt->scale = hog && opt->background > 0 ? 2 : 1;
}

int
main(int argc, char **argv)
{
	struct options opt = { .detect = "person", .cascade = FACE_CASCADE,
		.every = 3, .scale = -1, .still = 1.0, .max_missed = 2,
		.confirm = 1, .threads = -1, .model_size = { 300, 300 },
		.min_score = 0.5, .attr_size = { 64, 64 }, .background = -1,
		.rejoin = 3 };
	/* FER+'s order, which emotion classifiers from the ONNX model zoo
	 * share */
	char emotions[] = "neutral,happiness,surprise,sadness,anger,disgust,"
	    "fear,contempt";
	int status;
	FILE *in = stdin;
	const char *name = "stdin";

	cli_init(argv);
	parse_options(argc, argv, &opt);
	settle_defaults(&opt);
	if (optind < argc - 1)
		cli_usage_error("one input at most");
	if (opt.emotions == NULL)
		split_emotions(&opt, emotions);
	if (optind == argc - 1 && (in = cli_open(argv[optind], &name)) == NULL) {
		free(opt.emotions);
		return 1;
	}
	if (opt.threads >= 0)
		vis_set_threads(opt.threads);
	status = run(&opt, in, name);
	free(opt.emotions);
	cli_close(in);
	return cli_finish(status);
}
