/*
 * avinput: opening a camera or a file with libavformat, as frames and
 * clips both do: a file, standard input ("-"), a URL (rtsp://, http://,
 * ...) or a capture device, with a read timeout on network inputs so a
 * dead server is noticed, and waits with backoff between reconnections.
 */
#ifndef AVINPUT_H
#define AVINPUT_H

#include <libavformat/avformat.h>

struct avin_opts {
	const char *input;      /* "-" for standard input */
	const char *name;       /* the input in messages */
	const char *format;     /* force a demuxer (v4l2, ...), or NULL */
	double timeout;         /* seconds, network inputs */
	const char *rtsp_transport;     /* "udp", "tcp", or NULL */
};

/* Route libav's messages: printed (after "PROG: libav: ") when verbose,
 * and its last error kept either way, for avin_open to say why a file
 * could not be opened when libav's status does not (a Y4M header with a
 * picture too large gave "Device or resource busy"). */
void avin_log_init(int verbose);

/* Open o->input and read its stream information into *fmt; 0, or -1
 * after saying why. */
int avin_open(AVFormatContext **fmt, const struct avin_opts *o);

/* The index of the best video stream of fmt, every other stream
 * discarded; -1 after saying why if there is none. */
int avin_video_stream(AVFormatContext *fmt, const char *name);

/* --rtsp-transport's argument, checked: "udp" or "tcp", else a usage
 * error (status 2). */
const char *avin_transport(const char *arg);

/* Is name a network URL or capture device rather than a file? */
int avin_is_live(const char *name, const char *format);

/* Before attempt n + 1 to open a live input (n from 0): say so and
 * wait, 0.5 s doubling to 30 s. */
void avin_backoff(const char *name, int n);

#endif
