/*
 * clips cut: for each firing alert event of a source, the MP4 clip of
 * [ts - pre, ts + post] from the recorded segments: from the key frame at
 * or before its start (so it plays from its first frame), packets copied
 * as they were recorded (no re-encoding), moov first (+faststart); one
 * clips CSV row for it.
 *
 * It waits until the recording has passed ts + post (or --wait after
 * that, then cuts what there is and says so). An event older than the
 * buffer is said and passed over. The clip is written under a name
 * starting with a dot and renamed when complete.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libavformat/avformat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "clips.h"
#include "csvio.h"
#include "digest.h"
#include "fsync.h"
#include "xalloc.h"

struct cut_opts {
	const char *src, *dir, *out;
	ts_us pre, post, wait;
	int pass;               /* the events on stdout, not the clips */
	const char *rows;       /* with pass: the clips rows, appended */
};

/* The clip being written. */
struct clip {
	AVFormatContext *out;
	char tmp[PATH_MAX];
	ts_us from, start, end;         /* asked; first and last frame's */
	ts_us last_dts;                 /* in microseconds of the clip */
	long frames;
	/* the key frame's group before the clip's start, held until it is
	 * known to be the last one before the start */
	AVPacket **gop;
	ts_us *gop_wall, *gop_dwall;
	size_t ngop, capgop;
};

static int
open_clip(struct clip *c, const AVStream *is)
{
	AVDictionary *opt = NULL;
	AVStream *os;
	int rc;

	if ((rc = avformat_alloc_output_context2(&c->out, NULL, "mp4",
	    c->tmp)) < 0)
		errx(1, "mp4: %s", av_err2str(rc));
	if ((os = avformat_new_stream(c->out, NULL)) == NULL)
		errx(1, "out of memory");
	avcodec_parameters_copy(os->codecpar, is->codecpar);
	os->codecpar->codec_tag = 0;
	os->time_base = (AVRational){ 1, 90000 };
	av_dict_set(&opt, "movflags", "+faststart", 0);
	if ((rc = avio_open(&c->out->pb, c->tmp, AVIO_FLAG_WRITE)) < 0 ||
	    (rc = avformat_write_header(c->out, &opt)) < 0) {
		av_dict_free(&opt);
		warnx("%s: %s", c->tmp, av_err2str(rc));
		return -1;
	}
	av_dict_free(&opt);
	return 0;
}

static void
drop_held(struct clip *c)
{
	for (size_t i = 0; i < c->ngop; i++)
		av_packet_free(&c->gop[i]);
	c->ngop = 0;
}

/* Write one packet at wall times pts and dts (microseconds). */
static int
put(struct clip *c, AVPacket *pkt, ts_us wall, ts_us dwall)
{
	AVRational us = { 1, 1000000 };
	ts_us dts = dwall - c->start;
	int rc;

	if (c->frames > 0 && dts <= c->last_dts)
		dts = c->last_dts + 1;  /* a recording's restart: still rising */
	c->last_dts = dts;
	pkt->stream_index = 0;
	pkt->pts = av_rescale_q(wall - c->start, us,
	    c->out->streams[0]->time_base);
	pkt->dts = av_rescale_q(dts, us, c->out->streams[0]->time_base);
	if (pkt->dts > pkt->pts)
		pkt->dts = pkt->pts;
	/* the duration stays (made microseconds by copy_segment): the last
	 * frame would have none, and an edit list would leave it out */
	pkt->duration = av_rescale_q(pkt->duration, us,
	    c->out->streams[0]->time_base);
	pkt->pos = -1;
	if ((rc = av_write_frame(c->out, pkt)) < 0) {
		warnx("%s: %s", c->tmp, av_err2str(rc));
		return -1;
	}
	c->frames++;
	if (wall > c->end)
		c->end = wall;
	return 0;
}

static void
hold(struct clip *c, AVPacket *pkt, ts_us wall, ts_us dwall)
{
	if (pkt->flags & AV_PKT_FLAG_KEY)       /* a later group: drop this */
		drop_held(c);
	if (c->ngop == 0 && !(pkt->flags & AV_PKT_FLAG_KEY))
		return;
	if (c->ngop == c->capgop) {
		c->capgop = c->capgop * 2 + 64;
		c->gop = xreallocarray(c->gop, c->capgop, sizeof *c->gop);
		c->gop_wall = xreallocarray(c->gop_wall, c->capgop,
		    sizeof *c->gop_wall);
		c->gop_dwall = xreallocarray(c->gop_dwall, c->capgop,
		    sizeof *c->gop_dwall);
	}
	c->gop[c->ngop] = av_packet_clone(pkt);
	c->gop_wall[c->ngop] = wall;
	c->gop_dwall[c->ngop++] = dwall;
}

/* The first packet at or after the clip's start: what is held goes out
 * first, from its key frame. */
static int
begin(struct clip *c, const AVStream *is)
{
	if (open_clip(c, is) < 0)
		return -1;
	c->start = c->ngop > 0 ? c->gop_wall[0] : c->from;
	for (size_t i = 0; i < c->ngop; i++) {
		if (put(c, c->gop[i], c->gop_wall[i], c->gop_dwall[i]) < 0)
			return -1;
		av_packet_free(&c->gop[i]);
	}
	c->ngop = 0;
	return 0;
}

/* Copy segment s's packets that fall in the clip; 1 when past its end,
 * 0 to go on with the next segment, -1 on an error (said). */
static int
copy_segment(struct clip *c, const struct seg *s, ts_us to)
{
	AVFormatContext *in = NULL;
	AVPacket *pkt = av_packet_alloc();
	int64_t origin = AV_NOPTS_VALUE;
	int rc, done = 0;

	if (pkt == NULL)
		errx(1, "out of memory");
	if ((rc = avformat_open_input(&in, s->path, NULL, NULL)) < 0 ||
	    (rc = avformat_find_stream_info(in, NULL)) < 0) {
		warnx("%s: %s", s->path, av_err2str(rc));
		avformat_close_input(&in);
		av_packet_free(&pkt);
		return -1;
	}
	while (!done && (rc = av_read_frame(in, pkt)) >= 0) {
		AVRational tb = in->streams[pkt->stream_index]->time_base;
		int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
		int64_t dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pts;
		ts_us wall, dwall;
		if (pkt->stream_index != 0 || pts == AV_NOPTS_VALUE) {
			av_packet_unref(pkt);
			continue;
		}
		if (origin == AV_NOPTS_VALUE)
			origin = pts;   /* the segment's name is its time */
		wall = s->start + av_rescale_q(pts - origin, tb,
		    (AVRational){ 1, 1000000 });
		pkt->duration = av_rescale_q(pkt->duration, tb,
		    (AVRational){ 1, 1000000 });
		dwall = s->start + av_rescale_q(dts - origin, tb,
		    (AVRational){ 1, 1000000 });
		if (wall > to) {
			done = 1;
		} else if (c->out == NULL && wall < c->from) {
			hold(c, pkt, wall, dwall);
		} else if (c->out == NULL && begin(c, in->streams[0]) < 0) {
			done = -1;
		} else if (c->frames > 0 || (pkt->flags & AV_PKT_FLAG_KEY)) {
			/* never a first frame that is not a key */
			if (c->frames == 0)
				c->start = wall;
			if (put(c, pkt, wall, dwall) < 0)
				done = -1;
		}
		av_packet_unref(pkt);
	}
	avformat_close_input(&in);
	av_packet_free(&pkt);
	return done;
}



/* "cam1-pump_rms-20261204T094512Z.mp4": the source, the alert (what is
 * not a letter, digit, '-' or '.' made '_') and the event's time. */
static void
clip_name(char *buf, size_t len, const char *src, const char *alert, ts_us t)
{
	char when[80];
	size_t n;

	seg_name(when, sizeof when, t, 0);
	when[15] = 'Z';         /* to the second: 20261204T094512Z */
	when[16] = '\0';
	n = (size_t)snprintf(buf, len, "%s-", src);
	for (const char *p = alert; *p != '\0' && n + 1 < len; p++)
		buf[n++] = (strchr("-.", *p) != NULL ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9')) ? *p : '_';
	snprintf(buf + n, len - n, "-%s.mp4", when);
}

/* Make the clip of an event at t (the recording has passed its end, or
 * will not); 0 and the row written, or 1 if it could not be (said). */
static int
cut_event(const struct cut_opts *o, const char *segdir, ts_us t,
    const char *alert, const char *key, struct csv_out *w)
{
	struct clip c = { .from = t - o->pre };
	ts_us to = t + o->post;
	struct seg *s;
	size_t n;
	char name[PATH_MAX], path[PATH_MAX], hex[SHA256_HEX_LEN + 1];
	char buf[TS_BUFSZ];
	struct stat st;
	int rc = 0;

	if (seg_list(segdir, &s, &n) < 0)
		return 1;
	if (n == 0 || s[n - 1].end < c.from || s[0].start > t) {
		warnx("%s: event at %s: not in the buffer (%s)", alert,
		    ts_format_rfc3339(t, buf), n == 0 ? "nothing recorded" :
		    s[0].start > t ? "older than its oldest segment" :
		    "newer than its newest segment");
		seg_free(s, n);
		return 1;
	}
	clip_name(name, sizeof name, o->src, alert, t);
	path_join(path, sizeof path, o->out, "", name);
	path_join(c.tmp, sizeof c.tmp, o->out, ".partial-", name);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (s[i].end <= c.from - 60 * TS_US_PER_S || s[i].start > to)
			continue;
		/* a gap in the recording before the clip's start: the clip
		 * starts after it, not with what came before it */
		if (c.out == NULL && i > 0 &&
		    s[i].start - s[i - 1].end > TS_US_PER_S / 10)
			drop_held(&c);
		rc = copy_segment(&c, &s[i], to);
	}
	seg_free(s, n);
	drop_held(&c);
	free(c.gop);
	free(c.gop_wall);
	free(c.gop_dwall);
	if (rc < 0 || c.out == NULL || c.frames == 0 ||
	    av_write_trailer(c.out) < 0) {
		if (rc >= 0)
			warnx("%s: event at %s: no frame to cut", alert,
			    ts_format_rfc3339(t, buf));
		if (c.out != NULL) {
			avio_closep(&c.out->pb);
			avformat_free_context(c.out);
		}
		unlink(c.tmp);
		return 1;
	}
	avio_closep(&c.out->pb);
	avformat_free_context(c.out);
	if (fsync_path(c.tmp) < 0 || rename(c.tmp, path) < 0 ||
	    fsync_parent(path) < 0 || stat(path, &st) < 0 ||
	    sha256_file(path, hex) < 0) {
		warn("%s", path);
		unlink(c.tmp);
		return 1;
	}
	if (c.start > c.from + o->pre / 10 + TS_US_PER_S)
		warnx("%s: the clip starts %.1f s late: the buffer begins "
		    "there", path, (double)(c.start - c.from) / 1e6);
	if (c.end < to - TS_US_PER_S)
		warnx("%s: the clip ends %.1f s early: the recording stops "
		    "there", path, (double)(to - c.end) / 1e6);
	if (w == NULL)
		return 0;
	csvout_time(w, t, 0);
	csvout_str(w, o->src);
	csvout_str(w, alert);
	csvout_str(w, key);
	csvout_str(w, path);
	csvout_time(w, c.start, 0);
	csvout_time(w, c.end, 0);
	csvout_long(w, (long long)st.st_size);
	csvout_str(w, hex);
	csvout_end(w);
	if (fflush(w->fp) != 0)
		err(1, "the clips rows");
	return 0;
}

/* An event whose clip waits for the recording to pass its end. */
struct pending {
	ts_us t;
	char *alert, *key;
};

/* Has the recording passed t + post, or will it not any more (--wait
 * past it, or no clips record runs: the afternoon's alerts cut in the
 * evening wait for nothing)? */
static int
ready(const struct cut_opts *o, const char *segdir, ts_us t)
{
	struct seg *s;
	size_t n;
	int yes;

	if (ts_now() > t + o->post + o->wait || !seg_recording(segdir))
		return 1;
	if (seg_list(segdir, &s, &n) < 0)
		return 1;       /* said; cut_event says it again */
	yes = n > 0 && s[n - 1].end >= t + o->post;
	seg_free(s, n);
	return yes;
}

struct reader {
	struct csv_in *in;
	int cts, calert, cstate, ckey, csrc, cmsg;
	struct pending *q;
	size_t nq, capq;
	int status;
};

/* --pass: the event as it came, a firing event of the source with the
 * path its clip will have at the end of its message. */
static void
pass_on(const struct cut_opts *o, struct reader *r, struct csv_out *w,
    const char *clip)
{
	for (size_t i = 0; i < csvin_ncols(r->in); i++) {
		const char *f = csvin_field(r->in, i);
		char *m;
		if ((int)i != r->cmsg || clip == NULL) {
			csvout_field(w, f, csvin_field_len(r->in, i));
			continue;
		}
		if (asprintf(&m, "%s%s(clip: %s/%s)", f, f[0] ? " " : "",
		    o->out, clip) < 0)
			errx(1, "out of memory");
		csvout_str(w, m);
		free(m);
	}
	csvout_end(w);
	cli_check_write(stdout, "stdout");
}

/* One event row: a firing event of the source queued for its clip. */
static void
event_row(const struct cut_opts *o, struct reader *r, struct csv_out *pass)
{
	char name[PATH_MAX];
	ts_us t;
	int mine;

	if (ts_parse(csvin_field(r->in, (size_t)r->cts), &t) < 0) {
		csvin_field_error(r->in, (size_t)r->cts, "not a time");
		warnx("%s", csvin_error(r->in));
		r->status = 1;
		if (pass != NULL)
			pass_on(o, r, pass, NULL);
		return;
	}
	mine = strcmp(csvin_field(r->in, (size_t)r->cstate), "firing") == 0 &&
	    event_is_for(o->src, csvin_field(r->in, (size_t)r->ckey),
	    r->csrc >= 0 ? csvin_field(r->in, (size_t)r->csrc) : NULL);
	if (mine) {
		if (r->nq == r->capq) {
			r->capq = r->capq * 2 + 8;
			r->q = xreallocarray(r->q, r->capq, sizeof *r->q);
		}
		r->q[r->nq++] = (struct pending){ t,
			xstrdup(csvin_field(r->in, (size_t)r->calert)),
			xstrdup(csvin_field(r->in, (size_t)r->ckey)) };
		clip_name(name, sizeof name, o->src,
		    csvin_field(r->in, (size_t)r->calert), t);
	}
	if (pass != NULL)
		pass_on(o, r, pass, mine ? name : NULL);
}

/* Read events on a second thread, so that one arriving while a clip
 * waits for its end is queued (and with --pass, passed on) at once; cut
 * each clip, in order, when the recording has passed its end. */
static int
read_events(const struct cut_opts *o, FILE *fp, const char *name)
{
	static const char *const header[] = { "ts", "src", "alert", "key",
		"clip", "start", "end", "bytes", "sha256" };
	struct reader r = { csvin_new(fp, name), 0, 0, 0, 0, 0, 0, NULL, 0, 0,
		0 };
	struct csv_out w, rows_w, *rows = &w, *pass = NULL;
	FILE *rows_fp = NULL;
	char segdir[PATH_MAX];
	int rc = 1, ended = 0;

	seg_dir(segdir, sizeof segdir, o->dir, o->src);
	if (csvin_header(r.in) < 0)
		errx(1, "%s", csvin_error(r.in));
	if ((r.cts = csvin_col(r.in, "ts")) < 0 ||
	    (r.calert = csvin_col(r.in, "alert")) < 0 ||
	    (r.cstate = csvin_col(r.in, "state")) < 0 ||
	    (r.ckey = csvin_col(r.in, "key")) < 0)
		errx(1, "%s: no column \"%s\" (alert events have ts,alert,"
		    "severity,state,key,...)", name, r.cts < 0 ? "ts" :
		    r.calert < 0 ? "alert" : r.cstate < 0 ? "state" : "key");
	r.csrc = csvin_col(r.in, "src");
	r.cmsg = csvin_col(r.in, "message");
	csvout_init(&w, stdout);
	if (o->pass) {
		pass = &w;
		csvout_header(pass, r.in, 1);
		rows = NULL;
		if (o->rows != NULL) {
			int fresh = access(o->rows, F_OK) != 0;
			if ((rows_fp = fopen(o->rows, "a")) == NULL)
				err(1, "%s", o->rows);
			csvout_init(&rows_w, rows_fp);
			rows = &rows_w;
			if (fresh)
				csvout_row(rows, 9, header);
		}
	} else {
		csvout_row(rows, 9, header);
	}
	cli_check_write(stdout, "stdout");
	csvin_background(r.in);
	while (!ended || r.nq > 0) {
		int timeout = r.nq > 0 ? 200 : -1;
		while (!ended && csvin_wait(r.in, timeout) == 1) {
			if ((rc = csvin_read(r.in)) <= 0) {
				ended = 1;
				break;
			}
			event_row(o, &r, pass);
			timeout = 0;
		}
		while (r.nq > 0 && ready(o, segdir, r.q[0].t)) {
			cut_event(o, segdir, r.q[0].t, r.q[0].alert, r.q[0].key,
			    rows);
			free(r.q[0].alert);
			free(r.q[0].key);
			memmove(r.q, r.q + 1, --r.nq * sizeof *r.q);
		}
		if (ended && r.nq > 0)
			usleep(200000);
	}
	if (rc < 0) {
		warnx("%s", csvin_error(r.in));
		r.status = 1;
	}
	if (rows_fp != NULL && fclose(rows_fp) != 0)
		err(1, "%s", o->rows);
	free(r.q);
	csvin_free(r.in);
	return r.status;
}

int
cmd_cut(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "pre", required_argument, NULL, 'p' },
		{ "post", required_argument, NULL, 'P' },
		{ "out", required_argument, NULL, 'o' },
		{ "wait", required_argument, NULL, 'w' },
		{ "pass", no_argument, NULL, 'a' },
		{ "rows", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct cut_opts o = { NULL, NULL, NULL, 30 * TS_US_PER_S,
		30 * TS_US_PER_S, 30 * TS_US_PER_S, 0, NULL };
	char out[PATH_MAX];
	const char *name = "stdin";
	FILE *fp = stdin;
	int c, status;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.src = cli_src(optarg); break;
		case 'd': o.dir = optarg; break;
		case 'p': o.pre = ts_from_sec(cli_seconds("--pre", optarg, 0, 1e9)); break;
		case 'P': o.post = ts_from_sec(cli_seconds("--post", optarg, 0, 1e9)); break;
		case 'o': o.out = optarg; break;
		case 'w': o.wait = ts_from_sec(cli_seconds("--wait", optarg, 0, 1e9)); break;
		case 'a': o.pass = 1; break;
		case 'r': o.rows = optarg; break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (o.src == NULL || o.dir == NULL)
		cli_usage_error("cut: --src and --dir are needed");
	if (argc - optind > 1)
		cli_usage_error("cut: one input at most");
	if (o.rows != NULL && !o.pass)
		cli_usage_error("cut: --rows goes with --pass (without it the "
		    "rows are on stdout)");
	if (o.out == NULL) {
		snprintf(out, sizeof out, "%s/%s/clips", o.dir, o.src);
		o.out = out;
	}
	if ((mkdir(o.out, 0777) < 0 && errno != EEXIST) ||
	    access(o.out, W_OK) < 0)
		err(1, "%s", o.out);
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		if ((fp = fopen(name, "r")) == NULL)
			err(1, "%s", name);
	}
	status = read_events(&o, fp, name);
	if (fp != stdin)
		fclose(fp);
	return status;
}
