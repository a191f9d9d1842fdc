/*
 * motionpts: track sub-pixel motion points in a Y4M stream and write their
 * displacements as the motion CSV. See motionpts(1).
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "motionpts.h"
#include "y4m.h"
#include "overlay.h"
#include "stats.h"
#include "xalloc.h"

static void
usage(FILE *fp, int status)
{
	fputs("usage: motionpts [--roi NAME=X,Y,W,H]... [--max N] "
	    "[--min-distance PX]\n"
	    "                 [--quality Q] [--win PX] [--levels N] "
	    "[--reanchor DUR]\n"
	    "                 [--fb-max PX] [--overlay FILE.y4m] [--gain K] "
	    "[--src ID]\n"
	    "                 [--refine SPLINE] [--iso] [--threads N]\n"
	    "                 [--stats FILE [--stats-every DUR]] [input]\n"
	    "\n"
	    "Track motion points in a Y4M stream (stdin by default) and write\n"
	    "ts,src,roi,pt,x,y,dx,dy,err for every point in every frame.\n"
	    "\n"
	    "  --roi NAME=X,Y,W,H  a region to pick points in (repeatable; "
	    "default:\n"
	    "                      the whole frame, named \"all\")\n"
	    "  --max N             points per region (default 100)\n"
	    "  --min-distance PX   between points (default 8)\n"
	    "  --quality Q         weakest corner kept, as a fraction of the "
	    "strongest\n"
	    "                      (default 0.01)\n"
	    "  --win PX            tracking window side (default 17)\n"
	    "  --levels N          pyramid levels for points lost at full "
	    "resolution\n"
	    "                      (default 2)\n"
	    "  --reanchor DUR      renew the reference image this often "
	    "(default 60s;\n"
	    "                      0: never)\n"
	    "  --fb-max PX         drop points whose forward-backward error is "
	    "larger\n"
	    "                      (default 0.2)\n"
	    "  --overlay FILE.y4m  also write the frames with points and "
	    "vectors drawn\n"
	    "  --gain K            magnify the drawn vectors K times "
	    "(default 20)\n"
	    "  --refine SPLINE     align each point on a B-spline image model: "
	    "quintic\n"
	    "                      (default), cubic, or none (OpenCV's "
	    "bilinear LK alone)\n"
	    "  --src ID            source id (default: the stream's XSRC, or "
	    "\"stdin\")\n"
	    "  --iso               write times as RFC 3339\n"
	    "  --threads N         threads for tracking (default 1)\n"
	    "  --stats FILE        health figures as series CSV to FILE (or fd:N):"
	    "\n"
	    "                      frames, points tracked, points lost\n"
	    "  --stats-every DUR   their period, in stream time (default 10s)\n"
	    "  -h, --help          this help\n"
	    "      --version       the version\n", fp);
	exit(status == 0 ? cli_finish(0) : status);
}

enum {
	OPT_ROI = 256, OPT_MAX, OPT_MIN_DISTANCE, OPT_QUALITY, OPT_WIN,
	OPT_LEVELS, OPT_REANCHOR, OPT_FB_MAX, OPT_OVERLAY, OPT_GAIN, OPT_SRC,
	OPT_ISO, OPT_THREADS, OPT_REFINE, OPT_VERSION, OPT_STATS,
	OPT_STATS_EVERY,
};

static const struct option longopts[] = {
	{ "roi", required_argument, NULL, OPT_ROI },
	{ "max", required_argument, NULL, OPT_MAX },
	{ "min-distance", required_argument, NULL, OPT_MIN_DISTANCE },
	{ "quality", required_argument, NULL, OPT_QUALITY },
	{ "win", required_argument, NULL, OPT_WIN },
	{ "levels", required_argument, NULL, OPT_LEVELS },
	{ "reanchor", required_argument, NULL, OPT_REANCHOR },
	{ "fb-max", required_argument, NULL, OPT_FB_MAX },
	{ "overlay", required_argument, NULL, OPT_OVERLAY },
	{ "gain", required_argument, NULL, OPT_GAIN },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "iso", no_argument, NULL, OPT_ISO },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "stats-every", required_argument, NULL, OPT_STATS_EVERY },
	{ "refine", required_argument, NULL, OPT_REFINE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* "NAME=X,Y,W,H" */
static void
add_roi(struct options *opt, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct roi_spec *r;
	int v[4];

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= ROI_NAME_MAX)
		cli_usage_error("--roi: expected NAME=X,Y,W,H: '%s'", arg);
	cli_ints("--roi", eq + 1, ',', 4, v);
	if (v[2] < 1 || v[3] < 1)
		cli_usage_error("--roi: empty region: '%s'", arg);
	opt->rois = xreallocarray(opt->rois, (size_t)opt->nrois + 1, sizeof *r);
	r = &opt->rois[opt->nrois++];
	memset(r, 0, sizeof *r);
	memcpy(r->name, arg, (size_t)(eq - arg));
	for (int i = 0; i < opt->nrois - 1; i++)
		if (strcmp(opt->rois[i].name, r->name) == 0)
			cli_usage_error("--roi: region \"%s\" given twice",
			    r->name);
	r->r = (struct vis_rect){ v[0], v[1], v[2], v[3] };
}

static void
parse_option(int c, const char *arg, struct options *opt)
{
	switch (c) {
	case OPT_ROI: add_roi(opt, arg); break;
	case OPT_MAX: opt->max = (int)cli_long("--max", arg, 1, 10000); break;
	case OPT_MIN_DISTANCE:
		opt->min_dist = cli_double("--min-distance", arg, 1, 1000);
		break;
	case OPT_QUALITY:
		opt->quality = cli_double("--quality", arg, 1e-6, 1);
		break;
	case OPT_WIN:
		opt->lk.win = (int)cli_long("--win", arg, 5, 101);
		if (opt->lk.win % 2 == 0)
			cli_usage_error("--win: must be odd: '%s'", arg);
		break;
	case OPT_LEVELS:
		opt->lk.levels = (int)cli_long("--levels", arg, 0, 6);
		break;
	case OPT_REANCHOR:
		opt->reanchor = cli_seconds("--reanchor", arg, 0, 1e9);
		break;
	case OPT_FB_MAX:
		opt->fb_max = cli_double("--fb-max", arg, 0.001, 100);
		break;
	case OPT_OVERLAY: opt->overlay = arg; break;
	case OPT_GAIN: opt->gain = cli_double("--gain", arg, 0, 1e6); break;
	case OPT_SRC: opt->src = cli_src(arg); break;
	case OPT_ISO: opt->iso = 1; break;
	case OPT_REFINE:
		if (strcmp(arg, "quintic") == 0)
			opt->spline = 5;
		else if (strcmp(arg, "cubic") == 0)
			opt->spline = 3;
		else if (strcmp(arg, "none") == 0)
			opt->spline = 0;
		else
			cli_usage_error("--refine: expected quintic, cubic or "
			    "none: '%s'", arg);
		break;
	case OPT_THREADS:
		opt->threads = (int)cli_long("--threads", arg, 1, 64);
		break;
	case 'h': usage(stdout, 0); break;
	case OPT_VERSION: cli_version(); break;
	case OPT_STATS: opt->stats = arg; break;
	case OPT_STATS_EVERY:
		opt->stats_every = stats_period(arg);
		break;
	default: cli_usage_hint();
	}
}

/* Regions must lie inside the frame: say which one does not. */
static void
check_rois(struct options *opt, int w, int h)
{
	if (opt->nrois == 0) {
		opt->rois = xcalloc(1, sizeof *opt->rois);
		strcpy(opt->rois[0].name, "all");
		opt->rois[0].r = (struct vis_rect){ 0, 0, w, h };
		opt->nrois = 1;
	}
	for (int i = 0; i < opt->nrois; i++) {
		struct vis_rect r = opt->rois[i].r;
		if ((long)r.x + r.w > w || (long)r.y + r.h > h)
			cli_usage_error("--roi %s=%d,%d,%d,%d: outside the "
			    "%dx%d frame", opt->rois[i].name, r.x, r.y, r.w,
			    r.h, w, h);
	}
}

struct output {
	struct csv_out csv;
	const char *src;
	int iso;
	struct overlay overlay;         /* --overlay, when fp is set */
};

static void
write_rows(struct output *out, const struct region *reg, ts_us ts)
{
	char t[TS_BUFSZ];

	ts_format(ts, out->iso, t);
	for (int i = 0; i < reg->n; i++) {
		const struct point *p = &reg->pts[i];
		csvout_str(&out->csv, t);
		csvout_str(&out->csv, out->src);
		csvout_str(&out->csv, reg->spec->name);
		csvout_long(&out->csv, p->id);
		csvout_double(&out->csv, p->x, 4);
		csvout_double(&out->csv, p->y, 4);
		csvout_double(&out->csv, p->x - p->rx, 4);
		csvout_double(&out->csv, p->y - p->ry, 4);
		csvout_double(&out->csv, p->err, 4);
		csvout_end(&out->csv);
	}
}

/* The frame with each point circled and its displacement drawn gain
 * times larger, so a person can see what is tracked. */
static void
write_overlay(struct overlay *o, struct region **regs, int nregs,
    const uint8_t *luma, const struct y4m_frame *f, double gain)
{
	uint8_t *buf = overlay_begin(o, luma);
	int w = o->info.width, h = o->info.height;

	for (int r = 0; r < nregs; r++)
		for (int i = 0; i < regs[r]->n; i++) {
			const struct point *p = &regs[r]->pts[i];
			vis_draw_marker(buf, w, h, w, p->x, p->y,
			    p->x + (float)gain * (p->x - p->rx),
			    p->y + (float)gain * (p->y - p->ry), 255);
		}
	overlay_write(o, f);
}

/* Frames tracked so far, the video time they reach and the speed. */
static void
show_progress(struct cli_progress *p, long n, ts_us pts, int force)
{
	double spent = ts_elapsed() - p->started;

	cli_progress(p, force, "%ld frames, %.1f s of video, %.0f frames/s", n,
	    ts_to_sec(pts), spent > 0 ? (double)n / spent : 0);
}

static int
run(struct options *opt, FILE *in, const char *name)
{
	struct y4m_reader r;
	struct y4m_frame f;
	struct output out = { .iso = opt->iso };
	struct stats *st = NULL;
	int st_frames = 0, st_points = 0, st_lost = 0;
	struct region **regs;
	uint8_t *frame;
	struct cli_progress progress;
	long n = 0;
	int rc;

	if (y4m_open(&r, in, name) < 0) {
		warnx("%s", r.err);
		return 1;
	}
	check_rois(opt, r.info.width, r.info.height);
	out.src = opt->src ? opt->src : r.info.src[0] ? r.info.src : "stdin";
	frame = xmalloc(r.frame_size);
	regs = xcalloc((size_t)opt->nrois, sizeof *regs);
	for (int i = 0; i < opt->nrois; i++)
		regs[i] = region_new(&opt->rois[i], r.info.width,
		    r.info.height, opt);
	if (opt->overlay)
		overlay_open(&out.overlay, opt->overlay, &r.info);

	if (opt->stats != NULL) {
		st = stats_open(opt->stats, "motionpts", out.src,
		    opt->stats_every);
		st_frames = stats_figure(st, "frames", STATS_COUNT);
		st_points = stats_figure(st, "points", STATS_GAUGE);
		st_lost = stats_figure(st, "points_lost", STATS_COUNT);
	}
	csvout_init(&out.csv, stdout);
	fputs("ts,src,roi,pt,x,y,dx,dy,err\n", stdout);
	cli_progress_init(&progress, fileno(in));
	while ((rc = y4m_read_frame(&r, frame, &f)) > 0) {
		/* The luma plane comes first whatever the colour space. */
		struct vis_image img = { frame, r.info.width, r.info.height,
			r.info.width };
		ts_us ts = r.info.t0 + f.pts;

		if (st != NULL)
			stats_tick(st, ts);
		for (int i = 0; i < opt->nrois; i++) {
			int before = regs[i]->dropped;
			region_frame(regs[i], &img, ts, opt);
			write_rows(&out, regs[i], ts);
			if (st != NULL && regs[i]->dropped > before)
				stats_add(st, st_lost, regs[i]->dropped - before);
		}
		if (st != NULL) {
			int pts = 0;
			for (int i = 0; i < opt->nrois; i++)
				pts += regs[i]->n;
			stats_add(st, st_frames, 1);
			stats_set(st, st_points, pts);
		}
		if (out.overlay.fp != NULL)
			write_overlay(&out.overlay, regs, opt->nrois, frame, &f,
			    opt->gain);
		fflush(stdout);
		cli_check_write(stdout, "stdout");
		show_progress(&progress, ++n, f.pts, 0);
	}
	if (progress.drawn)
		show_progress(&progress, n, f.pts, 1);
	cli_progress_end(&progress);
	if (rc < 0)
		warnx("%s", r.err);
	for (int i = 0; i < opt->nrois; i++)
		region_free(regs[i]);
	free(regs);
	free(frame);
	overlay_close(&out.overlay);
	stats_close(st);
	return rc < 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct options opt = {
		.max = 100, .min_dist = 8, .quality = 0.01,
		.lk = { .win = 17, .levels = 2, .max_iter = 30, .eps = 0.001 },
		.reanchor = 60, .fb_max = 0.2, .gain = 20, .threads = 1,
		.spline = 5,
	};
	const char *name = "stdin";
	FILE *in = stdin;
	int c, status;

	cli_init(argv);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		parse_option(c, optarg, &opt);
	if (argc - optind > 1)
		cli_usage_error("one input at most (got %d)", argc - optind);
	if (optind < argc && (in = cli_open(argv[optind], &name)) == NULL)
		return 1;
	/* Refined, OpenCV's estimate need only be near: the refinement's
	 * first step takes it the rest of the way (and costs less than LK's
	 * last iterations). */
	if (opt.spline > 0)
		opt.lk.eps = 0.01;
	vis_set_threads(opt.threads);
	status = run(&opt, in, name);
	free(opt.rois);
	return cli_finish(status);
}
