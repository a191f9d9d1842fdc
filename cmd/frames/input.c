#include <err.h>
#include <libavutil/pixdesc.h>
#include <string.h>

#include "avinput.h"
#include "cli.h"
#include "csvio.h"
#include "frames.h"

static int
open_format(struct input *in, const struct options *opt)
{
	struct avin_opts o = { opt->input, opt->name, opt->format,
		opt->timeout, opt->rtsp_transport };

	return avin_open(&in->fmt, &o);
}

static int
open_decoder(struct input *in, const struct options *opt)
{
	const AVCodec *codec = NULL;
	AVStream *st;
	int rc;

	rc = av_find_best_stream(in->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec,
	    0);
	if (rc < 0) {
		warnx("%s: %s", opt->name, rc == AVERROR_DECODER_NOT_FOUND ?
		    "no decoder for its video stream" : "no video stream");
		return -1;
	}
	in->stream = rc;
	st = in->fmt->streams[rc];
	for (unsigned i = 0; i < in->fmt->nb_streams; i++)
		if ((int)i != rc)
			in->fmt->streams[i]->discard = AVDISCARD_ALL;
	in->start_pts = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;

	in->dec = avcodec_alloc_context3(codec);
	if (in->dec == NULL)
		errx(1, "out of memory");
	avcodec_parameters_to_context(in->dec, st->codecpar);
	in->dec->pkt_timebase = st->time_base;
	in->dec->thread_count = opt->threads;
	in->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
	/* Report damage instead of quietly concealing it: a concealed frame
	 * would show motion that never happened. */
	in->dec->err_recognition |= AV_EF_EXPLODE;
	rc = avcodec_open2(in->dec, codec, NULL);
	if (rc < 0) {
		warnx("%s: cannot open the %s decoder: %s", opt->name,
		    codec->name, av_err2str(rc));
		return -1;
	}
	return 0;
}

int
input_open(struct input *in, const struct options *opt)
{
	memset(in, 0, sizeof *in);
	in->live = avin_is_live(opt->input, opt->format);
	if (open_format(in, opt) < 0 || open_decoder(in, opt) < 0) {
		input_close(in);
		return -1;
	}
	return 0;
}

void
input_close(struct input *in)
{
	avcodec_free_context(&in->dec);
	avformat_close_input(&in->fmt);
}

int
input_reconnect(struct input *in, const struct options *opt)
{
	input_close(in);
	for (int n = 0;; n++) {
		avin_backoff(opt->name, n);
		if (input_open(in, opt) == 0) {
			warnx("%s: reconnected", opt->name);
			return 0;
		}
	}
}

static void
put_rational(struct csv_out *w, AVRational r)
{
	if (r.num > 0 && r.den > 0)
		csvout_double(w, av_q2d(r), 3);
	else
		csvout_str(w, "");
}

static void
put_seconds(struct csv_out *w, int64_t v, AVRational tb)
{
	if (v == AV_NOPTS_VALUE)
		csvout_str(w, "");
	else
		csvout_double(w, (double)v * av_q2d(tb), 3);
}

static void
put_stream(struct csv_out *w, const AVFormatContext *fmt, unsigned i)
{
	const AVStream *st = fmt->streams[i];
	const AVCodecParameters *par = st->codecpar;
	int video = par->codec_type == AVMEDIA_TYPE_VIDEO;
	const char *pix = video ? av_get_pix_fmt_name(par->format) : NULL;
	char tb[64];

	csvout_str(w, fmt->iformat->name);
	csvout_long(w, i);
	csvout_str(w, av_get_media_type_string(par->codec_type) ?
	    av_get_media_type_string(par->codec_type) : "unknown");
	csvout_str(w, avcodec_get_name(par->codec_id));
	if (video && par->width > 0) {
		csvout_long(w, par->width);
		csvout_long(w, par->height);
	} else {
		csvout_str(w, "");
		csvout_str(w, "");
	}
	csvout_str(w, pix ? pix : "");
	put_rational(w, video ? st->avg_frame_rate : (AVRational){ 0, 0 });
	snprintf(tb, sizeof tb, "%d/%d", st->time_base.num, st->time_base.den);
	csvout_str(w, tb);
	put_seconds(w, st->start_time, st->time_base);
	put_seconds(w, st->duration, st->time_base);
	if (st->nb_frames > 0)
		csvout_long(w, st->nb_frames);
	else
		csvout_str(w, "");
	if (par->bit_rate > 0)
		csvout_long(w, par->bit_rate);
	else
		csvout_str(w, "");
	csvout_end(w);
}

int
input_print_info(const struct input *in, const char *name)
{
	static const char *const header[] = { "format", "index", "type",
		"codec", "width", "height", "pix_fmt", "fps", "time_base",
		"start", "duration", "frames", "bit_rate" };
	struct csv_out w;

	(void)name;
	csvout_init(&w, stdout);
	csvout_row(&w, sizeof header / sizeof *header, header);
	for (unsigned i = 0; i < in->fmt->nb_streams; i++)
		put_stream(&w, in->fmt, i);
	cli_check_write(stdout, "stdout");
	return 0;
}
