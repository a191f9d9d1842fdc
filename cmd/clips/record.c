/*
 * clips record: the camera's packets, as they come, into MPEG-TS segments
 * of about --segment each, each starting on a key frame (so that any of
 * them plays from its first frame), named by the wall-clock time of its
 * first frame and its duration. No decoding: a packet is read and
 * written.
 *
 * A segment is written under a name starting with a dot and renamed when
 * it is complete (synced first with --fsync: a sync per segment is half
 * the recorder's CPU, and the buffer is the last minutes, not a record
 * to keep): a reader never sees half of one. Segments
 * older than --keep go, and the oldest go first when the buffer passes
 * --max-size or the disk has less room than two segments need. A dropped
 * camera is reconnected with backoff; the gap is said on stderr and kept
 * in DIR/SRC/gaps.csv.
 *
 * --stats: packets, segments and their bytes, camera losses, the buffer's
 * size and how far behind the wall clock a packet comes, a row a figure
 * each period (lib/stats); while the camera is away the periods go on by
 * the wall clock, their packets 0, so a dead camera shows.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "avinput.h"
#include "cli.h"
#include "clips.h"
#include "fsync.h"
#include "stats.h"
#include "xalloc.h"

struct rec_opts {
	struct avin_opts in;
	const char *src, *dir;
	ts_us keep, segment;
	long long max_size;     /* 0: no limit */
	double retry_for;       /* seconds to keep trying a live camera; 0: ever */
	int fsync;              /* sync each segment before its rename */
	const char *stats;      /* --stats FILE or fd:N */
	ts_us stats_every;
};

/* --stats: the figures' indexes */
struct rec_stats {
	struct stats *s;
	int packets, segments, bytes, lost, buffer, lag;
};

struct recorder {
	const struct rec_opts *o;
	char dir[PATH_MAX];     /* DIR/SRC */
	AVFormatContext *in;
	int vs;                 /* the video stream */
	AVRational tb;
	ts_us t0;               /* the wall clock at pts0 */
	int64_t pts0;
	int64_t last_pts, frame_dur;    /* in tb */
	AVFormatContext *out;   /* the segment being written */
	char tmp[PATH_MAX];
	ts_us seg_start;
	off_t biggest;          /* the largest segment so far */
	int skipped;            /* packets before the first key frame */
	int64_t skip_from;      /* the first of them, in tb */
	int said_waiting;
	int room_said;          /* a full disk was said */
	int unfit;              /* the camera's codec cannot be kept */
	struct seg *segs;       /* the complete segments, oldest first */
	size_t nsegs, capsegs;
	long long total;        /* their bytes */
	struct rec_stats st;    /* st.s NULL without --stats */
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* libav's blocking reads end when a signal asks to stop. */
static int
interrupted(void *arg)
{
	(void)arg;
	return stopping;
}

/* The wall-clock time of a packet's pts. */
static ts_us
wall_of(const struct recorder *r, int64_t pts)
{
	return r->t0 + av_rescale_q(pts - r->pts0, r->tb,
	    (AVRational){ 1, 1000000 });
}

static int
start_segment(struct recorder *r, ts_us start)
{
	AVStream *is = r->in->streams[r->vs], *os;
	char name[64];
	int rc;

	snprintf(name, sizeof name, "%lld.mp4", (long long)start);
	path_join(r->tmp, sizeof r->tmp, r->dir, ".partial-", name);
	if ((rc = avformat_alloc_output_context2(&r->out, NULL, "mp4",
	    r->tmp)) < 0)
		errx(1, "mpegts: %s", av_err2str(rc));
	if ((os = avformat_new_stream(r->out, NULL)) == NULL)
		errx(1, "out of memory");
	avcodec_parameters_copy(os->codecpar, is->codecpar);
	os->codecpar->codec_tag = 0;
	os->time_base = is->time_base;
	if ((rc = avio_open(&r->out->pb, r->tmp, AVIO_FLAG_WRITE)) < 0 ||
	    (rc = avformat_write_header(r->out, NULL)) < 0) {
		avio_closep(&r->out->pb);
		avformat_free_context(r->out);
		r->out = NULL;
		unlink(r->tmp);
		return rc;
	}
	r->seg_start = start;
	return 0;
}

/* Drop the segment being written (a write failed). */
static void
abandon_segment(struct recorder *r)
{
	if (r->out == NULL)
		return;
	avio_closep(&r->out->pb);
	avformat_free_context(r->out);
	r->out = NULL;
	unlink(r->tmp);
}

/* A segment written: kept in the list prune goes by. */
static void
add_segment(struct recorder *r, ts_us start, ts_us end, off_t bytes,
    const char *path)
{
	if (r->nsegs == r->capsegs) {
		r->capsegs = r->capsegs * 2 + 64;
		r->segs = xreallocarray(r->segs, r->capsegs, sizeof *r->segs);
	}
	r->segs[r->nsegs++] = (struct seg){ start, end, bytes, xstrdup(path) };
	r->total += bytes;
	if (bytes > r->biggest)
		r->biggest = bytes;
}

/* Finish the segment being written at end: trailer, sync, rename to its
 * final name; 0, or the error (the segment dropped). */
static int
finish_segment(struct recorder *r, ts_us end)
{
	char name[128], path[PATH_MAX];
	struct stat st;
	int rc;

	if (r->out == NULL)
		return 0;
	rc = av_write_trailer(r->out);
	if (rc >= 0) {
		avio_flush(r->out->pb);
		rc = r->out->pb->error;
	}
	if (rc < 0) {
		abandon_segment(r);
		return rc;
	}
	avio_closep(&r->out->pb);
	avformat_free_context(r->out);
	r->out = NULL;
	seg_name(name, sizeof name, r->seg_start, end - r->seg_start);
	path_join(path, sizeof path, r->dir, "", name);
	if ((r->o->fsync && fsync_path(r->tmp) < 0) ||
	    rename(r->tmp, path) < 0) {
		rc = AVERROR(errno);
		unlink(r->tmp);
		return rc;
	}
	add_segment(r, r->seg_start, end, stat(path, &st) == 0 ? st.st_size : 0,
	    path);
	if (r->st.s != NULL) {
		stats_add(r->st.s, r->st.segments, 1);
		stats_add(r->st.s, r->st.bytes, (double)r->segs[r->nsegs - 1].bytes);
	}
	return 0;
}

/* Room for two more segments on the disk? */
static int
disk_short(const struct recorder *r)
{
	struct statvfs fs;

	if (statvfs(r->dir, &fs) < 0)
		return 0;
	return (unsigned long long)fs.f_bavail * fs.f_frsize <
	    2 * (unsigned long long)r->biggest;
}

/* Delete segments older than --keep, and the oldest while the buffer is
 * over --max-size or the disk short of room (more too if force: a write
 * failed for room); the newest stays. The segments are those the
 * recorder listed when it started and has written since: no directory
 * is read per segment (an hour of 2 s segments would read it 1,800
 * times). 0, or -1 if nothing could go. */
static int
prune(struct recorder *r, int force)
{
	size_t i = 0, n = r->nsegs;
	struct seg *s = r->segs;
	int freed = 0;

	for (; i + 1 < n; i++) {
		int old = s[n - 1].end - s[i].end > r->o->keep;
		int big = r->o->max_size > 0 && r->total > r->o->max_size;
		if (!old && !big && !disk_short(r) && !(force && !freed))
			break;
		if (unlink(s[i].path) < 0 && errno != ENOENT)
			warn("%s", s[i].path);
		r->total -= s[i].bytes;
		free(s[i].path);
		freed = 1;
	}
	if (i > 0)
		memmove(s, s + i, (n - i) * sizeof *s);
	r->nsegs -= i;
	return force && !freed ? -1 : 0;
}

static void
log_gap(struct recorder *r, ts_us from, ts_us to, const char *why)
{
	char path[PATH_MAX], a[TS_BUFSZ], b[TS_BUFSZ];
	FILE *fp;
	int fresh;

	warnx("%s: a gap of %.1f s in the recording, from %s to %s (%s)",
	    r->o->src, (double)(to - from) / 1e6, ts_format_rfc3339(from, a),
	    ts_format_rfc3339(to, b), why);
	path_join(path, sizeof path, r->dir, "", "gaps.csv");
	fresh = access(path, F_OK) != 0;
	if ((fp = fopen(path, "a")) == NULL) {
		warn("%s", path);
		return;
	}
	if (fresh)
		fputs("start,end,reason\n", fp);
	fprintf(fp, "%s,%s,\"%s\"\n", ts_format_unix(from, a),
	    ts_format_unix(to, b), why);
	if (fclose(fp) != 0)
		warn("%s", path);
}

static int
open_camera(struct recorder *r)
{
	AVIOInterruptCB cb = { interrupted, NULL };

	r->in = avformat_alloc_context();
	r->in->interrupt_callback = cb;
	if (avin_open(&r->in, &r->o->in) < 0)
		return -1;      /* avin_open freed it */
	if ((r->vs = avin_video_stream(r->in, r->o->in.name)) < 0) {
		avformat_close_input(&r->in);
		return -1;
	}
	/* MP4 holds what cameras send (H.264, H.265, MJPEG, MPEG-4); say
	 * so now rather than fail at each segment */
	if (avformat_query_codec(av_guess_format("mp4", NULL, NULL),
	    r->in->streams[r->vs]->codecpar->codec_id,
	    FF_COMPLIANCE_NORMAL) != 1) {
		warnx("%s: its %s video cannot go into MP4 segments (H.264, "
		    "H.265, MJPEG and MPEG-4 can)", r->o->in.name,
		    avcodec_get_name(r->in->streams[r->vs]->codecpar->codec_id));
		avformat_close_input(&r->in);
		r->unfit = 1;
		return -1;
	}
	r->tb = r->in->streams[r->vs]->time_base;
	r->frame_dur = 0;
	r->t0 = ts_now();
	r->pts0 = AV_NOPTS_VALUE;
	return 0;
}

/* Open the camera, trying again with backoff while --retry-for allows
 * (a live one: a boot-time service starts before its camera does); 0,
 * or -1 when it gave up (said) or was told to stop. */
static int
reach_camera(struct recorder *r)
{
	double t0 = ts_elapsed();

	for (int n = 0; !stopping; n++) {
		if (r->st.s != NULL)
			stats_tick(r->st.s, ts_now());
		if (open_camera(r) == 0)
			return 0;
		if (r->unfit || !avin_is_live(r->o->in.input, r->o->in.format))
			return -1;
		if (r->o->retry_for > 0 && ts_elapsed() - t0 >= r->o->retry_for) {
			warnx("%s: gave up after %.1f s", r->o->in.name,
			    ts_elapsed() - t0);
			return -1;
		}
		avin_backoff(r->o->in.name, n);
	}
	return -1;
}

/* A segment could not be written for room (rc: a full disk, a quota):
 * it is dropped, and the oldest go to make room; 0, or -1 if there was
 * none to go or the failure was another (said). */
static int
make_room(struct recorder *r, int rc)
{
	if (rc != AVERROR(ENOSPC) && rc != AVERROR(EDQUOT) &&
	    rc != AVERROR(EFBIG)) {
		warnx("%s: cannot write a segment: %s", r->dir, av_err2str(rc));
		abandon_segment(r);
		return -1;
	}
	if (r->room_said++ == 0)
		warnx("%s: %s: dropping the segment being written and the "
		    "oldest (said once)", r->dir, av_err2str(rc));
	abandon_segment(r);
	if (prune(r, 1) < 0) {
		warnx("%s: no room for a segment even with every older one "
		    "gone: %s", r->dir, av_err2str(rc));
		return -1;
	}
	return 0;
}

/* A camera joined mid-way sends a key frame within its key frame
 * interval (1 to 4 s for most): said only when that takes longer, so a
 * normal start is quiet and a camera set to a long interval is named. */
static void
waiting_for_key(struct recorder *r, int64_t pts)
{
	const double said_after = 5;

	if (r->skipped++ == 0)
		r->skip_from = pts;
	if (!r->said_waiting &&
	    av_q2d(r->tb) * (double)(pts - r->skip_from) >= said_after) {
		warnx("%s: no key frame in %g s: waiting for one (is the "
		    "camera's key frame interval that long?)", r->o->in.name,
		    said_after);
		r->said_waiting = 1;
	}
}

/* One packet of the video stream: into the segment, a new one begun on
 * a key frame once this one is long enough. 0, or -1 if the job cannot
 * go on (said). */
static int
packet(struct recorder *r, AVPacket *pkt)
{
	int key = pkt->flags & AV_PKT_FLAG_KEY, rc;
	int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
	ts_us wall;

	if (pts == AV_NOPTS_VALUE) {
		if (r->last_pts == AV_NOPTS_VALUE)
			return 0;
		pts = r->last_pts + r->frame_dur;
	}
	if (pkt->pts == AV_NOPTS_VALUE)         /* MP4 needs one */
		pkt->pts = pts;
	if (r->pts0 == AV_NOPTS_VALUE)
		r->pts0 = pts;
	if (r->last_pts != AV_NOPTS_VALUE && pts > r->last_pts)
		r->frame_dur = pts - r->last_pts;
	r->last_pts = pts;
	wall = wall_of(r, pts);
	if (r->st.s != NULL) {
		stats_tick(r->st.s, wall);
		stats_add(r->st.s, r->st.packets, 1);
		stats_set(r->st.s, r->st.lag, ts_to_sec(ts_now() - wall));
		stats_set(r->st.s, r->st.buffer, (double)r->total);
	}
	if (r->out != NULL && key && wall - r->seg_start >= r->o->segment) {
		if ((rc = finish_segment(r, wall)) < 0 && make_room(r, rc) < 0)
			return -1;
		prune(r, 0);
	}
	if (r->out == NULL) {
		if (!key) {
			waiting_for_key(r, pts);
			return 0;
		}
		if (disk_short(r))
			prune(r, 0);
		if ((rc = start_segment(r, wall)) < 0)
			return make_room(r, rc);
	}
	pkt->stream_index = 0;
	av_packet_rescale_ts(pkt, r->tb, r->out->streams[0]->time_base);
	/* on a failure a new segment starts at the next key frame */
	if ((rc = av_write_frame(r->out, pkt)) < 0 ||
	    (rc = r->out->pb->error) < 0)
		return make_room(r, rc);
	return 0;
}

/* Read the camera to its end (a file) or until told to stop, across
 * drops (a live one); the exit status. */
static int
record(struct recorder *r)
{
	AVPacket *pkt = av_packet_alloc();
	int live = avin_is_live(r->o->in.input, r->o->in.format), status = 0;
	int rc, wrc;

	if (pkt == NULL)
		errx(1, "out of memory");
	while (!stopping) {
		rc = av_read_frame(r->in, pkt);
		if (rc >= 0) {
			if (pkt->stream_index == r->vs && packet(r, pkt) < 0) {
				status = 1;
				break;
			}
			av_packet_unref(pkt);
			continue;
		}
		if (stopping)
			break;
		ts_us lost = r->last_pts != AV_NOPTS_VALUE ?
		    wall_of(r, r->last_pts + r->frame_dur) : ts_now();
		if ((wrc = finish_segment(r, lost)) < 0)
			make_room(r, wrc);
		prune(r, 0);
		if (!live) {
			if (rc != AVERROR_EOF) {
				warnx("%s: %s", r->o->in.name, av_err2str(rc));
				status = 1;
			}
			break;
		}
		warnx("%s: input lost: %s", r->o->in.name, av_err2str(rc));
		if (r->st.s != NULL)
			stats_add(r->st.s, r->st.lost, 1);
		avformat_close_input(&r->in);
		if (reach_camera(r) < 0) {
			status = !stopping;
			break;
		}
		warnx("%s: reconnected", r->o->in.name);
		r->last_pts = AV_NOPTS_VALUE;
		log_gap(r, lost, r->t0, "camera lost");
	}
	if (r->out != NULL && (wrc = finish_segment(r, r->last_pts !=
	    AV_NOPTS_VALUE ? wall_of(r, r->last_pts + r->frame_dur) :
	    ts_now())) < 0) {
		warnx("%s: the last segment: %s", r->dir, av_err2str(wrc));
		status = 1;
	}
	if (r->st.s != NULL)
		stats_set(r->st.s, r->st.buffer, (double)r->total);
	av_packet_free(&pkt);
	avformat_close_input(&r->in);
	return status;
}

static void
open_stats(struct rec_stats *st, const struct rec_opts *o)
{
	st->s = stats_open(o->stats, "clips", o->src, o->stats_every);
	st->packets = stats_figure(st->s, "packets", STATS_COUNT);
	st->segments = stats_figure(st->s, "segments", STATS_COUNT);
	st->bytes = stats_figure(st->s, "bytes", STATS_COUNT);
	st->lost = stats_figure(st->s, "lost", STATS_COUNT);
	st->buffer = stats_figure(st->s, "buffer_bytes", STATS_GAUGE);
	st->lag = stats_figure(st->s, "lag_s", STATS_GAUGE);
}

int
cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "keep", required_argument, NULL, 'k' },
		{ "segment", required_argument, NULL, 'g' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rtsp-transport", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "retry-for", required_argument, NULL, 'R' },
		{ "fsync", no_argument, NULL, 'S' },
		{ "stats", required_argument, NULL, 'T' },
		{ "stats-every", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct rec_opts o = { { NULL, NULL, NULL, 10, NULL }, NULL, NULL,
		600 * TS_US_PER_S, 2 * TS_US_PER_S, 0, 0, 0, NULL, 0 };
	struct recorder r = { .o = &o, .last_pts = AV_NOPTS_VALUE };
	struct sigaction sa = { .sa_handler = on_signal };
	int c, status;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.src = cli_src(optarg); break;
		case 'd': o.dir = optarg; break;
		case 'k': o.keep = ts_from_sec(cli_seconds("--keep", optarg, 1e-3, 1e9)); break;
		case 'g': o.segment = ts_from_sec(cli_seconds("--segment", optarg, 1e-3, 1e9)); break;
		case 'm': o.max_size = cli_bytes("--max-size", optarg); break;
		case 't': o.in.timeout = cli_seconds("--timeout", optarg, 0.1,
		    3600); break;
		case 'r': o.in.rtsp_transport = avin_transport(optarg); break;
		case 'f': o.in.format = optarg; break;
		case 'S': o.fsync = 1; break;
		case 'T': o.stats = optarg; break;
		case 'E': o.stats_every = stats_period(optarg); break;
		case 'R': o.retry_for = cli_seconds("--retry-for", optarg, 1e-3,
		    1e9); break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (o.src == NULL || o.dir == NULL)
		cli_usage_error("record: --src and --dir are needed");
	if (argc - optind != 1)
		cli_usage_error("record: one input (a file, URL or device)");
	o.in.input = argv[optind];
	o.in.name = strcmp(o.in.input, "-") == 0 ? "stdin" : o.in.input;
	seg_dir(r.dir, sizeof r.dir, o.dir, o.src);
	if (mkdir(o.dir, 0777) < 0 && errno != EEXIST)
		err(1, "%s", o.dir);
	if ((mkdir(r.dir, 0777) < 0 && errno != EEXIST) ||
	    access(r.dir, W_OK) < 0)
		err(1, "%s", r.dir);
	if (seg_lock_recording(r.dir) < 0) {
		if (errno == EWOULDBLOCK)
			errx(1, "%s: another clips record is recording %s "
			    "there", r.dir, o.src);
		err(1, "%s/.recording", r.dir);
	}
	/* what an earlier run left is the buffer's oldest part */
	if (seg_list(r.dir, &r.segs, &r.nsegs) < 0)
		return 1;
	r.capsegs = r.nsegs;
	for (size_t i = 0; i < r.nsegs; i++) {
		r.total += r.segs[i].bytes;
		if (r.segs[i].bytes > r.biggest)
			r.biggest = r.segs[i].bytes;
	}
	if (o.stats != NULL)
		open_stats(&r.st, &o);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	status = reach_camera(&r) < 0 ? 1 : record(&r);
	stats_close(r.st.s);
	seg_free(r.segs, r.nsegs);
	return status;
}
