#include <err.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "frames.h"
#include "stats.h"
#include "xalloc.h"

/* What decoding a frame led to. */
enum { GO_ON = 0, STOP = 1, FAULT = -1 };

/* The output side: geometry, conversion and the frame clock. */
struct output {
	const struct options *opt;
	struct y4m_info info;
	int started;                /* header written */
	struct SwsContext *sws;
	AVFrame *conv;              /* converted frame, output geometry */
	long written, corrupt, decoded;

	/* Clock: XPTS = pts relative to the stream start, plus offset. */
	int clock_set;              /* offset chosen for this connection */
	ts_us offset;
	ts_us last_pts;
	int64_t last_raw;           /* last best-effort pts seen */
	int64_t last_slot;          /* --fps: last time slot written */
	struct cli_progress progress;
	double total;               /* seconds the input declares, or 0 */
	ts_us seen_to;              /* the latest frame time decoded */
	int at_end;                 /* a file read to its end */
	int64_t read_to;            /* where the last whole packet ended */

	/* --stats: the figures, and the last frame's sample of luma from
	 * which a frozen picture is told */
	struct stats *stats;
	int st_in, st_out, st_corrupt, st_still, st_lag;
	uint8_t *sample;
	size_t nsample;
	ts_us changed_at;
	int live;
};

static ts_us
raw_to_us(const struct input *in, int64_t raw)
{
	AVStream *st = in->fmt->streams[in->stream];

	return av_rescale_q(raw - in->start_pts, st->time_base,
	    (AVRational){ 1, 1000000 });
}

/*
 * The frame's time since XT0. Files: the container's pts from the stream
 * start. Live inputs: the first frame of each connection is placed at the
 * wall clock, later ones by their pts, so a reconnect keeps times moving
 * forward. Never goes backwards: a repeated pts gets one microsecond more.
 */
static ts_us
frame_time(struct output *o, const struct input *in, const AVFrame *f)
{
	int64_t raw = f->best_effort_timestamp;
	ts_us t;

	if (raw == AV_NOPTS_VALUE)
		raw = o->last_raw == AV_NOPTS_VALUE ? in->start_pts :
		    o->last_raw + f->pkt_duration;
	o->last_raw = raw;
	t = raw_to_us(in, raw);
	if (in->live && !o->clock_set) {
		ts_us now = ts_now();
		if (!o->opt->has_t0 && !o->started)
			o->info.t0 = now;      /* XT0: when the first frame came */
		o->offset = now - o->info.t0 - t;
	}
	o->clock_set = 1;
	t += o->offset;
	if (o->written > 0 && t <= o->last_pts)
		t = o->last_pts + 1;
	return t;
}

/* Does the frame at time t go out, by --start, --duration and --fps? */
static int
select_frame(struct output *o, ts_us t)
{
	const struct options *opt = o->opt;
	ts_us start = ts_from_sec(opt->start);
	int64_t slot;

	if (t < start)
		return GO_ON + 2;      /* not yet */
	if (opt->duration >= 0 && t >= start + ts_from_sec(opt->duration))
		return STOP;
	if (opt->fps.num > 0) {
		/* +1 us: times are rounded to the microsecond, and a frame
		 * due exactly on a slot boundary must not miss it. */
		slot = (int64_t)floor((double)(t + 1) * opt->fps.num /
		    (1e6 * opt->fps.den));
		if (o->written > 0 && slot <= o->last_slot)
			return GO_ON + 2;
		o->last_slot = slot;
	}
	return GO_ON;
}

/* Apply --crop to the decoded frame; FAULT if it falls outside. */
static int
crop_frame(struct output *o, AVFrame *f)
{
	const int *c = o->opt->crop;

	if (!o->opt->has_crop)
		return GO_ON;
	if ((int64_t)c[0] + c[2] > f->width || (int64_t)c[1] + c[3] > f->height) {
		warnx("%s: the frame size changed to %dx%d: --crop %d,%d,%d,%d "
		    "is outside it", o->opt->name, f->width, f->height, c[0],
		    c[1], c[2], c[3]);
		return FAULT;
	}
	f->crop_left += (size_t)c[0];
	f->crop_top += (size_t)c[1];
	f->crop_right += (size_t)(f->width - c[0] - c[2]);
	f->crop_bottom += (size_t)(f->height - c[1] - c[3]);
	if (av_frame_apply_cropping(f, AV_FRAME_CROP_UNALIGNED) < 0) {
		warnx("--crop: cannot crop this pixel format");
		return FAULT;
	}
	return GO_ON;
}

static enum AVPixelFormat
out_format(const struct output *o)
{
	return o->opt->color ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_GRAY8;
}

/* Output geometry and header, from the first frame that goes out. */
static void
start_output(struct output *o, const struct input *in, const AVFrame *f)
{
	AVStream *st = in->fmt->streams[in->stream];
	AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate :
	    st->r_frame_rate;
	struct y4m_info *y = &o->info;

	y->width = o->opt->scale_w ? o->opt->scale_w : f->width;
	y->height = o->opt->scale_h ? o->opt->scale_h : f->height;
	if (o->opt->fps.num > 0)
		fr = o->opt->fps;
	if (fr.num <= 0 || fr.den <= 0)
		fr = (AVRational){ 25, 1 };
	y->fps_num = fr.num;
	y->fps_den = fr.den;
	y->sar_num = f->sample_aspect_ratio.num > 0 ?
	    f->sample_aspect_ratio.num : 1;
	y->sar_den = f->sample_aspect_ratio.den > 0 ?
	    f->sample_aspect_ratio.den : 1;
	y->chroma = o->opt->color ? Y4M_420JPEG : Y4M_MONO;

	if ((o->conv = av_frame_alloc()) == NULL)
		errx(1, "out of memory");
	o->conv->format = out_format(o);
	o->conv->width = y->width;
	o->conv->height = y->height;
	if (av_frame_get_buffer(o->conv, 0) < 0)
		errx(1, "out of memory");
	if (y4m_write_header(stdout, y) < 0)
		cli_check_write(stdout, "stdout");
	o->started = 1;
}

/*
 * Convert to the output format and size the way ffmpeg's own scale filter
 * does (bicubic, input range from the frame), so that our gray frames are
 * byte for byte those of "ffmpeg -f yuv4mpegpipe -pix_fmt gray".
 */
static void
convert(struct output *o, const AVFrame *f)
{
	int full = f->color_range == AVCOL_RANGE_JPEG;
	int *inv, *tab, src_full, dst_full, bri, con, sat;

	o->sws = sws_getCachedContext(o->sws, f->width, f->height, f->format,
	    o->info.width, o->info.height, out_format(o), SWS_BICUBIC, NULL,
	    NULL, NULL);
	if (o->sws == NULL)
		errx(1, "cannot convert from %s %dx%d",
		    av_get_pix_fmt_name(f->format), f->width, f->height);
	if (full && sws_getColorspaceDetails(o->sws, &inv, &src_full, &tab,
	    &dst_full, &bri, &con, &sat) >= 0 && !src_full)
		sws_setColorspaceDetails(o->sws, inv, 1, tab, dst_full, bri,
		    con, sat);
	sws_scale(o->sws, (const uint8_t *const *)f->data, f->linesize, 0,
	    f->height, o->conv->data, o->conv->linesize);
}

static void
write_plane(const uint8_t *p, int linesize, int w, int h)
{
	if (linesize == w) {
		fwrite(p, 1, (size_t)w * (size_t)h, stdout);
		return;
	}
	for (int y = 0; y < h; y++)
		fwrite(p + (ptrdiff_t)y * linesize, 1, (size_t)w, stdout);
}

/* --stats: every 8th pixel of every 8th row of the luma written; the
 * picture has changed when they differ from the last frame's by more
 * than a quarter of a grey level on average (a camera's sensor noise is
 * more; a frozen encoder repeats its frame exactly) */
#define STILL_STEP 8
#define STILL_MAD 0.25

static void
note_picture(struct output *o, ts_us t)
{
	const AVFrame *c = o->conv;
	size_t n = 0, cap = (size_t)((c->width + STILL_STEP - 1) / STILL_STEP) *
	    (size_t)((c->height + STILL_STEP - 1) / STILL_STEP);
	double diff = 0;
	int fresh = o->sample == NULL;

	if (fresh) {
		o->sample = xmalloc(cap);
		o->nsample = cap;
	}
	for (int y = 0; y < c->height; y += STILL_STEP)
		for (int x = 0; x < c->width; x += STILL_STEP, n++) {
			uint8_t v = c->data[0][(ptrdiff_t)y * c->linesize[0] + x];
			diff += abs((int)v - (int)o->sample[n]);
			o->sample[n] = v;
		}
	if (fresh || diff / (double)n > STILL_MAD)
		o->changed_at = t;
	stats_add(o->stats, o->st_out, 1);
	stats_set(o->stats, o->st_still, ts_to_sec(t - o->changed_at));
	if (o->live)
		stats_set(o->stats, o->st_lag, ts_to_sec(ts_now() -
		    (o->info.t0 + t)));
}

static void
write_frame(struct output *o, ts_us t)
{
	const AVFrame *c = o->conv;
	int cw = (c->width + 1) / 2, ch = (c->height + 1) / 2;

	y4m_write_frame_header(stdout, 1, t);
	write_plane(c->data[0], c->linesize[0], c->width, c->height);
	if (o->opt->color) {
		write_plane(c->data[1], c->linesize[1], cw, ch);
		write_plane(c->data[2], c->linesize[2], cw, ch);
	}
	/* Flush per frame so a pipe downstream sees frames as they come. */
	fflush(stdout);
	cli_check_write(stdout, "stdout");
	o->written++;
	o->last_pts = t;
	if (o->stats != NULL)
		note_picture(o, t);
}

/* How far the input goes, for the time left: what the container declares
 * (not a guess from the bit rate), to --duration's end; 0 if unknown. */
static double
declared_seconds(const struct input *in, const struct options *opt)
{
	const AVFormatContext *fmt = in->fmt;
	double total;

	if (fmt->duration == AV_NOPTS_VALUE || fmt->duration <= 0 ||
	    fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
		return 0;
	total = (double)fmt->duration / AV_TIME_BASE;
	if (opt->duration >= 0 && opt->start + opt->duration < total)
		total = opt->start + opt->duration;
	return total;
}

static void
show_progress(struct output *o, ts_us t, int force)
{
	char left[64];
	double at = ts_to_sec(t);

	if (o->total > 0)
		cli_progress(&o->progress, force, "%ld frames, %.1f of %.1f s "
		    "(%.0f%%)%s", o->written, at, o->total, 100 * at / o->total,
		    cli_time_left(&o->progress, at, o->total, left,
		    sizeof left));
	else
		cli_progress(&o->progress, force, "%ld frames, %.1f s",
		    o->written, at);
}

static int
is_corrupt(const AVFrame *f)
{
	return f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT);
}

static int
handle_frame(struct output *o, const struct input *in, AVFrame *f)
{
	ts_us t = frame_time(o, in, f);
	int sel;

	o->decoded++;
	if (o->stats != NULL) {
		stats_tick(o->stats, o->info.t0 + t);
		stats_add(o->stats, o->st_in, 1);
	}
	if (t > o->seen_to)
		o->seen_to = t;
	if (is_corrupt(f)) {
		o->corrupt++;
		if (o->stats != NULL)
			stats_add(o->stats, o->st_corrupt, 1);
		warnx("%s: frame at %.3f s is corrupt%s", o->opt->name,
		    ts_to_sec(t), o->opt->skip_bad ? ": skipped" : "");
		return o->opt->skip_bad ? GO_ON : FAULT;
	}
	sel = select_frame(o, t);
	if (sel != GO_ON)
		return sel == STOP ? STOP : GO_ON;
	if (crop_frame(o, f) < 0)
		return FAULT;
	if (!o->started)
		start_output(o, in, f);
	convert(o, f);
	write_frame(o, t);
	show_progress(o, t, 0);
	if (o->opt->max_frames >= 0 && o->written >= o->opt->max_frames)
		return STOP;
	return GO_ON;
}

/* Hand one packet (NULL: end of stream) to the decoder and take every
 * frame it has ready. */
static int
decode_packet(struct output *o, const struct input *in, const AVPacket *pkt,
    AVFrame *f)
{
	int rc = avcodec_send_packet(in->dec, pkt);

	if (rc < 0 && rc != AVERROR_EOF) {
		/* a packet's place when the container knows it ("near byte
		 * -1" said nothing) */
		if (pkt != NULL && pkt->pos >= 0)
			warnx("%s: corrupt data near byte %lld: %s",
			    o->opt->name, (long long)pkt->pos, av_err2str(rc));
		else
			warnx("%s: corrupt data%s: %s", o->opt->name, pkt ==
			    NULL ? " at the end of the stream" : "",
			    av_err2str(rc));
		o->corrupt++;
		if (!o->opt->skip_bad)
			return FAULT;
	}
	for (;;) {
		rc = avcodec_receive_frame(in->dec, f);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return GO_ON;
		if (rc < 0) {
			warnx("%s: decoding failed: %s", o->opt->name,
			    av_err2str(rc));
			o->corrupt++;
			if (!o->opt->skip_bad)
				return FAULT;
			continue;
		}
		rc = handle_frame(o, in, f);
		av_frame_unref(f);
		if (rc != GO_ON)
			return rc;
	}
}

/* --crop against the stream's frame size, before anything is written. */
static int
crop_fits(const struct input *in, const struct options *opt)
{
	const int *c = opt->crop;
	int w = in->dec->width, h = in->dec->height;

	if (!opt->has_crop || w <= 0 || h <= 0 ||
	    ((int64_t)c[0] + c[2] <= w && (int64_t)c[1] + c[3] <= h))
		return 1;
	warnx("--crop %d,%d,%d,%d: outside the %dx%d frame", c[0], c[1], c[2],
	    c[3], w, h);
	return 0;
}

static int
seek_start(const struct input *in, const struct options *opt)
{
	AVStream *st = in->fmt->streams[in->stream];
	int64_t ts;
	int rc;

	if (opt->start <= 0 || in->live)
		return 0;
	ts = in->start_pts + av_rescale_q(ts_from_sec(opt->start),
	    (AVRational){ 1, 1000000 }, st->time_base);
	rc = av_seek_frame(in->fmt, in->stream, ts, AVSEEK_FLAG_BACKWARD);
	if (rc < 0)
		warnx("%s: cannot seek, decoding from the start: %s",
		    opt->name, av_err2str(rc));
	return 0;
}

/* Y4M on a pipe, as frames reads it: the demuxer takes a last frame cut
 * short for the end of the stream and drops it; the bytes read past the
 * last whole frame say it was there. 1 if so (said). */
static int
short_frame(const struct output *o, const struct input *in)
{
	int64_t read = in->fmt->pb != NULL ? avio_tell(in->fmt->pb) : -1;

	if (strcmp(in->fmt->iformat->name, "yuv4mpegpipe") != 0 ||
	    o->read_to <= 0 || read <= o->read_to)
		return 0;
	warnx("%s: the last frame is cut short: %lld bytes after the frame "
	    "that ends at byte %lld", o->opt->name, (long long)(read -
	    o->read_to), (long long)o->read_to);
	return 1;
}

/* A read that did not give a packet: reconnect (live, --reconnect), end
 * cleanly (a file's end) or fail. */
static int
read_failed(struct output *o, struct input *in, int rc)
{
	if (in->live && o->opt->reconnect) {
		warnx("%s: input lost: %s", o->opt->name, rc == AVERROR_EOF ?
		    "end of stream" : av_err2str(rc));
		input_reconnect(in, o->opt);
		o->clock_set = 0;
		o->last_raw = AV_NOPTS_VALUE;
		return GO_ON;
	}
	if (rc == AVERROR_EOF && !in->live) {
		o->at_end = 1;
		return short_frame(o, in) ? FAULT : STOP;
	}
	warnx("%s: %s: %s", o->opt->name, in->live ? "input lost" :
	    "read error", rc == AVERROR_EOF ? "end of stream" : av_err2str(rc));
	return FAULT;
}

/*
 * A file read to its end whose frames stop well before the duration its
 * container declares was cut short or damaged: Matroska cut in half gave
 * 147 of 300 frames, an MP4 whose packets lie past its end none, both
 * with status 0. Durations the demuxer only guessed from the bit rate
 * are no measure. Said, with the file's size; 1 if so.
 */
static int
ends_early(const struct output *o, const struct input *in)
{
	const AVFormatContext *fmt = in->fmt;
	AVStream *st = fmt->streams[in->stream];
	double fps = av_q2d(st->avg_frame_rate), declared, reached, slack;
	long long size = -1;

	if (!o->at_end || fmt->duration == AV_NOPTS_VALUE ||
	    fmt->duration <= 0 ||
	    fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
		return 0;
	declared = (double)fmt->duration / AV_TIME_BASE;
	reached = o->decoded > 0 ? ts_to_sec(o->seen_to) + (fps > 0 ?
	    1 / fps : 0) : 0;
	slack = fps > 0 && 3 / fps > 0.5 ? 3 / fps : 0.5;
	if (reached >= declared - slack)
		return 0;
	/* a pipe has no size: where reading ended is where it ended */
	if (fmt->pb != NULL && (size = avio_size(fmt->pb)) < 0)
		size = avio_tell(fmt->pb);
	warnx("%s: ends early: %ld frames, to %.3f s of the %.3f s it "
	    "declares; the file ends at byte %lld (cut short or damaged)",
	    o->opt->name, o->decoded, reached, declared, size);
	return 1;
}

/* A packet the demuxer could only read part of: the file was cut. */
static int
cut_short(struct output *o, const struct input *in, const AVPacket *pkt)
{
	if (!(pkt->flags & AV_PKT_FLAG_CORRUPT))
		return 0;
	o->corrupt++;
	warnx("%s: %s at byte %lld%s", o->opt->name,
	    in->fmt->pb && avio_feof(in->fmt->pb) ? "truncated: the file ends "
	    "inside a packet" : "corrupt packet", (long long)pkt->pos,
	    o->opt->skip_bad ? ": skipped" : "");
	return 1;
}

static int
take_packet(struct output *o, struct input *in, const AVPacket *pkt,
    AVFrame *f)
{
	if (pkt->stream_index != in->stream)
		return GO_ON;
	/* A live stream joined mid-way (or after a reconnect) starts with
	 * frames whose references were never sent: wait for a key frame
	 * rather than report them as damage. */
	if (!in->keyed && !(pkt->flags & AV_PKT_FLAG_KEY))
		return GO_ON;
	in->keyed = 1;
	if (cut_short(o, in, pkt))
		return o->opt->skip_bad ? GO_ON : FAULT;
	return decode_packet(o, in, pkt, f);
}

/* --start past a file's last frame writes nothing, not even the stream's
 * header: said, so that the pipe does not go on with an empty input as
 * if the clip held no motion. 1 if so. */
static int
starts_past_end(const struct output *o, const struct input *in)
{
	if (in->live || o->written > 0 || o->opt->start <= 0 || !o->at_end)
		return 0;
	if (o->decoded > 0)
		warnx("%s: --start %g s is past its last frame (at %.3f s): "
		    "nothing written", o->opt->name, o->opt->start,
		    ts_to_sec(o->seen_to));
	else
		warnx("%s: --start %g s: no frame from there: nothing written",
		    o->opt->name, o->opt->start);
	return 1;
}

static void
summary(struct output *o)
{
	/* where the input ended: the last frame's end */
	if (o->progress.drawn)
		show_progress(o, o->last_pts + (o->info.fps_num > 0 ?
		    (ts_us)(1e6 * o->info.fps_den / o->info.fps_num) : 0), 1);
	cli_progress_end(&o->progress);
	if (!o->opt->verbose)
		return;
	fprintf(stderr, "frames: %s: %ld frames decoded, %ld written (%dx%d "
	    "%s), %ld corrupt, %.3f s\n", o->opt->name, o->decoded,
	    o->written, o->info.width, o->info.height,
	    o->opt->color ? "420jpeg" : "mono", o->corrupt,
	    ts_to_sec(o->last_pts));
}

static void
stats_start(struct output *o, const struct options *opt)
{
	o->stats = stats_open(opt->stats, "frames", opt->src,
	    opt->stats_every);
	o->st_in = stats_figure(o->stats, "frames_in", STATS_COUNT);
	o->st_out = stats_figure(o->stats, "frames_out", STATS_COUNT);
	o->st_corrupt = stats_figure(o->stats, "corrupt", STATS_COUNT);
	o->st_still = stats_figure(o->stats, "still_s", STATS_GAUGE);
	o->st_lag = stats_figure(o->stats, "lag_s", STATS_GAUGE);
}

int
decode_run(struct input *in, const struct options *opt)
{
	struct output o = { .opt = opt, .last_raw = AV_NOPTS_VALUE };
	AVPacket *pkt;
	AVFrame *f;
	int rc = GO_ON, status = 0;

	if (!crop_fits(in, opt))
		return EXIT_USAGE;
	if (!in->live)
		cli_progress_init(&o.progress, strcmp(opt->input, "-") == 0 ?
		    STDIN_FILENO : -1);
	o.total = declared_seconds(in, opt);
	pkt = av_packet_alloc();
	f = av_frame_alloc();
	if (pkt == NULL || f == NULL)
		errx(1, "out of memory");
	strcpy(o.info.src, opt->src);
	o.info.has_t0 = 1;
	o.info.t0 = opt->has_t0 ? opt->t0 : 0;
	o.info.interlace = 'p';
	seek_start(in, opt);
	o.live = in->live;
	if (opt->stats != NULL)
		stats_start(&o, opt);
	while (rc == GO_ON) {
		int got = av_read_frame(in->fmt, pkt);
		if (got < 0) {
			rc = read_failed(&o, in, got);
			continue;
		}
		if (pkt->pos >= 0)
			o.read_to = pkt->pos + pkt->size;
		rc = take_packet(&o, in, pkt, f);
		av_packet_unref(pkt);
	}
	/* Frames still inside the decoder came before any fault: keep them. */
	if (rc != STOP || (opt->max_frames < 0 || o.written < opt->max_frames))
		if (decode_packet(&o, in, NULL, f) == FAULT)
			rc = FAULT;
	if (rc == FAULT || (o.corrupt > 0 && !opt->skip_bad) ||
	    ends_early(&o, in) || starts_past_end(&o, in))
		status = 1;
	summary(&o);
	stats_close(o.stats);
	free(o.sample);
	sws_freeContext(o.sws);
	av_frame_free(&o.conv);
	av_frame_free(&f);
	av_packet_free(&pkt);
	return status;
}
