#include <stdlib.h>

#include "tap.h"
#include "y4m.h"

/* Open a reader over s[0..n); returns y4m_open's result. */
static int
open_mem(struct y4m_reader *r, FILE **fp, const void *s, size_t n)
{
	*fp = fmemopen((void *)s, n, "r");
	return y4m_open(r, *fp, "in.y4m");
}

static void
header_fails(const char *s, const char *msg, const char *what)
{
	struct y4m_reader r;
	FILE *fp;

	ok(open_mem(&r, &fp, s, strlen(s)) < 0, "%s: refused", what);
	has_str(r.err, msg, "%s: message", what);
	fclose(fp);
}

static void
test_ffmpeg_header(void)
{
	const char s[] = "YUV4MPEG2 W4 H2 F30000:1001 Ip A1:1 Cmono "
	    "XCOLORRANGE=LIMITED\nFRAME\nabcdefghFRAME\n12345678";
	struct y4m_reader r;
	struct y4m_frame f;
	uint8_t buf[8];
	FILE *fp;

	ok(open_mem(&r, &fp, s, sizeof s - 1) == 0, "ffmpeg's header reads");
	ok(r.info.width == 4 && r.info.height == 2, "dimensions");
	ok(r.info.fps_num == 30000 && r.info.fps_den == 1001, "frame rate");
	ok(r.info.chroma == Y4M_MONO && r.frame_size == 8, "mono frame size");
	ok(!r.info.has_t0 && r.info.src[0] == '\0', "no extension fields");
	ok(y4m_read_frame(&r, buf, &f) == 1 && memcmp(buf, "abcdefgh", 8) == 0,
	    "first frame");
	ok(f.index == 0 && f.pts == 0 && !f.has_pts, "frame 0 at time 0");
	ok(y4m_read_frame(&r, buf, &f) == 1, "second frame");
	ok(f.pts == 33367, "without XPTS, time is index / F, rounded (%lld)",
	    (long long)f.pts);
	ok(y4m_read_frame(&r, buf, &f) == 0, "clean end of stream");
	fclose(fp);
}

static void
test_round_trip(void)
{
	struct y4m_info in;
	struct y4m_reader r;
	struct y4m_frame f;
	uint8_t frame[4 * 4 + 2 * 2 * 2], back[sizeof frame];
	char *mem = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&mem, &n);

	y4m_info_init(&in, 4, 4);
	in.fps_num = 120;
	in.sar_num = in.sar_den = 1;
	strcpy(in.src, "cam1");
	in.has_t0 = 1;
	in.t0 = INT64_C(1764000000000000);
	for (size_t i = 0; i < sizeof frame; i++)
		frame[i] = (uint8_t)i;
	ok(y4m_frame_size(&in) == sizeof frame, "4:2:0 frame size");
	ok(y4m_write_header(fp, &in) == 0, "write header");
	ok(y4m_write_frame(fp, &in, frame, 1, 8333) == 0, "write frame");
	fclose(fp);
	has_str(mem, "YUV4MPEG2 W4 H4 F120:1 Ip A1:1 C420jpeg XSRC=cam1 "
	    "XT0=1764000000.000000\nFRAME XPTS=0.008333\n", "header text");

	ok(open_mem(&r, &fp, mem, n) == 0, "read back");
	is_str(r.info.src, "cam1", "XSRC");
	ok(r.info.has_t0 && r.info.t0 == in.t0, "XT0");
	ok(y4m_read_frame(&r, back, &f) == 1 && f.has_pts && f.pts == 8333,
	    "XPTS");
	ok(memcmp(frame, back, sizeof frame) == 0, "pixels");
	fclose(fp);
	free(mem);

	strcpy(in.src, "cam 1");
	fp = fopen("/dev/null", "w");
	ok(y4m_write_header(fp, &in) < 0, "a source id with a space is refused");
	fclose(fp);
}

static void
test_bad_headers(void)
{
	char longhdr[5000];

	header_fails("", "in.y4m: byte 0: empty input", "empty input");
	header_fails("RIFF....WAVE", "byte 0: not a YUV4MPEG2 stream",
	    "not Y4M");
	header_fails("\x1a\x45\xdf\xa3matroska", "byte 0: not a YUV4MPEG2 stream",
	    "Matroska instead of Y4M");
	header_fails("YUV4MPEG2", "byte 0: truncated stream header",
	    "signature only");
	header_fails("YUV4MPEG2 W640 H480 F25:1", "byte 0: truncated stream "
	    "header", "truncated header");
	header_fails("YUV4MPEG2 W999999999 H480 F25:1\n",
	    "byte 10: bad header parameter \"W999999999\"", "huge width");
	header_fails("YUV4MPEG2 W16384 H16384 F25:1\n", "larger than",
	    "huge frame");
	header_fails("YUV4MPEG2 W-4 H480 F25:1\n", "byte 10: bad header",
	    "negative width");
	header_fails("YUV4MPEG2 H480 F25:1\n", "header has no W", "no width");
	header_fails("YUV4MPEG2 W640 H480\n", "no frame rate", "no rate");
	header_fails("YUV4MPEG2 W640 H480 F25:0\n", "byte 20: bad header "
	    "parameter \"F25:0\"", "zero denominator");
	header_fails("YUV4MPEG2 W640 H480 F25:1 C420p10\n",
	    "byte 26: unsupported colour space \"C420p10\"", "10-bit");
	header_fails("YUV4MPEG2 W640 H480 F25:1 Ix\n", "bad header parameter",
	    "interlace");
	/* the invisible made visible: a CRLF header, an ESC in a token */
	header_fails("YUV4MPEG2 W640 H480 F25:1 Cmono\r\n",
	    "byte 26: \"Cmono\\r\": a header line ending in CRLF", "CRLF");
	header_fails("YUV4MPEG2 W640 H480 F25:1 C\033mono\n",
	    "unsupported colour space \"C\\x1bmono\"", "ESC in a token");
	header_fails("YUV4MPEG2 W640 H480 F25:1 Q7\n",
	    "unknown header parameter \"Q7\"", "unknown parameter");
	header_fails("YUV4MPEG2 W640 H480 F25:1 XT0=yesterday\n",
	    "byte 26: XT0: not a time", "bad XT0");

	memset(longhdr, 'X', sizeof longhdr - 1);
	longhdr[sizeof longhdr - 1] = '\0';
	memcpy(longhdr, "YUV4MPEG2 ", 10);
	header_fails(longhdr, "stream header longer than", "endless header");
}

static void
test_embedded_nul(void)
{
	const char s[] = "YUV4MPEG2 W4\0 H2 F25:1\n";
	struct y4m_reader r;
	FILE *fp;

	ok(open_mem(&r, &fp, s, sizeof s - 1) < 0, "NUL in header refused");
	has_str(r.err, "byte 12: NUL byte in the stream header", "NUL offset");
	fclose(fp);
}

static void
frame_fails(const char *s, size_t n, const char *msg, const char *what)
{
	struct y4m_reader r;
	struct y4m_frame f;
	uint8_t buf[8];
	FILE *fp;
	int rc;

	ok(open_mem(&r, &fp, s, n) == 0, "%s: header reads", what);
	while ((rc = y4m_read_frame(&r, buf, &f)) > 0)
		;
	ok(rc < 0, "%s: refused", what);
	has_str(r.err, msg, "%s: message", what);
	fclose(fp);
}

/* s is a string literal: its length includes embedded bytes. */
#define FRAME_FAILS(s, msg, what) frame_fails(s, sizeof s - 1, msg, what)

static void
test_bad_frames(void)
{
#define H "YUV4MPEG2 W4 H2 F25:1 Cmono\n"	/* 28 bytes */
	FRAME_FAILS(H "FRAME\nabcd", "byte 38: frame 0: short frame: 4 of 8",
	    "short frame");
	FRAME_FAILS(H "FRAME\nabcdefghFRA", "byte 42: truncated frame header",
	    "truncated frame header");
	FRAME_FAILS(H "FRAME\nabcdefghFRAMEX\n", "byte 42: frame 1: expected "
	    "\"FRAME\"", "bad frame magic");
	FRAME_FAILS(H "FRAME\nabcdefghJUNK\n12345678", "byte 42: frame 1:",
	    "garbage between frames");
	FRAME_FAILS(H "FRAME XPTS=x\nabcdefgh", "byte 34: frame 0: XPTS: "
	    "not a time", "bad XPTS");
#undef H
}

int
main(void)
{
	test_ffmpeg_header();
	test_round_trip();
	test_bad_headers();
	test_embedded_nul();
	test_bad_frames();
	return tap_done();
}
