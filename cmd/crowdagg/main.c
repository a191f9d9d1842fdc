/*
 * crowdagg: crowd windows from detections. See crowdagg(1).
 *
 * Reads the detections CSV that people writes (ts,src,frame,track,kind,
 * x,y,w,h,score and optionally person,age,gender,emotion) and writes one
 * row per source and window: frames, unique visitors, peak and mean
 * count, crossings, dwell, and demographics when the columns exist.
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "crowdagg.h"

#define MAX_OVERLAP 1000        /* windows one row may belong to */

struct options {
	struct window_spec spec;
	const char *kind, *time_col;
	int skip_bad, iso;
};

/* The input's columns: required ones >= 0, optional ones -1 if absent. */
struct columns {
	int ts, src, frame, track, kind, score, person, gender, age, emotion;
};

static void __attribute__((noreturn))
usage(int status)
{
	static const char synopsis[] =
	    "usage: crowdagg [--window DUR] [--slide DUR] [--lateness DUR]"
	    " [--partial[=DUR]]\n"
	    "                [--kind KIND] [--min-track DUR] [--time COLUMN]"
	    " [--iso]\n"
	    "                [--skip-bad] [file ...]\n";

	if (status != 0) {
		fputs(synopsis, stderr);
		exit(status);
	}
	fputs(synopsis, stdout);
	fputs("\n"
	    "Visitors, peak and mean counts, line crossings and dwell times per\n"
	    "source and time window, from the detections CSV that people writes\n"
	    "(ts,src,frame,track,kind,...), read from each file in turn or from\n"
	    "standard input (\"-\"); one CSV row per source and window on stdout,\n"
	    "with age, gender and emotion columns when the input has them.\n"
	    "\n"
	    "  --window DUR      window length (default 60m; 500ms, 90s, 15m, 4h, 1d)\n"
	    "  --slide DUR       sliding windows, one starting every DUR (default:\n"
	    "                    tumbling, the slide is the window)\n"
	    "  --lateness DUR    how late a row may come and still count (default 0)\n"
	    "  --partial[=DUR]   also write open windows every DUR of input time\n"
	    "                    (default 1m), with a partial column\n"
	    "  --kind KIND       the detections that are visitors (default person)\n"
	    "  --min-track DUR   a visitor is a track in frames that make DUR at\n"
	    "                    least in the window (default 2s; 0: every track)\n"
	    "  --time COLUMN     the time column (default ts)\n"
	    "  --iso             window times as RFC 3339\n"
	    "  --skip-bad        skip bad rows (say the first five and a count)\n"
	    "  -h, --help        this help\n"
	    "      --version     the version\n", stdout);
	exit(cli_finish(0));
}

static int
find_columns(struct csv_in *in, const char *time_col, struct columns *c)
{
	static const char *const need[] = { "src", "frame", "track", "kind" };
	int *req[] = { &c->src, &c->frame, &c->track, &c->kind };

	if ((c->ts = csvin_col(in, time_col)) < 0) {
		warnx("%s: no column \"%s\" (detections have ts,src,frame,"
		    "track,kind,x,y,w,h,score)", csvin_name(in), time_col);
		return -1;
	}
	for (int i = 0; i < 4; i++)
		if ((*req[i] = csvin_col(in, need[i])) < 0) {
			warnx("%s: no column \"%s\" (detections have ts,src,"
			    "frame,track,kind,x,y,w,h,score)", csvin_name(in),
			    need[i]);
			return -1;
		}
	c->score = csvin_col(in, "score");
	c->person = csvin_col(in, "person");
	c->gender = csvin_col(in, "gender");
	c->age = csvin_col(in, "age");
	c->emotion = csvin_col(in, "emotion");
	return 0;
}

static const char *
field_or_empty(struct csv_in *in, int col)
{
	return col < 0 ? "" : csvin_field(in, (size_t)col);
}

/* The current record as a row; -1 with csvin_error() if it is not one. */
static int
read_row(struct csv_in *in, const struct columns *c, const char *kind,
    struct row *r)
{
	const char *k = csvin_field(in, (size_t)c->kind);
	double count;

	if (ts_parse(csvin_field(in, (size_t)c->ts), &r->ts) < 0)
		return csvin_field_error(in, (size_t)c->ts, "not a time");
	r->src = csvin_field(in, (size_t)c->src);
	r->frame = csvin_field(in, (size_t)c->frame);
	r->track = csvin_field(in, (size_t)c->track);
	r->person = field_or_empty(in, c->person);
	r->gender = field_or_empty(in, c->gender);
	r->age = field_or_empty(in, c->age);
	r->emotion = field_or_empty(in, c->emotion);
	r->count = 0;
	if (strcmp(k, kind) == 0)
		r->kind = ROW_DETECTION;
	else if (strcmp(k, "frame") == 0)
		r->kind = ROW_FRAME;
	else if (strcmp(k, "in") == 0)
		r->kind = ROW_IN;
	else if (strcmp(k, "out") == 0)
		r->kind = ROW_OUT;
	else
		r->kind = ROW_OTHER;
	if (r->kind == ROW_FRAME) {
		if (c->score < 0)
			return csvin_field_error(in, (size_t)c->kind,
			    "a frame row, but no score column for its count");
		if (csvin_double(in, (size_t)c->score, &count) < 0)
			return -1;
		if (count < 0 || count != floor(count))
			return csvin_field_error(in, (size_t)c->score,
			    "a frame row's count is a whole number");
		if (count > 1e9)        /* no camera sees more */
			return csvin_field_error(in, (size_t)c->score,
			    "a frame row's count is too large (over 10^9)");
		r->count = (long)count;
	}
	return 0;
}

struct run {
	const struct options *opt;
	struct windows *ws;
	struct layout first;    /* the columns of the output */
	long late, skipped;
};

/* One input, after the first's header fixed the output's columns. */
static int
aggregate(struct run *run, struct csv_in *in, const struct columns *c)
{
	struct row r;
	int rc;

	while ((rc = csvin_read(in)) > 0) {
		if (read_row(in, c, run->opt->kind, &r) < 0) {
			if (!run->opt->skip_bad) {
				warnx("%s", csvin_error(in));
				return -1;
			}
			if (run->skipped++ < 5)
				warnx("%s (skipped)", csvin_error(in));
			continue;
		}
		run->late += windows_add(run->ws, &r);
	}
	if (rc < 0)
		warnx("%s", csvin_error(in));
	return rc;
}

static int
layout_check(const struct layout *first, const struct layout *now,
    const char *name)
{
	if (first->persons == now->persons && first->gender == now->gender &&
	    first->age == now->age && first->emotion == now->emotion)
		return 0;
	warnx("%s: its person/gender/age/emotion columns differ from the "
	    "first input's", name);
	return -1;
}

/* One input into the windows (made at the first); -1 if it was bad. */
static int
read_input(FILE *fp, const char *name, void *arg)
{
	struct run *run = arg;
	struct csv_in *in = csvin_new(fp, name);
	struct columns c;
	struct layout lay;
	int rc = -1;

	if (csvin_header(in) < 0) {
		warnx("%s", csvin_error(in));
	} else if (find_columns(in, run->opt->time_col, &c) == 0) {
		lay = (struct layout){ c.person >= 0, c.gender >= 0,
			c.age >= 0, c.emotion >= 0,
			run->opt->spec.partial_every > 0,
			run->opt->iso };
		if (run->ws == NULL) {
			run->first = lay;
			run->ws = windows_new(&run->opt->spec, &lay, stdout);
			windows_header(run->ws);
			fflush(stdout);   /* a live pipe sees it now */
		}
		if (layout_check(&run->first, &lay, name) == 0) {
			csvin_background(in);
			rc = aggregate(run, in, &c);
		}
	}
	csvin_free(in);
	return rc < 0 ? -1 : 0;
}

/* Every input, as cat(1) reads them: a bad one is said and the next one
 * read; what was read counts, even when a later row was bad. */
static int
run_inputs(const struct options *opt, int n, char **names)
{
	struct run run = { .opt = opt };
	int status = cli_each_input(n, names, read_input, &run);

	if (run.ws != NULL) {
		windows_flush(run.ws);
		windows_free(run.ws);
	}
	if (run.skipped > 0)
		warnx("%ld bad rows skipped", run.skipped);
	if (run.late > 0)
		warnx("%ld rows came after their windows were written "
		    "(--lateness)", run.late);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "window", required_argument, NULL, 'w' },
		{ "slide", required_argument, NULL, 's' },
		{ "lateness", required_argument, NULL, 'l' },
		{ "partial", optional_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'k' },
		{ "min-track", required_argument, NULL, 'm' },
		{ "time", required_argument, NULL, 't' },
		{ "iso", no_argument, NULL, 'i' },
		{ "skip-bad", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 } };
	struct options opt = { .spec = { .length = ts_from_sec(3600),
		.min_track = ts_from_sec(2) }, .kind = "person",
		.time_col = "ts" };
	int o;

	cli_init(argv);
	while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (o) {
		case 'w':
			opt.spec.length = ts_from_sec(cli_seconds("--window", optarg,
			    0.001, 366 * 86400.0));
			break;
		case 's':
			opt.spec.slide = ts_from_sec(cli_seconds("--slide", optarg,
			    0.001, 366 * 86400.0));
			break;
		case 'l':
			opt.spec.lateness = ts_from_sec(cli_seconds("--lateness",
			    optarg, 0, 366 * 86400.0));
			break;
		case 'p':
			opt.spec.partial_every = ts_from_sec(optarg == NULL ? 60 :
			    cli_seconds("--partial", optarg, 0.001, 86400));
			break;
		case 'k': opt.kind = optarg; break;
		case 'm':
			opt.spec.min_track = ts_from_sec(cli_seconds(
			    "--min-track", optarg, 0, 86400));
			break;
		case 't': opt.time_col = optarg; break;
		case 'i': opt.iso = 1; break;
		case 'b': opt.skip_bad = 1; break;
		case 'h': usage(0);
		case 'V': cli_version();
		default: cli_usage_hint();
		}
	}
	if (opt.spec.slide == 0)
		opt.spec.slide = opt.spec.length;
	if (opt.spec.slide > opt.spec.length)
		cli_usage_error("--slide: longer than --window leaves gaps");
	if (opt.spec.length / opt.spec.slide > MAX_OVERLAP)
		cli_usage_error("--slide: a row would be in more than %d "
		    "windows", MAX_OVERLAP);
	if (strcmp(opt.kind, "frame") == 0 || strcmp(opt.kind, "in") == 0 ||
	    strcmp(opt.kind, "out") == 0)
		cli_usage_error("--kind: \"%s\" rows are not detections",
		    opt.kind);
	return cli_finish(run_inputs(&opt, argc - optind, argv + optind));
}
