/*
 * clips forward: while an alert of the source fires, the camera's stream
 * relayed as it comes (no re-encoding) to a control-room endpoint: what
 * libavformat's muxers and protocols reach (rtsp://, srt://, tcp://,
 * udp://, a file). The relay starts at a key frame when the first alert
 * of the source fires and stops when the last one resolves. Events are
 * read on a second thread, so a resolved event is seen while packets
 * flow.
 */
#include <err.h>
#include <getopt.h>
#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avinput.h"
#include "cli.h"
#include "clips.h"
#include "csvio.h"
#include "strmap.h"

struct fwd_opts {
	struct avin_opts in;
	const char *src, *to, *to_format;
};

struct relay {
	const struct fwd_opts *o;
	AVFormatContext *in, *out;
	int vs;
	int64_t first_dts;      /* the relay's time 0, in the input's base */
	int64_t last_dts;       /* the last packet's, in the output's base */
	int64_t shift;          /* added to what comes after a clock step */
	long packets;
	double began;
};

/* The events: which alerts of the source fire now. */
struct events {
	struct csv_in *in;
	int cts, calert, cstate, ckey, csrc;
	struct strmap firing;   /* "alert key" -> non-NULL */
	long nfiring;
	int ended;
};

static const char *
guess_format(const struct fwd_opts *o)
{
	if (o->to_format != NULL)
		return o->to_format;
	if (strncmp(o->to, "rtsp://", 7) == 0)
		return "rtsp";
	if (strstr(o->to, "://") != NULL && strncmp(o->to, "file:", 5) != 0)
		return "mpegts";        /* srt, tcp, udp: a stream format */
	return NULL;                    /* a file: by its name */
}

/* Open the camera and the endpoint; 0, or after saying why -1 if the
 * camera failed, -2 if the endpoint did. */
static int
start_relay(struct relay *r)
{
	AVStream *is, *os;
	int rc;

	if (avin_open(&r->in, &r->o->in) < 0 ||
	    (r->vs = avin_video_stream(r->in, r->o->in.name)) < 0) {
		avformat_close_input(&r->in);
		return -1;
	}
	is = r->in->streams[r->vs];
	if ((rc = avformat_alloc_output_context2(&r->out, NULL,
	    guess_format(r->o), r->o->to)) < 0) {
		warnx("%s: %s", r->o->to, av_err2str(rc));
		avformat_close_input(&r->in);
		return -2;
	}
	if ((os = avformat_new_stream(r->out, NULL)) == NULL)
		errx(1, "out of memory");
	avcodec_parameters_copy(os->codecpar, is->codecpar);
	os->codecpar->codec_tag = 0;
	os->time_base = is->time_base;
	if ((!(r->out->oformat->flags & AVFMT_NOFILE) &&
	    (rc = avio_open(&r->out->pb, r->o->to, AVIO_FLAG_WRITE)) < 0) ||
	    (rc = avformat_write_header(r->out, NULL)) < 0) {
		warnx("%s: %s", r->o->to, av_err2str(rc));
		if (!(r->out->oformat->flags & AVFMT_NOFILE))
			avio_closep(&r->out->pb);
		avformat_free_context(r->out);
		r->out = NULL;
		avformat_close_input(&r->in);
		return -2;
	}
	r->first_dts = r->last_dts = AV_NOPTS_VALUE;
	r->shift = 0;
	r->packets = 0;
	r->began = ts_elapsed();
	return 0;
}

static void
stop_relay(struct relay *r, const char *why)
{
	if (r->out == NULL)
		return;
	av_write_trailer(r->out);
	if (!(r->out->oformat->flags & AVFMT_NOFILE))
		avio_closep(&r->out->pb);
	avformat_free_context(r->out);
	r->out = NULL;
	avformat_close_input(&r->in);
	warnx("%s: relay to %s stopped (%s) after %.1f s, %ld packets",
	    r->o->src, r->o->to, why, ts_elapsed() - r->began, r->packets);
}

/* A camera's clock can step back (it restarted, a recording was joined
 * to another, a lost RTP packet split a frame in two with one time) and
 * muxers refuse a packet not after the last: the relay's time goes on
 * from the last packet, and what follows keeps the same step. */
static void
keep_time_going(struct relay *r, AVPacket *pkt)
{
	if (pkt->dts == AV_NOPTS_VALUE)
		return;
	if (r->last_dts != AV_NOPTS_VALUE && pkt->dts + r->shift <= r->last_dts)
		r->shift = r->last_dts + (pkt->duration > 0 ? pkt->duration : 1) -
		    pkt->dts;
	pkt->dts += r->shift;
	if (pkt->pts != AV_NOPTS_VALUE) {
		pkt->pts += r->shift;
		if (pkt->pts < pkt->dts)
			pkt->pts = pkt->dts;
	}
	r->last_dts = pkt->dts;
}

/* Relay one packet; 0, or -1 when the camera or the endpoint failed
 * (said). */
static int
relay_packet(struct relay *r, AVPacket *pkt)
{
	AVStream *is = r->in->streams[r->vs];
	int rc;

	if (pkt->stream_index != r->vs)
		return 0;
	if (r->first_dts == AV_NOPTS_VALUE) {
		if (!(pkt->flags & AV_PKT_FLAG_KEY))
			return 0;       /* from a key frame on */
		r->first_dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
	}
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts -= r->first_dts;
	if (pkt->dts != AV_NOPTS_VALUE)
		pkt->dts -= r->first_dts;
	pkt->stream_index = 0;
	pkt->pos = -1;
	av_packet_rescale_ts(pkt, is->time_base, r->out->streams[0]->time_base);
	keep_time_going(r, pkt);
	if ((rc = av_write_frame(r->out, pkt)) < 0) {
		warnx("%s: %s", r->o->to, av_err2str(rc));
		return -1;
	}
	r->packets++;
	return 0;
}

/* One event row: the source's alerts that fire, by alert and key. */
static void
event_row(struct events *e, const struct fwd_opts *o)
{
	const char *alert = csvin_field(e->in, (size_t)e->calert);
	const char *key = csvin_field(e->in, (size_t)e->ckey);
	const char *state = csvin_field(e->in, (size_t)e->cstate);
	char id[2048];
	void **slot;

	if (!event_is_for(o->src, key, e->csrc >= 0 ?
	    csvin_field(e->in, (size_t)e->csrc) : NULL))
		return;
	snprintf(id, sizeof id, "%s %s", alert, key);
	slot = strmap_slot(&e->firing, id);
	if (strcmp(state, "firing") == 0 && *slot == NULL) {
		*slot = &e->firing;
		e->nfiring++;
		warnx("%s: %s firing (%s)", o->src, alert, key);
	} else if (strcmp(state, "resolved") == 0 && *slot != NULL) {
		*slot = NULL;
		e->nfiring--;
	}
}

/* Read what events there are, waiting at most timeout_ms for one; -1 if
 * the input is bad (said). */
static int
poll_events(struct events *e, const struct fwd_opts *o, int timeout_ms)
{
	while (!e->ended && csvin_wait(e->in, timeout_ms) == 1) {
		int rc = csvin_read(e->in);
		if (rc < 0) {
			warnx("%s", csvin_error(e->in));
			return -1;
		}
		if (rc == 0) {
			e->ended = 1;
			break;
		}
		event_row(e, o);
		timeout_ms = 0;
	}
	return 0;
}

static int
forward(const struct fwd_opts *o, struct events *e)
{
	struct relay r = { .o = o };
	AVPacket *pkt = av_packet_alloc();
	int status = 0, tries = 0, file_done = 0, rc;

	if (pkt == NULL)
		errx(1, "out of memory");
	for (;;) {
		if (poll_events(e, o, r.out != NULL ? 0 : -1) < 0) {
			status = 1;
			break;
		}
		if (r.out != NULL && (e->nfiring == 0 || e->ended)) {
			stop_relay(&r, e->nfiring == 0 ? "resolved" :
			    "the events ended");
			tries = 0;
		}
		if (e->ended)
			break;
		if (e->nfiring == 0) {
			file_done = 0;
			continue;
		}
		if (file_done)
			continue;
		if (r.out == NULL) {
			if ((rc = start_relay(&r)) < 0) {
				avin_backoff(rc == -2 ? o->to : o->in.name,
				    tries++);
				continue;
			}
			warnx("%s: relaying %s to %s", o->src, o->in.name, o->to);
		}
		if ((rc = av_read_frame(r.in, pkt)) == AVERROR_EOF &&
		    !avin_is_live(o->in.input, o->in.format)) {
			/* a file is relayed once an alert: not again and
			 * again while it fires */
			stop_relay(&r, "the file ended");
			file_done = 1;
		} else if (rc < 0 || relay_packet(&r, pkt) < 0)
			stop_relay(&r, "the camera or the endpoint failed");
		av_packet_unref(pkt);
	}
	stop_relay(&r, "the events ended");
	av_packet_free(&pkt);
	return status;
}

int
cmd_forward(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "src", required_argument, NULL, 's' },
		{ "to", required_argument, NULL, 'o' },
		{ "to-format", required_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rtsp-transport", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "events", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct fwd_opts o = { { NULL, NULL, NULL, 10, NULL }, NULL, NULL, NULL };
	struct events e = { 0 };
	const char *events = NULL;
	FILE *fp = stdin;
	int c, status;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.src = cli_src(optarg); break;
		case 'o': o.to = optarg; break;
		case 'F': o.to_format = optarg; break;
		case 't': o.in.timeout = cli_seconds("--timeout", optarg, 0.1,
		    3600); break;
		case 'r': o.in.rtsp_transport = avin_transport(optarg); break;
		case 'f': o.in.format = optarg; break;
		case 'e': events = optarg; break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (o.src == NULL || o.to == NULL)
		cli_usage_error("forward: --src and --to are needed");
	if (argc - optind != 1)
		cli_usage_error("forward: one input (a file, URL or device)");
	o.in.input = argv[optind];
	o.in.name = o.in.input;
	if (events != NULL && strcmp(events, "-") != 0 &&
	    (fp = fopen(events, "r")) == NULL)
		err(1, "%s", events);
	e.in = csvin_new(fp, events != NULL ? events : "stdin");
	if (csvin_header(e.in) < 0)
		errx(1, "%s", csvin_error(e.in));
	if ((e.cts = csvin_col(e.in, "ts")) < 0 ||
	    (e.calert = csvin_col(e.in, "alert")) < 0 ||
	    (e.cstate = csvin_col(e.in, "state")) < 0 ||
	    (e.ckey = csvin_col(e.in, "key")) < 0)
		errx(1, "%s: not alert events (ts,alert,severity,state,key,...)",
		    events != NULL ? events : "stdin");
	e.csrc = csvin_col(e.in, "src");
	strmap_init(&e.firing);
	csvin_background(e.in);
	status = forward(&o, &e);
	strmap_free(&e.firing, NULL);
	csvin_free(e.in);
	if (fp != stdin)
		fclose(fp);
	return status;
}
