/*
 * frames: decode a video file, URL or capture device into a Y4M stream.
 * See frames(1).
 */
#include <err.h>
#include <getopt.h>
#include <libavdevice/avdevice.h>
#include <libavutil/log.h>
#include <libavutil/parseutils.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avinput.h"
#include "cli.h"
#include "frames.h"
#include "stats.h"

static void
usage(FILE *fp, int status)
{
	fputs("usage: frames [-v] [--src ID] [--color] [--fps RATE] "
	    "[--crop X,Y,W,H]\n"
	    "              [--scale WxH] [--start SEC] [--duration SEC] "
	    "[--frames N]\n"
	    "              [--t0 TIME] [--threads N] [--reconnect] "
	    "[--timeout SEC]\n"
	    "              [--rtsp-transport udp|tcp] [--format FMT] "
	    "[--skip-bad]\n"
	    "              [--stats FILE [--stats-every DUR]] [input]\n"
	    "       frames --info [--format FMT] [input]\n"
	    "\n"
	    "Decode video into a YUV4MPEG2 stream on stdout (gray by default).\n"
	    "input is a file, a URL (rtsp://, http://, udp://) or a capture\n"
	    "device (/dev/video0); without one, standard input is read.\n"
	    "\n"
	    "  --src ID         source id in the stream header (default: from "
	    "the input)\n"
	    "  --color          keep colour (4:2:0, C420jpeg) instead of gray\n"
	    "  --fps RATE       keep at most RATE frames a second, chosen by "
	    "timestamp\n"
	    "  --crop X,Y,W,H   keep this rectangle (before --scale)\n"
	    "  --scale WxH      resize to W by H pixels\n"
	    "  --start SEC      begin at this time in the input\n"
	    "  --duration SEC   stop after this much input time\n"
	    "  --frames N       stop after writing N frames\n"
	    "  --t0 TIME        wall-clock time of pts 0, Unix seconds or RFC "
	    "3339\n"
	    "                   (default: now for live inputs, 0 for files)\n"
	    "  --threads N      decoder threads (default 0: one per core)\n"
	    "  --reconnect      live inputs: reconnect after a drop, with "
	    "backoff\n"
	    "  --timeout SEC    live inputs: give up on a silent source "
	    "(default 10)\n"
	    "  --rtsp-transport udp|tcp  RTSP over this only (default: UDP, "
	    "then TCP)\n"
	    "  --format FMT     force the input format (v4l2, mpegts, ...)\n"
	    "  --skip-bad       report corrupt frames and go on instead of "
	    "stopping\n"
	    "  --stats FILE     health figures as series CSV to FILE (or fd:N):"
	    "\n"
	    "                   frames in and out, corrupt, seconds the picture"
	    " has\n"
	    "                   not changed, lag behind the clock (live)\n"
	    "  --stats-every DUR  their period, in stream time (default 10s)\n"
	    "  --info           print the input's streams as CSV and exit\n"
	    "  -v, --verbose    libav messages and a summary on stderr\n"
	    "  -h, --help       this help\n"
	    "      --version    the version\n", fp);
	exit(status == 0 ? cli_finish(0) : status);
}

enum {
	OPT_SRC = 256, OPT_COLOR, OPT_FPS, OPT_CROP, OPT_SCALE, OPT_START,
	OPT_DURATION, OPT_FRAMES, OPT_T0, OPT_THREADS, OPT_RECONNECT,
	OPT_TIMEOUT, OPT_RTSP_TRANSPORT, OPT_FORMAT, OPT_SKIP_BAD, OPT_INFO, OPT_VERSION,
	OPT_STATS, OPT_STATS_EVERY,
};

static const struct option longopts[] = {
	{ "src", required_argument, NULL, OPT_SRC },
	{ "color", no_argument, NULL, OPT_COLOR },
	{ "fps", required_argument, NULL, OPT_FPS },
	{ "crop", required_argument, NULL, OPT_CROP },
	{ "scale", required_argument, NULL, OPT_SCALE },
	{ "start", required_argument, NULL, OPT_START },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "frames", required_argument, NULL, OPT_FRAMES },
	{ "t0", required_argument, NULL, OPT_T0 },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "reconnect", no_argument, NULL, OPT_RECONNECT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "rtsp-transport", required_argument, NULL, OPT_RTSP_TRANSPORT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "skip-bad", no_argument, NULL, OPT_SKIP_BAD },
	{ "info", no_argument, NULL, OPT_INFO },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "stats-every", required_argument, NULL, OPT_STATS_EVERY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void
parse_scale(const char *arg, struct options *opt)
{
	int wh[2];

	cli_ints("--scale", arg, 'x', 2, wh);
	if (wh[0] < 2 || wh[1] < 2 || wh[0] > Y4M_MAX_DIM ||
	    wh[1] > Y4M_MAX_DIM)
		cli_usage_error("--scale: size out of range: '%s'", arg);
	opt->scale_w = wh[0];
	opt->scale_h = wh[1];
}

static void
parse_fps(const char *arg, struct options *opt)
{
	if (av_parse_video_rate(&opt->fps, arg) < 0 || opt->fps.num <= 0 ||
	    opt->fps.den <= 0)
		cli_usage_error("--fps: not a frame rate: '%s'", arg);
}

static void
parse_t0(const char *arg, struct options *opt)
{
	if (ts_parse(arg, &opt->t0) < 0)
		cli_usage_error("--t0: not a time (Unix seconds or RFC 3339): "
		    "'%s'", arg);
	opt->has_t0 = 1;
}

static void
parse_option(int c, const char *arg, struct options *opt)
{
	switch (c) {
	case OPT_SRC: strcpy(opt->src, cli_src(arg)); break;
	case OPT_COLOR: opt->color = 1; break;
	case OPT_FPS: parse_fps(arg, opt); break;
	case OPT_CROP:
		cli_ints("--crop", arg, ',', 4, opt->crop);
		if (opt->crop[2] < 2 || opt->crop[3] < 2)
			cli_usage_error("--crop: width and height must be at "
			    "least 2: '%s'", arg);
		opt->has_crop = 1;
		break;
	case OPT_SCALE: parse_scale(arg, opt); break;
	case OPT_START:
		opt->start = cli_double("--start", arg, 0, 1e9);
		break;
	case OPT_DURATION:
		opt->duration = cli_double("--duration", arg, 0, 1e9);
		break;
	case OPT_FRAMES:
		opt->max_frames = cli_long("--frames", arg, 0, LONG_MAX);
		break;
	case OPT_T0: parse_t0(arg, opt); break;
	case OPT_THREADS:
		opt->threads = (int)cli_long("--threads", arg, 0, 64);
		break;
	case OPT_RECONNECT: opt->reconnect = 1; break;
	case OPT_TIMEOUT:
		opt->timeout = cli_double("--timeout", arg, 0.1, 86400);
		break;
	case OPT_RTSP_TRANSPORT: opt->rtsp_transport = avin_transport(arg);
		break;
	case OPT_FORMAT: opt->format = arg; break;
	case OPT_SKIP_BAD: opt->skip_bad = 1; break;
	case OPT_INFO: opt->info = 1; break;
	case OPT_STATS: opt->stats = arg; break;
	case OPT_STATS_EVERY:
		opt->stats_every = stats_period(arg);
		break;
	case 'v': opt->verbose = 1; break;
	case 'h': usage(stdout, 0); break;
	case OPT_VERSION: cli_version(); break;
	default: cli_usage_hint();
	}
}

/* The default source id: a file's name without folder and extension, a
 * URL's host, or "stdin"; characters a header cannot hold become '_'. */
static void
default_src(const char *input, char *src)
{
	const char *p = input, *end, *scheme = strstr(input, "://"), *c;
	size_t n;

	if (strcmp(input, "-") == 0) {
		p = "stdin";
		end = p + 5;
	} else if (scheme != NULL) {
		p = scheme + 3;
		end = p + strcspn(p, "/?");
		if ((c = memrchr(p, '@', (size_t)(end - p))) != NULL)
			p = c + 1;
		if ((c = memchr(p, ':', (size_t)(end - p))) != NULL)
			end = c;
	} else {
		if ((c = strrchr(input, '/')) != NULL)
			p = c + 1;
		c = strrchr(p, '.');
		end = c != NULL && c > p ? c : p + strlen(p);
	}
	n = (size_t)(end - p);
	if (n == 0)
		p = "video", n = 5;
	if (n >= Y4M_SRC_MAX)
		n = Y4M_SRC_MAX - 1;
	for (size_t i = 0; i < n; i++)
		src[i] = (unsigned char)p[i] <= ' ' || p[i] == 0x7f ? '_' : p[i];
	src[n] = '\0';
}

static void
drain_stdin(void)
{
	char buf[65536];

	while (read(0, buf, sizeof buf) > 0)
		;
}

int
main(int argc, char **argv)
{
	struct options opt = { .duration = -1, .max_frames = -1,
		.timeout = 10 };
	struct input in;
	int c, status;

	cli_init(argv);
	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1)
		parse_option(c, optarg, &opt);
	if (argc - optind > 1)
		cli_usage_error("one input at most (got %d)", argc - optind);
	opt.input = optind < argc ? argv[optind] : "-";
	opt.name = strcmp(opt.input, "-") == 0 ? "stdin" : opt.input;
	if (opt.src[0] == '\0')
		default_src(opt.input, opt.src);
	if (opt.color && opt.has_crop && (opt.crop[0] % 2 || opt.crop[1] % 2))
		cli_usage_error("--crop: with --color, X and Y must be even "
		    "(4:2:0 chroma)");

	avin_log_init(opt.verbose);
	avdevice_register_all();
	avformat_network_init();

	/* with --reconnect a live camera that is down at the start is
	 * waited for too (a service that starts at boot before it) */
	for (int n = 0; input_open(&in, &opt) < 0; n++) {
		if (!opt.reconnect || !avin_is_live(opt.input, opt.format))
			return 1;
		avin_backoff(opt.name, n);
	}
	if (opt.info) {
		status = input_print_info(&in, opt.input);
		/* the rest of a pipe read to its end: a writer upstream
		 * (ffmpeg ... | frames --info -) must not die of EPIPE */
		if (strcmp(opt.input, "-") == 0)
			drain_stdin();
	}
	else
		status = decode_run(&in, &opt);
	input_close(&in);
	avformat_network_deinit();
	return cli_finish(status);
}
