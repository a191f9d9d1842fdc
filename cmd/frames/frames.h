/*
 * frames: decode video with libav* into a Y4M stream.
 *
 * main.c reads the options; input.c opens the input (file, URL or device),
 * prints --info and reconnects live inputs; decode.c decodes, picks frames
 * by time, converts and writes them.
 */
#ifndef FRAMES_H
#define FRAMES_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "tstime.h"
#include "y4m.h"

struct options {
	const char *input;      /* "-" for standard input */
	const char *name;       /* the input in messages: "stdin" for "-" */
	const char *format;     /* --format: force a demuxer (v4l2, ...) */
	char src[Y4M_SRC_MAX];  /* --src */
	int color;              /* --color: 4:2:0 instead of gray */
	AVRational fps;         /* --fps, {0,0} for every frame */
	int crop[4];            /* --crop x,y,w,h */
	int has_crop;
	int scale_w, scale_h;   /* --scale, 0 to keep the size */
	double start;           /* --start seconds */
	double duration;        /* --duration seconds, < 0 for all */
	long max_frames;        /* --frames, < 0 for all */
	int has_t0;             /* --t0 given */
	ts_us t0;
	int threads;            /* --threads, 0 for one per core */
	int reconnect;          /* --reconnect */
	double timeout;         /* --timeout seconds, live inputs */
	const char *rtsp_transport; /* --rtsp-transport udp|tcp, or NULL */
	int skip_bad;           /* --skip-bad */
	int info;               /* --info */
	const char *stats;      /* --stats FILE or fd:N */
	ts_us stats_every;      /* --stats-every, stream time */
	int verbose;            /* -v */
};

/* An open input and its video decoder. */
struct input {
	AVFormatContext *fmt;
	AVCodecContext *dec;
	int stream;             /* index of the video stream */
	int live;               /* a URL or device, not a file */
	int keyed;              /* a key frame has been seen: decode from it */
	int64_t start_pts;      /* stream start, in stream time base */
};

/* Open opt->input and its best video stream's decoder; 0, or -1 after
 * printing why. */
int input_open(struct input *in, const struct options *opt);
void input_close(struct input *in);
/* --info: one CSV row per stream on stdout. */
int input_print_info(const struct input *in, const char *name);
/* Close and reopen a live input after a drop, waiting with backoff;
 * returns 0 when reconnected. */
int input_reconnect(struct input *in, const struct options *opt);

/* Decode and write the whole stream; returns the exit status. */
int decode_run(struct input *in, const struct options *opt);

#endif
