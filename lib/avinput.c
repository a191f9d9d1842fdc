#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "avinput.h"
#include "cli.h"
#include "tstime.h"

/* Longest wait between two reconnection attempts, seconds. */
#define BACKOFF_MAX 30.0

static int log_verbose;
static char last_error[256];    /* libav's last error, without its "[x @ p]" */

static void
on_libav_log(void *avcl, int level, const char *fmt, va_list ap)
{
	static int print_prefix = 1, line_start = 1;
	char line[1024];
	size_t n;
	va_list again;

	if (level <= AV_LOG_ERROR) {
		va_copy(again, ap);
		vsnprintf(last_error, sizeof last_error, fmt, again);
		va_end(again);
		last_error[strcspn(last_error, "\n")] = '\0';
	}
	if (!log_verbose || level > AV_LOG_WARNING)
		return;
	av_log_format_line2(avcl, level, fmt, ap, line, sizeof line,
	    &print_prefix);
	n = strlen(line);
	fprintf(stderr, "%s%s%s", line_start ? program_invocation_short_name :
	    "", line_start ? ": libav: " : "", line);
	line_start = n > 0 && line[n - 1] == '\n';
}

void
avin_log_init(int verbose)
{
	log_verbose = verbose;
	av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_ERROR);
	av_log_set_callback(on_libav_log);
}

int
avin_is_live(const char *name, const char *format)
{
	if (strncmp(name, "/dev/", 5) == 0)
		return 1;
	if (format != NULL && (strcmp(format, "v4l2") == 0 ||
	    strcmp(format, "video4linux2") == 0 ||
	    strcmp(format, "x11grab") == 0))
		return 1;
	return strstr(name, "://") != NULL && strncmp(name, "file:", 5) != 0;
}

/* Network inputs: a read timeout so a dead server is noticed, and the
 * RTSP transport if one was asked for (libav tries UDP, then TCP). */
static AVDictionary *
open_options(const struct avin_opts *o)
{
	AVDictionary *d = NULL;
	int64_t us = (int64_t)(o->timeout * 1e6);

	if (strstr(o->input, "://") == NULL)
		return NULL;
	av_dict_set_int(&d, "rw_timeout", us, 0);
	av_dict_set_int(&d, "timeout", us, 0);
	if (o->rtsp_transport != NULL)
		av_dict_set(&d, "rtsp_transport", o->rtsp_transport, 0);
	return d;
}

int
avin_open(AVFormatContext **fmt, const struct avin_opts *o)
{
	const AVInputFormat *ifmt = NULL;
	AVDictionary *d;
	double started;
	int rc;

	if (o->format != NULL &&
	    (ifmt = av_find_input_format(o->format)) == NULL) {
		warnx("--format: unknown input format: '%s'", o->format);
		return -1;
	}
	d = open_options(o);
	started = ts_elapsed();
	last_error[0] = '\0';
	/* "-" is standard input, which libav spells "pipe:0". */
	rc = avformat_open_input(fmt, strcmp(o->input, "-") == 0 ? "pipe:0" :
	    o->input, ifmt, &d);
	av_dict_free(&d);
	/* a server that accepts and never answers: libav's RTSP says
	 * "Invalid data found" when its timeout ends the wait */
	if (rc < 0 && avin_is_live(o->input, o->format) && o->timeout > 0 &&
	    ts_elapsed() - started >= o->timeout * 0.9) {
		warnx("%s: no answer in %g s (--timeout)", o->name, o->timeout);
		return -1;
	}
	/* a file's status can be beside the point where libav's message
	 * is not: "Picture size 99999999x99999999 is invalid" came back as
	 * EBUSY (the Y4M reader added its frame marker's length to EINVAL) */
	if (rc < 0 && last_error[0] != '\0' && !avin_is_live(o->input,
	    o->format)) {
		warnx("%s: cannot read its header: %s", o->name, last_error);
		return -1;
	}
	if (rc < 0) {
		warnx("%s: %s", o->name, av_err2str(rc));
		return -1;
	}
	rc = avformat_find_stream_info(*fmt, NULL);
	if (rc < 0) {
		warnx("%s: cannot read stream information: %s", o->name,
		    av_err2str(rc));
		avformat_close_input(fmt);
		return -1;
	}
	return 0;
}

int
avin_video_stream(AVFormatContext *fmt, const char *name)
{
	int rc = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);

	if (rc < 0) {
		warnx("%s: no video stream", name);
		return -1;
	}
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		if ((int)i != rc)
			fmt->streams[i]->discard = AVDISCARD_ALL;
	return rc;
}

void
avin_backoff(const char *name, int n)
{
	double delay = 0.5;

	for (int i = 0; i < n && delay < BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	warnx("%s: trying again in %.1f s", name, delay);
	usleep((useconds_t)(delay * 1e6));
}

const char *
avin_transport(const char *arg)
{
	if (strcmp(arg, "udp") != 0 && strcmp(arg, "tcp") != 0)
		cli_usage_error("--rtsp-transport: udp or tcp: '%s'", arg);
	return arg;
}
