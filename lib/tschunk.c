/*
 * Layout (all of it after the first two bytes and before the last four is
 * one bit stream, least significant bit first, padded with zero bits to a
 * whole byte):
 *
 *   byte 0   version (2; 1 is the same without the checksum)
 *   byte 1   value coding (0: scaled decimals)
 *   32 bits  n, the number of points
 *   64 bits  the first time; if n > 1, 64 bits: the first step
 *   blocks   n-2 deltas-of-deltas of the times
 *   5 bits   the scale D
 *   64 bits  the first value times 10^D; blocks of the n-1 differences
 *   6 bits   the first point's form; blocks of the n-1 differences of
 *            the forms. A form is the point's decimals | 32 for a
 *            negative zero, or 63: an exception
 *   80 bits  per exception, in order: its digits (64), decimals (8) and
 *            flags (8) as struct decval holds them
 *   4 bytes  the CRC-32 of every byte before it (zlib's, as gzip and PNG
 *            use), least significant byte first
 *
 * The checksum is there because a store on a failing disk must never
 * answer with altered values: a CRC-32 finds every change of up to 32
 * bits in a row, and any other with odds of 1 in 2^32 of missing it. It is
 * zlib's because every language's standard library has that one.
 * An exception is a value that is not a decimal (a double) or does not fit
 * in 64 bits at the scale D; its scaled value repeats the one before.
 *
 * A block is up to 16 values: 7 bits of width w (0..64), then each value
 * zigzag-coded in w bits. Sums and differences wrap modulo 2^64, so no
 * input can overflow them.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "tschunk.h"
#include "xalloc.h"

#define BLOCK 16
#define VERSION_UNCHECKED 1
#define SUMLEN 4
#define CODING_SCALED 0
#define FORM_NEGZERO 32
#define FORM_EXCEPTION 63

static const int64_t pow10_i64[DECVAL_MAX_DECIMALS + 1] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000, 10000000000, 100000000000, 1000000000000,
	10000000000000, 100000000000000, 1000000000000000,
	10000000000000000, 100000000000000000, 1000000000000000000,
};

struct bitw {
	unsigned char *buf;
	size_t len, cap;
	uint64_t acc;
	int nacc;               /* bits waiting in acc, < 64 */
};

struct bitr {
	const unsigned char *p, *end;
	uint64_t acc;
	int nacc;
	int bad;                /* read past the end */
};

static uint64_t
mask(int n)
{
	return n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
}

static uint64_t
zigzag(uint64_t x)
{
	return (x << 1) ^ (uint64_t)((int64_t)x >> 63);
}

static uint64_t
unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static void
bw_bytes(struct bitw *w, uint64_t v, size_t nbytes)
{
	if (w->len + 8 > w->cap) {
		w->cap = w->cap * 2 + 64;
		w->buf = xreallocarray(w->buf, w->cap, 1);
	}
	for (size_t i = 0; i < nbytes; i++)
		w->buf[w->len++] = (unsigned char)(v >> (8 * i));
}

static void
bw_put(struct bitw *w, uint64_t v, int n)
{
	int used;

	if (n == 0)
		return;
	v &= mask(n);
	w->acc |= v << w->nacc;
	if (w->nacc + n < 64) {
		w->nacc += n;
		return;
	}
	bw_bytes(w, w->acc, 8);
	used = 64 - w->nacc;            /* bits of v now written */
	w->acc = used == 64 ? 0 : v >> used;
	w->nacc = n - used;
}

static void
bw_finish(struct bitw *w)
{
	bw_bytes(w, w->acc, (size_t)(w->nacc + 7) / 8);
	w->acc = 0;
	w->nacc = 0;
}

static uint64_t
br_get(struct bitr *r, int n)
{
	uint64_t v, next = 0;
	int have = r->nacc, got = 0;

	if (n == 0)
		return 0;
	if (have >= n) {
		v = r->acc & mask(n);
		r->acc = n == 64 ? 0 : r->acc >> n;
		r->nacc -= n;
		return v;
	}
	while (got < 64 && r->p < r->end) {
		next |= (uint64_t)*r->p++ << got;
		got += 8;
	}
	if (have + got < n) {
		r->bad = 1;
		return 0;
	}
	v = (r->acc | next << have) & mask(n);
	r->acc = n - have == 64 ? 0 : next >> (n - have);
	r->nacc = got - (n - have);
	return v;
}

/* Values z[0..k), zigzag-coded already, at the widest one's width. */
static void
put_block(struct bitw *w, const uint64_t *z, size_t k)
{
	uint64_t all = 0;
	int width;

	for (size_t i = 0; i < k; i++)
		all |= z[i];
	width = all == 0 ? 0 : 64 - __builtin_clzll(all);
	bw_put(w, (uint64_t)width, 7);
	for (size_t i = 0; i < k; i++)
		bw_put(w, z[i], width);
}

static void
get_block(struct bitr *r, uint64_t *z, size_t k)
{
	int width = (int)br_get(r, 7);

	if (width > 64) {
		r->bad = 1;
		width = 0;
	}
	for (size_t i = 0; i < k; i++)
		z[i] = unzigzag(br_get(r, width));
}

/*
 * A sequence of n raw (not yet zigzagged) values, given by a function of
 * the index so that no temporary array the size of the chunk is needed.
 */
static void
put_seq(struct bitw *w, size_t n, uint64_t (*at)(const void *, size_t),
    const void *arg)
{
	uint64_t z[BLOCK];

	for (size_t i = 0; i < n; i += BLOCK) {
		size_t k = n - i < BLOCK ? n - i : BLOCK;
		for (size_t j = 0; j < k; j++)
			z[j] = zigzag(at(arg, i + j));
		put_block(w, z, k);
	}
}

struct coded {
	const struct tspoint *p;
	int64_t *scaled;        /* the values times 10^scale */
	int *form;              /* each point's form */
	int scale;
};

static uint64_t
time_dod(const void *arg, size_t i)     /* i = 0 for the third point */
{
	const struct tspoint *p = ((const struct coded *)arg)->p + i + 2;

	return ((uint64_t)p[0].t - (uint64_t)p[-1].t) -
	    ((uint64_t)p[-1].t - (uint64_t)p[-2].t);
}

static uint64_t
value_diff(const void *arg, size_t i)
{
	const int64_t *s = ((const struct coded *)arg)->scaled + i + 1;

	return (uint64_t)s[0] - (uint64_t)s[-1];
}

/* A point's form: its decimals and a negative zero, or an exception. */
static int
form_of(const struct decval *v, int exception)
{
	if (exception)
		return FORM_EXCEPTION;
	return v->decimals | (v->flags & DECVAL_NEGZERO ? FORM_NEGZERO : 0);
}

static uint64_t
form_diff(const void *arg, size_t i)
{
	const struct coded *c = arg;

	return (uint64_t)(int64_t)(c->form[i + 1] - c->form[i]);
}

/*
 * Bring the values to one scale, the most decimals any has; those that
 * are not decimals or do not fit become exceptions.
 */
static void
scale_values(struct coded *c, size_t n)
{
	int d = 0;

	for (size_t i = 0; i < n; i++)
		if (!(c->p[i].v.flags & DECVAL_DOUBLE) &&
		    c->p[i].v.decimals > d)
			d = c->p[i].v.decimals;
	c->scale = d;
	c->scaled = xreallocarray(NULL, n, sizeof *c->scaled);
	c->form = xreallocarray(NULL, n, sizeof *c->form);
	for (size_t i = 0; i < n; i++) {
		int exc = decval_rescale(c->p[i].v, d, &c->scaled[i]) < 0;
		if (exc)
			c->scaled[i] = i > 0 ? c->scaled[i - 1] : 0;
		c->form[i] = form_of(&c->p[i].v, exc);
	}
}

size_t
tschunk_encode(const struct tspoint *p, size_t n, unsigned char **out)
{
	struct bitw w = { 0 };
	struct coded c = { .p = p };

	scale_values(&c, n);
	bw_bytes(&w, TSCHUNK_VERSION, 1);
	bw_bytes(&w, CODING_SCALED, 1);
	bw_put(&w, n, 32);
	bw_put(&w, (uint64_t)p[0].t, 64);
	if (n > 1)
		bw_put(&w, (uint64_t)p[1].t - (uint64_t)p[0].t, 64);
	if (n > 2)
		put_seq(&w, n - 2, time_dod, &c);
	bw_put(&w, (uint64_t)c.scale, 5);
	bw_put(&w, (uint64_t)c.scaled[0], 64);
	put_seq(&w, n - 1, value_diff, &c);
	bw_put(&w, (uint64_t)c.form[0], 6);
	put_seq(&w, n - 1, form_diff, &c);
	for (size_t i = 0; i < n; i++)
		if (c.form[i] == FORM_EXCEPTION) {
			bw_put(&w, (uint64_t)p[i].v.digits, 64);
			bw_put(&w, p[i].v.decimals, 8);
			bw_put(&w, p[i].v.flags, 8);
		}
	bw_finish(&w);
	bw_bytes(&w, crc32(0, w.buf, (uInt)w.len), SUMLEN);
	free(c.scaled);
	free(c.form);
	*out = w.buf;
	return w.len;
}

static uint32_t
stored_sum(const unsigned char *buf, size_t len)
{
	const unsigned char *s = buf + len - SUMLEN;

	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
	    (uint32_t)s[3] << 24;
}

int
tschunk_checksum(const unsigned char *buf, size_t len)
{
	if (len >= 1 && buf[0] == VERSION_UNCHECKED)
		return 0;
	if (len < 2 + SUMLEN || buf[0] != TSCHUNK_VERSION)
		return -1;
	return crc32(0, buf, (uInt)(len - SUMLEN)) == stored_sum(buf, len) ?
	    1 : -1;
}

/* The length of the bit stream's part of a chunk whose checksum (if it
 * has one) is right; 0 if it is not a chunk this reader knows. */
static size_t
body_length(const unsigned char *buf, size_t len)
{
	int sum = tschunk_checksum(buf, len);

	if (sum < 0 || len < 2 || buf[1] != CODING_SCALED)
		return 0;
	return sum ? len - SUMLEN : len;
}

/* The count from the header of a chunk body buf[0..body). */
static long
count_body(const unsigned char *buf, size_t body)
{
	struct bitr r = { buf + 2, buf + body, 0, 0, 0 };
	long n;

	if (body == 0)
		return -1;
	n = (long)br_get(&r, 32);
	return r.bad || n < 1 ? -1 : n;
}

long
tschunk_count(const unsigned char *buf, size_t len)
{
	return count_body(buf, body_length(buf, len));
}

/* The sequence of n values after the first, each added to the one
 * before. */
static void
get_seq(struct bitr *r, uint64_t first, uint64_t *out, size_t n)
{
	uint64_t z[BLOCK];

	out[0] = first;
	for (size_t i = 1; i < n && !r->bad; i += BLOCK) {
		size_t k = n - i < BLOCK ? n - i : BLOCK;
		get_block(r, z, k);
		for (size_t j = 0; j < k; j++)
			out[i + j] = out[i + j - 1] + z[j];
	}
}

static int
decode_times(struct bitr *r, struct tspoint *p, size_t n, uint64_t *tmp)
{
	uint64_t t0 = br_get(r, 64);

	/* steps first, as a sequence starting from the first step */
	if (n > 1)
		get_seq(r, br_get(r, 64), tmp, n - 1);
	p[0].t = (ts_us)t0;
	for (size_t i = 1; i < n; i++) {
		p[i].t = (ts_us)((uint64_t)p[i - 1].t + tmp[i - 1]);
		if (p[i].t <= p[i - 1].t)
			return -1;
	}
	return r->bad ? -1 : 0;
}

/* A value kept whole; -1 if it could not have been written. */
static int
get_exception(struct bitr *r, struct decval *v)
{
	v->digits = (int64_t)br_get(r, 64);
	v->decimals = (uint8_t)br_get(r, 8);
	v->flags = (uint8_t)br_get(r, 8);
	/* only what decval_parse() makes: a finite double without
	 * decimals, a negative zero that is zero, a decimal */
	if (v->flags == DECVAL_DOUBLE)
		return v->decimals == 0 && isfinite(decval_double(*v)) ? 0 : -1;
	if (v->flags == DECVAL_NEGZERO)
		return v->digits == 0 &&
		    v->decimals <= DECVAL_MAX_DECIMALS ? 0 : -1;
	return v->flags == 0 && v->decimals <= DECVAL_MAX_DECIMALS ? 0 : -1;
}

/* The scaled value back at the point's own decimals. */
static int
unscale(struct decval *v, int form, int scale)
{
	int dec = form & ~FORM_NEGZERO;
	int64_t f;

	if (form < 0 || form > (FORM_NEGZERO | DECVAL_MAX_DECIMALS) ||
	    dec > scale)
		return -1;
	f = pow10_i64[scale - dec];
	if (v->digits % f != 0)
		return -1;
	v->digits /= f;
	v->decimals = (uint8_t)dec;
	v->flags = form & FORM_NEGZERO ? DECVAL_NEGZERO : 0;
	if ((v->flags & DECVAL_NEGZERO) && v->digits != 0)
		return -1;
	return 0;
}

static int
decode_values(struct bitr *r, struct tspoint *p, size_t n, uint64_t *tmp)
{
	int scale = (int)br_get(r, 5);
	size_t nexc = 0;

	if (scale > DECVAL_MAX_DECIMALS)
		return -1;
	get_seq(r, br_get(r, 64), tmp, n);
	for (size_t i = 0; i < n; i++)
		p[i].v.digits = (int64_t)tmp[i];
	get_seq(r, br_get(r, 6), tmp, n);
	for (size_t i = 0; i < n && !r->bad; i++) {
		int form = (int)(int64_t)tmp[i];
		if (form == FORM_EXCEPTION) {
			tmp[nexc++] = i;        /* filled in below */
		} else if (unscale(&p[i].v, form, scale) < 0) {
			return -1;
		}
	}
	for (size_t k = 0; k < nexc && !r->bad; k++)
		if (get_exception(r, &p[tmp[k]].v) < 0)
			return -1;
	return r->bad ? -1 : 0;
}

long
tschunk_decode(const unsigned char *buf, size_t len, struct tspoint *p,
    size_t max)
{
	size_t body = body_length(buf, len);
	struct bitr r = { buf + 2, buf + body, 0, 0, 0 };
	long n = count_body(buf, body);
	uint64_t *tmp;
	int rc;

	if (n < 0 || (size_t)n > max)
		return -1;
	(void)br_get(&r, 32);
	tmp = xreallocarray(NULL, (size_t)n, sizeof *tmp);
	rc = decode_times(&r, p, (size_t)n, tmp);
	if (rc == 0)
		rc = decode_values(&r, p, (size_t)n, tmp);
	free(tmp);
	/* only the zero padding of the last byte may be left */
	if (rc < 0 || r.p != r.end || r.nacc >= 8 || r.acc != 0)
		return -1;
	return n;
}
