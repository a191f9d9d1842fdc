#include "csvio.h"
#include "xalloc.h"

#include <csv.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INBUF 65536

struct csv_in {
	FILE *fp;
	const char *name;
	struct csv_parser parser;
	char in[INBUF];
	size_t inpos, inlen;
	int eof;
	long line;          /* newlines consumed */
	long rec_line;      /* where the current record began */
	int rec_started;    /* bytes of the current record have been fed */
	int rec_done;
	int rec_overrun;    /* a second record ended inside one feed */
	long nul_field;     /* 1 + index of a field holding a NUL, or 0 */

	char *buf;          /* current record: fields, each NUL-terminated */
	size_t len, cap;
	size_t *off;        /* start of each field in buf */
	size_t nf, offcap;

	char *hbuf;         /* header, same layout */
	size_t *hoff;
	size_t nh;

	char err[512];
};

/*
 * libcsv grows its field buffer through these, by a fixed block at a time:
 * linear growth, which copies a long field over and over wherever realloc
 * cannot grow in place (always, under AddressSanitizer and valgrind). So
 * each block carries its capacity in front and grows by doubling; and
 * refusing to pass CSVIN_MAX_RECORD makes csv_parse() fail with CSV_ENOMEM
 * instead of eating all memory.
 */
#define CAP_HEADER sizeof(max_align_t)

static void *
doubling_realloc(void *p, size_t n)
{
	size_t cap = p != NULL ? *(size_t *)((char *)p - CAP_HEADER) : 0;
	char *block;

	if (n > CSVIN_MAX_RECORD)
		return NULL;
	if (p != NULL && n <= cap)
		return p;
	cap = cap ? cap : 4096;
	while (cap < n)
		cap *= 2;
	if (cap > CSVIN_MAX_RECORD)
		cap = CSVIN_MAX_RECORD;
	block = realloc(p != NULL ? (char *)p - CAP_HEADER : NULL,
	    CAP_HEADER + cap);
	if (block == NULL)
		return NULL;
	*(size_t *)block = cap;
	return block + CAP_HEADER;
}

static void
doubling_free(void *p)
{
	if (p != NULL)
		free((char *)p - CAP_HEADER);
}

/* RFC 4180: spaces are part of the field, so nothing is a "space". */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void
set_error(struct csv_in *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof r->err, "%s: line %ld: ", r->name,
	    r->rec_line);
	if (n < 0 || (size_t)n >= sizeof r->err)
		return;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
on_field(void *s, size_t n, void *data)
{
	struct csv_in *r = data;

	if (r->rec_done) {
		r->rec_overrun = 1;
		return;
	}
	if (memchr(s, '\0', n) != NULL && r->nul_field == 0)
		r->nul_field = (long)r->nf + 1;
	if (r->len + n + 1 > CSVIN_MAX_RECORD) {
		r->rec_overrun = 2;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		while (r->len + n + 1 > r->cap)
			r->cap = r->cap ? r->cap * 2 : 4096;
		r->buf = xreallocarray(r->buf, r->cap, 1);
	}
	if (r->nf == r->offcap) {
		r->offcap = r->offcap ? r->offcap * 2 : 16;
		r->off = xreallocarray(r->off, r->offcap, sizeof *r->off);
	}
	r->off[r->nf++] = r->len;
	if (n > 0)
		memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len++] = '\0';
}

static void
on_record(int c, void *data)
{
	struct csv_in *r = data;

	(void)c;
	if (r->rec_done)
		r->rec_overrun = 1;
	r->rec_done = 1;
}

struct csv_in *
csvin_new(FILE *fp, const char *name)
{
	struct csv_in *r = xcalloc(1, sizeof *r);

	r->fp = fp;
	r->name = name;
	if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		errx(1, "csv: cannot initialise the parser");
	csv_set_realloc_func(&r->parser, doubling_realloc);
	csv_set_free_func(&r->parser, doubling_free);
	csv_set_space_func(&r->parser, no_space);
	return r;
}

void
csvin_free(struct csv_in *r)
{
	if (r == NULL)
		return;
	csv_free(&r->parser);
	free(r->buf);
	free(r->off);
	free(r->hbuf);
	free(r->hoff);
	free(r);
}

static int
parse_error(struct csv_in *r)
{
	switch (csv_error(&r->parser)) {
	case CSV_ENOMEM:
	case CSV_ETOOBIG:
		set_error(r, "field longer than %u bytes", CSVIN_MAX_RECORD);
		break;
	default:
		set_error(r, "malformed quoting (a quote inside an unquoted "
		    "field, or text after a closing quote)");
		break;
	}
	return -1;
}

/* Fill the input buffer; 0 at end of input, -1 on a read error. */
static int
refill(struct csv_in *r)
{
	r->inpos = 0;
	r->inlen = fread(r->in, 1, sizeof r->in, r->fp);
	if (r->inlen > 0)
		return 1;
	if (ferror(r->fp)) {
		snprintf(r->err, sizeof r->err, "%s: read error: %s", r->name,
		    strerror(errno));
		return -1;
	}
	r->eof = 1;
	return 0;
}

static int
finish(struct csv_in *r)
{
	if (csv_fini(&r->parser, on_field, on_record, r) != 0) {
		set_error(r, "unterminated quoted field at end of input");
		return -1;
	}
	return r->rec_done;
}

/* Is s[0..n) an empty line, which libcsv skips between records? */
static int
blank_line(const char *s, size_t n)
{
	return (n == 1 && s[0] == '\n') ||
	    (n == 2 && s[0] == '\r' && s[1] == '\n');
}

/*
 * Feed libcsv up to one line at a time, so that it ends at most one record
 * per call: a record ends on a newline, and we stop feeding as soon as one
 * has. Returns 1 with a record, 0 at end of input, -1 on error.
 */
static int
next_record(struct csv_in *r)
{
	r->len = r->nf = 0;
	r->rec_done = r->rec_overrun = r->rec_started = 0;
	r->nul_field = 0;
	r->rec_line = r->line + 1;
	while (!r->rec_done) {
		const char *p, *nl;
		size_t n;
		int rc;

		if (r->inpos == r->inlen) {
			if (r->eof)
				return 0;
			rc = refill(r);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return finish(r);
		}
		p = r->in + r->inpos;
		nl = memchr(p, '\n', r->inlen - r->inpos);
		n = nl ? (size_t)(nl - p) + 1 : r->inlen - r->inpos;
		if (!r->rec_started) {
			r->rec_line = r->line + 1;
			r->rec_started = !blank_line(p, n);
		}
		if (csv_parse(&r->parser, p, n, on_field, on_record, r) != n)
			return parse_error(r);
		r->inpos += n;
		if (nl != NULL)
			r->line++;
	}
	return 1;
}

static int
check_record(struct csv_in *r)
{
	if (r->rec_overrun == 2) {
		set_error(r, "record longer than %u bytes", CSVIN_MAX_RECORD);
		return -1;
	}
	if (r->rec_overrun) {
		set_error(r, "carriage return without a line feed "
		    "(only CRLF or LF line ends are accepted)");
		return -1;
	}
	if (r->nul_field) {
		set_error(r, "field %ld contains a NUL byte", r->nul_field);
		return -1;
	}
	return 0;
}

int
csvin_header(struct csv_in *r)
{
	int rc = next_record(r);

	if (rc == 0) {
		snprintf(r->err, sizeof r->err, "%s: empty input: no header "
		    "line", r->name);
		return -1;
	}
	if (rc < 0 || check_record(r) < 0)
		return -1;
	/* A UTF-8 byte order mark, as spreadsheets write, is not a name. */
	if (r->len >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) {
		memmove(r->buf, r->buf + 3, r->len - 3);
		r->len -= 3;
		for (size_t i = 1; i < r->nf; i++)
			r->off[i] -= 3;
	}
	for (size_t i = 0; i < r->nf; i++) {
		const char *name = r->buf + r->off[i];
		if (*name == '\0') {
			set_error(r, "header: column %zu has no name", i + 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, r->buf + r->off[j]) == 0) {
				set_error(r, "header: duplicate column \"%s\"",
				    name);
				return -1;
			}
	}
	/* Keep the header; the record buffers are reused for data. */
	r->hbuf = r->buf;
	r->hoff = r->off;
	r->nh = r->nf;
	r->buf = NULL;
	r->off = NULL;
	r->cap = r->offcap = 0;
	return 0;
}

int
csvin_read(struct csv_in *r)
{
	int rc = next_record(r);

	if (rc <= 0)
		return rc;
	if (check_record(r) < 0)
		return -1;
	if (r->nf != r->nh) {
		set_error(r, "%zu fields, but the header has %zu", r->nf,
		    r->nh);
		return -1;
	}
	return 1;
}

size_t
csvin_ncols(const struct csv_in *r)
{
	return r->nh;
}

const char *
csvin_colname(const struct csv_in *r, size_t col)
{
	return col < r->nh ? r->hbuf + r->hoff[col] : "";
}

int
csvin_col(const struct csv_in *r, const char *name)
{
	for (size_t i = 0; i < r->nh; i++)
		if (strcmp(r->hbuf + r->hoff[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
csvin_field(const struct csv_in *r, size_t col)
{
	return col < r->nf ? r->buf + r->off[col] : "";
}

size_t
csvin_field_len(const struct csv_in *r, size_t col)
{
	if (col >= r->nf)
		return 0;
	if (col + 1 < r->nf)
		return r->off[col + 1] - r->off[col] - 1;
	return r->len - r->off[col] - 1;
}

int
csvin_double(struct csv_in *r, size_t col, double *out)
{
	const char *s = csvin_field(r, col);
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0')
		return csvin_field_error(r, col, "not a number");
	if (!isfinite(*out) || errno == ERANGE)
		return csvin_field_error(r, col, "not a finite number");
	return 0;
}

const char *
csvin_name(const struct csv_in *r)
{
	return r->name;
}

long
csvin_line(const struct csv_in *r)
{
	return r->rec_line;
}

const char *
csvin_error(const struct csv_in *r)
{
	return r->err;
}

/* The field's text for a message: at most 40 bytes, controls escaped. */
static void
quote_for_message(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 40) {
			o += (size_t)snprintf(out + o, outsz - o, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int
csvin_field_error(struct csv_in *r, size_t col, const char *reason)
{
	char text[200];

	quote_for_message(csvin_field(r, col), csvin_field_len(r, col), text,
	    sizeof text);
	set_error(r, "column \"%s\": %s: \"%s\"", csvin_colname(r, col),
	    reason, text);
	return -1;
}

void
csvout_init(struct csv_out *w, FILE *fp)
{
	w->fp = fp;
	w->nfields = 0;
}

static int
needs_quotes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return 0;
}

void
csvout_field(struct csv_out *w, const char *s, size_t len)
{
	if (w->nfields++ > 0)
		putc(',', w->fp);
	if (needs_quotes(s, len))
		csv_fwrite(w->fp, s, len);
	else
		fwrite(s, 1, len, w->fp);
}

void
csvout_str(struct csv_out *w, const char *s)
{
	csvout_field(w, s, strlen(s));
}

/* 10^0 .. 10^9: the decimals the fast path of csvout_double() handles. */
static const int64_t pow10_table[] = { 1, 10, 100, 1000, 10000, 100000,
	1000000, 10000000, 100000000, 1000000000 };

/*
 * v with d decimals, from the integer round(|v| * 10^d): the same text as
 * printf's "%.*f" (checked by a unit test) at a fraction of its cost;
 * programs write millions of these. Returns the length, or -1 when v is
 * too large or too near a rounding tie, which are left to printf.
 */
static int
format_fixed(char *buf, double v, int d)
{
	char digits[32];
	double scaled = fabs(v) * (double)pow10_table[d];
	int64_t n;
	int len = 0, nd = 0;

	if (!(scaled < 9007199254740992.0))
		return -1;
	/* Near a tie the product's own rounding (half an ulp) may decide
	 * which way to go: leave those to printf, which rounds exactly. */
	if (fabs(scaled - floor(scaled) - 0.5) <= scaled * 2.3e-16 + 1e-300)
		return -1;
	n = llround(scaled);
	if (v < 0 && n != 0)       /* "-0.000" says no more than "0.000" */
		buf[len++] = '-';
	do {
		digits[nd++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 || nd <= d);
	while (nd > d)
		buf[len++] = digits[--nd];
	if (d > 0)
		buf[len++] = '.';
	while (nd > 0)
		buf[len++] = digits[--nd];
	buf[len] = '\0';
	return len;
}

void
csvout_double(struct csv_out *w, double v, int decimals)
{
	char buf[400];
	int n = -1;

	if (decimals >= 0 && decimals <= 9 && isfinite(v))
		n = format_fixed(buf, v, decimals);
	if (n < 0) {
		n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
		if (buf[0] == '-' && strspn(buf + 1, "0.") == (size_t)n - 1)
			memmove(buf, buf + 1, (size_t)n);
	}
	csvout_field(w, buf, (size_t)n);
}

void
csvout_long(struct csv_out *w, long long v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", v);
	csvout_str(w, buf);
}

void
csvout_end(struct csv_out *w)
{
	putc('\n', w->fp);
	w->nfields = 0;
}

void
csvout_row(struct csv_out *w, size_t n, const char *const *fields)
{
	for (size_t i = 0; i < n; i++)
		csvout_str(w, fields[i]);
	csvout_end(w);
}

void
csvout_record(struct csv_out *w, const struct csv_in *r, int end)
{
	for (size_t i = 0; i < r->nf; i++)
		csvout_field(w, csvin_field(r, i), csvin_field_len(r, i));
	if (end)
		csvout_end(w);
}

void
csvout_header(struct csv_out *w, const struct csv_in *r, int end)
{
	for (size_t i = 0; i < r->nh; i++)
		csvout_str(w, csvin_colname(r, i));
	if (end)
		csvout_end(w);
}
