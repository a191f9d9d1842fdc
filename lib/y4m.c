#include "y4m.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "YUV4MPEG2"
#define FRAME_MAGIC "FRAME"
/* Longest header line we accept; real ones are under 100 bytes. */
#define HEADER_MAX 4096

static const struct {
	const char *name;
	enum y4m_chroma chroma;
} chroma_names[] = {
	{ "mono", Y4M_MONO },
	{ "420jpeg", Y4M_420JPEG },
	{ "420", Y4M_420JPEG },
	{ "420mpeg2", Y4M_420MPEG2 },
	{ "420paldv", Y4M_420PALDV },
	{ "422", Y4M_422 },
	{ "444", Y4M_444 },
};

void
y4m_info_init(struct y4m_info *info, int w, int h)
{
	memset(info, 0, sizeof *info);
	info->width = w;
	info->height = h;
	info->fps_num = 25;
	info->fps_den = 1;
	info->interlace = 'p';
	info->chroma = Y4M_420JPEG;
}

const char *
y4m_chroma_name(enum y4m_chroma c)
{
	for (size_t i = 0; i < sizeof chroma_names / sizeof *chroma_names; i++)
		if (chroma_names[i].chroma == c)
			return chroma_names[i].name;
	return "?";
}

void
y4m_chroma_size(const struct y4m_info *info, int *cw, int *ch)
{
	switch (info->chroma) {
	case Y4M_MONO:
		*cw = *ch = 0;
		break;
	case Y4M_422:
		*cw = (info->width + 1) / 2, *ch = info->height;
		break;
	case Y4M_444:
		*cw = info->width, *ch = info->height;
		break;
	default:
		*cw = (info->width + 1) / 2, *ch = (info->height + 1) / 2;
		break;
	}
}

size_t
y4m_frame_size(const struct y4m_info *info)
{
	size_t w = (size_t)info->width, h = (size_t)info->height;
	int cw, ch;

	if (info->width <= 0 || info->height <= 0 ||
	    info->width > Y4M_MAX_DIM || info->height > Y4M_MAX_DIM ||
	    (long)w * (long)h > Y4M_MAX_PIXELS)
		return 0;
	y4m_chroma_size(info, &cw, &ch);
	return w * h + 2 * (size_t)cw * (size_t)ch;
}

static int
fail(struct y4m_reader *r, uint64_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof r->err, "%s: byte %llu: ", r->name,
	    (unsigned long long)at);
	if (n > 0 && (size_t)n < sizeof r->err) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Read one line (without its '\n') into buf, always NUL-terminated. Returns
 * its length, or -1: at end of input before any byte (r->err empty) or on a
 * fault (r->err set; buf holds what was read).
 */
static long
read_line(struct y4m_reader *r, char *buf, size_t max, const char *what)
{
	uint64_t start = r->offset;
	size_t n = 0;
	int c;

	buf[0] = '\0';
	while ((c = getc(r->fp)) != EOF) {
		r->offset++;
		if (c == '\n') {
			buf[n] = '\0';
			return (long)n;
		}
		if (c == '\0')
			return fail(r, r->offset - 1, "NUL byte in the %s",
			    what);
		if (n + 1 >= max)
			return fail(r, start, "%s longer than %zu bytes", what,
			    max - 1);
		buf[n++] = (char)c;
		buf[n] = '\0';
	}
	if (ferror(r->fp))
		return fail(r, r->offset, "read error: %s", strerror(errno));
	if (n == 0 && r->offset == start) {
		r->err[0] = '\0';
		return -1;
	}
	return fail(r, start, "truncated %s (no line end)", what);
}

/* "N:D" with positive (or, if zero_ok, 0:0) integers. */
static int
parse_ratio(const char *s, int *num, int *den, int zero_ok)
{
	char *end;
	long n, d;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end != ':' || errno)
		return -1;
	s = end + 1;
	d = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno)
		return -1;
	if (n < 0 || d < 0 || n > INT32_MAX || d > INT32_MAX)
		return -1;
	if ((n == 0 || d == 0) && !(zero_ok && n == 0 && d == 0))
		return -1;
	*num = (int)n;
	*den = (int)d;
	return 0;
}

static int
parse_dim(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno || v <= 0 || v > Y4M_MAX_DIM)
		return -1;
	*out = (int)v;
	return 0;
}

static int
parse_chroma(const char *s, enum y4m_chroma *out)
{
	for (size_t i = 0; i < sizeof chroma_names / sizeof *chroma_names; i++)
		if (strcmp(s, chroma_names[i].name) == 0) {
			*out = chroma_names[i].chroma;
			return 0;
		}
	return -1;
}

static int
parse_ext(struct y4m_reader *r, uint64_t at, const char *tok)
{
	struct y4m_info *in = &r->info;

	if (strncmp(tok, "XSRC=", 5) == 0) {
		if (strlen(tok + 5) >= sizeof in->src)
			return fail(r, at, "XSRC longer than %zu bytes",
			    sizeof in->src - 1);
		strcpy(in->src, tok + 5);
	} else if (strncmp(tok, "XT0=", 4) == 0) {
		if (ts_parse(tok + 4, &in->t0) < 0)
			return fail(r, at, "XT0: not a time: \"%s\"", tok + 4);
		in->has_t0 = 1;
	}
	/* Other X fields belong to other programs: skip them. */
	return 0;
}

/* One header token "Lvalue" at byte offset at. */
static int
parse_param(struct y4m_reader *r, uint64_t at, const char *raw)
{
	struct y4m_info *in = &r->info;
	const char *v = raw + 1;
	char tok[96];
	int rc = 0;

	cli_visible(raw, tok, sizeof tok);     /* a CRLF header ends in \r */
	if (strchr(raw, '\r') != NULL)
		return fail(r, at, "\"%s\": a header line ending in CRLF (Y4M "
		    "lines end with LF alone)", tok);

	switch (raw[0]) {
	case 'W':
		rc = parse_dim(v, &in->width);
		break;
	case 'H':
		rc = parse_dim(v, &in->height);
		break;
	case 'F':
		rc = parse_ratio(v, &in->fps_num, &in->fps_den, 0);
		break;
	case 'A':
		rc = parse_ratio(v, &in->sar_num, &in->sar_den, 1);
		break;
	case 'I':
		rc = (strlen(v) == 1 && strchr("ptbm?", v[0])) ? 0 : -1;
		in->interlace = v[0];
		break;
	case 'C':
		if (parse_chroma(v, &in->chroma) < 0)
			return fail(r, at, "unsupported colour space \"%s\" "
			    "(8-bit mono, 420, 422 or 444 only)", tok);
		break;
	case 'X':
		return parse_ext(r, at, raw);
	default:
		return fail(r, at, "unknown header parameter \"%s\"", tok);
	}
	if (rc < 0)
		return fail(r, at, "bad header parameter \"%s\"", tok);
	return 0;
}

/* Does line begin "YUV4MPEG2" followed by a space or its end? A line cut
 * short by a fault only has to agree as far as it goes. */
static int
starts_with_magic(const char *line)
{
	size_t n = strlen(line), m = strlen(MAGIC);

	if (n < m)
		return n > 0 && strncmp(line, MAGIC, n) == 0;
	return strncmp(line, MAGIC, m) == 0 &&
	    (line[m] == ' ' || line[m] == '\0');
}

/*
 * Frames are hundreds of kilobytes: through a pipe's default 64 KiB the
 * writer and reader take turns several times a frame, which costs more
 * than the copying. A wider pipe (Linux) lets whole frames through at
 * once; failing to widen it only leaves it as it was.
 */
static void
widen_pipe(FILE *fp)
{
#ifdef F_SETPIPE_SZ
	struct stat st;
	int fd = fileno(fp);

	/* 1 MiB: the most an unprivileged process may ask for by default. */
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fp;
#endif
}

int
y4m_open(struct y4m_reader *r, FILE *fp, const char *name)
{
	char line[HEADER_MAX];
	char *tok, *save;
	long len;

	memset(r, 0, sizeof *r);
	r->fp = fp;
	r->name = name;
	widen_pipe(fp);
	y4m_info_init(&r->info, 0, 0);
	r->info.fps_num = 0;

	len = read_line(r, line, sizeof line, "stream header");
	/* Whatever else is wrong, a missing signature is the news. */
	if (!starts_with_magic(line))
		return fail(r, 0, "%snot a YUV4MPEG2 stream (no \"%s\" "
		    "signature)", len < 0 && !r->err[0] ? "empty input: " : "",
		    MAGIC);
	if (len < 0)
		return -1;
	for (tok = strtok_r(line + strlen(MAGIC), " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save))
		if (parse_param(r, (uint64_t)(tok - line), tok) < 0)
			return -1;
	if (r->info.width == 0 || r->info.height == 0)
		return fail(r, 0, "header has no %s", r->info.width ? "H" :
		    "W");
	if (r->info.fps_num == 0)
		return fail(r, 0, "header has no frame rate (F)");
	r->frame_size = y4m_frame_size(&r->info);
	if (r->frame_size == 0)
		return fail(r, 0, "frame %dx%d is larger than %ld pixels",
		    r->info.width, r->info.height, Y4M_MAX_PIXELS);
	return 0;
}

static int
parse_frame_header(struct y4m_reader *r, uint64_t start, char *line,
    struct y4m_frame *f)
{
	char *tok, *save;

	if (strncmp(line, FRAME_MAGIC, strlen(FRAME_MAGIC)) != 0 ||
	    (line[5] != ' ' && line[5] != '\0'))
		return fail(r, start, "frame %ld: expected \"FRAME\"",
		    r->nframes);
	for (tok = strtok_r(line + 5, " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strncmp(tok, "XPTS=", 5) != 0)
			continue;
		if (ts_parse(tok + 5, &f->pts) < 0)
			return fail(r, start + (uint64_t)(tok - line),
			    "frame %ld: XPTS: not a time: \"%s\"", r->nframes,
			    tok + 5);
		f->has_pts = 1;
	}
	return 0;
}

int
y4m_read_frame(struct y4m_reader *r, uint8_t *buf, struct y4m_frame *f)
{
	char line[HEADER_MAX];
	uint64_t start = r->offset;
	size_t got;
	long len;

	len = read_line(r, line, sizeof line, "frame header");
	if (len < 0)
		return r->err[0] ? -1 : 0;
	memset(f, 0, sizeof *f);
	f->index = r->nframes;
	if (parse_frame_header(r, start, line, f) < 0)
		return -1;
	if (!f->has_pts)
		f->pts = (ts_us)((f->index * TS_US_PER_S *
		    (int64_t)r->info.fps_den + r->info.fps_num / 2) /
		    r->info.fps_num);
	got = fread(buf, 1, r->frame_size, r->fp);
	r->offset += got;
	if (got < r->frame_size) {
		if (ferror(r->fp))
			return fail(r, r->offset, "read error: %s",
			    strerror(errno));
		return fail(r, r->offset, "frame %ld: short frame: %zu of "
		    "%zu bytes", r->nframes, got, r->frame_size);
	}
	r->nframes++;
	return 1;
}

int
y4m_valid_src(const char *src)
{
	if (*src == '\0' || strlen(src) >= Y4M_SRC_MAX)
		return 0;
	for (; *src; src++)
		if ((unsigned char)*src <= ' ' || *src == 0x7f)
			return 0;
	return 1;
}

int
y4m_write_header(FILE *fp, const struct y4m_info *in)
{
	char t0[TS_BUFSZ];

	if (in->src[0] && !y4m_valid_src(in->src)) {
		errno = EINVAL;
		return -1;
	}
	fprintf(fp, "%s W%d H%d F%d:%d I%c A%d:%d C%s", MAGIC, in->width,
	    in->height, in->fps_num, in->fps_den, in->interlace, in->sar_num,
	    in->sar_den, y4m_chroma_name(in->chroma));
	if (in->src[0])
		fprintf(fp, " XSRC=%s", in->src);
	if (in->has_t0)
		fprintf(fp, " XT0=%s", ts_format_unix(in->t0, t0));
	putc('\n', fp);
	return ferror(fp) ? -1 : 0;
}

int
y4m_write_frame_header(FILE *fp, int has_pts, ts_us pts)
{
	char t[TS_BUFSZ];

	if (has_pts)
		fprintf(fp, "%s XPTS=%s\n", FRAME_MAGIC, ts_format_unix(pts, t));
	else
		fputs(FRAME_MAGIC "\n", fp);
	return ferror(fp) ? -1 : 0;
}

int
y4m_write_frame(FILE *fp, const struct y4m_info *info, const uint8_t *data,
    int has_pts, ts_us pts)
{
	y4m_write_frame_header(fp, has_pts, pts);
	fwrite(data, 1, y4m_frame_size(info), fp);
	return ferror(fp) ? -1 : 0;
}
