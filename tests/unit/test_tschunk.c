/* decval (numbers kept as written) and tschunk (compressed runs of points). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decval.h"
#include "tap.h"
#include "tschunk.h"

static struct decval
dv(const char *s)
{
	struct decval v = { 0, 0, 0 };

	if (decval_parse(s, strlen(s), &v) < 0)
		printf("# cannot parse \"%s\"\n", s);
	return v;
}

static void
round_trip(const char *in, const char *want)
{
	char buf[DECVAL_BUFSZ];
	struct decval v;
	int rc = decval_parse(in, strlen(in), &v);

	if (rc < 0) {
		ok(0, "parse \"%s\"", in);
		return;
	}
	decval_format(v, buf);
	is_str(buf, want, "\"%s\" comes back as \"%s\"", in, want);
}

static void
rejects(const char *s)
{
	struct decval v;

	ok(decval_parse(s, strlen(s), &v) < 0, "reject \"%s\"", s);
}

static void
test_decval(void)
{
	struct decval v;

	round_trip("0.1", "0.1");
	round_trip("0.0120", "0.0120");
	round_trip("-0", "-0");
	round_trip("-0.000", "-0.000");
	round_trip("0", "0");
	round_trip("+3.25", "3.25");
	round_trip("-12.5", "-12.5");
	round_trip("1e-7", "0.0000001");
	round_trip("2.5E3", "2500");
	round_trip(".5", "0.5");
	round_trip("5.", "5");
	round_trip("007.50", "7.50");
	round_trip("123456789012345678", "123456789012345678");
	round_trip("0.000000000000000001", "0.000000000000000001");
	round_trip("-9.87654321e-5", "-0.0000987654321");
	/* past 18 digits: the double, shortest */
	round_trip("0.1000000000000000000001", "0.1");
	round_trip("1e300", "1e+300");
	round_trip("1234567890123456789012", "1.2345678901234568e+21");
	/* found by fuzz_chunk: 19 digits that fit in 64 bits stay decimal,
	 * and a decimal past 2^53 still gives the nearest double */
	round_trip("1e18", "1000000000000000000");
	round_trip("9223372036854775807", "9223372036854775807");
	round_trip("9223372036854775808", "9.223372036854776e+18");
	ok(decval_double(dv("-58444440.014442444")) == strtod("-58444440.014442444",
	    NULL), "a 17-digit decimal is the nearest double");
	rejects("");
	rejects("-");
	rejects(".");
	rejects("abc");
	rejects("nan");
	rejects("inf");
	rejects("-Infinity");
	rejects("0x10");
	rejects("1e");
	rejects("1e+");
	rejects("1.2.3");
	rejects("1e400");
	rejects(" 1");
	rejects("1 ");
	v = dv("-0");
	ok(decval_double(v) == 0 && signbit(decval_double(v)),
	    "-0 is a negative zero as a double");
	ok(decval_double(dv("0.1")) == 0.1, "0.1 is the double 0.1");
	ok(decval_double(dv("1e-7")) == 1e-7, "1e-7 is the double 1e-7");
}

static int
same_points(const struct tspoint *a, const struct tspoint *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].t != b[i].t || a[i].v.digits != b[i].v.digits ||
		    a[i].v.decimals != b[i].v.decimals ||
		    a[i].v.flags != b[i].v.flags) {
			printf("# point %zu differs\n", i);
			return 0;
		}
	return 1;
}

/* Encode, decode, compare; returns bytes per point. */
static double
chunk_round_trip(const struct tspoint *p, size_t n, const char *what)
{
	unsigned char *buf;
	size_t len = tschunk_encode(p, n, &buf);
	struct tspoint *back = calloc(n + 1, sizeof *back);
	long got = tschunk_decode(buf, len, back, n + 1);

	ok(got == (long)n && same_points(p, back, n), "%s: %zu points back",
	    what, n);
	ok(tschunk_count(buf, len) == (long)n, "%s: count from header", what);
	free(back);
	free(buf);
	return (double)len / (double)n;
}

/* Values as text, times 1/120 s apart the way a camera's clock rounds. */
static struct tspoint *
camera_points(size_t n, const char *const *texts, size_t ntexts)
{
	struct tspoint *p = calloc(n, sizeof *p);

	for (size_t i = 0; i < n; i++) {
		p[i].t = INT64_C(1764000000000000) + (ts_us)(i * 1000000 / 120);
		p[i].v = dv(texts[i % ntexts]);
	}
	return p;
}

static void
test_chunks(void)
{
	static const char *const mixed[] = {
		"0.1", "-0", "1e-7", "0.0120", "-3.5", "12", "-0.000",
		"0.123456", "1.5e300", "7",
	};
	static const char *const decimals[] = {
		"0.1", "-0", "1e-7", "0.0120", "-3.5", "12", "-0.000",
		"0.123456", "-0.4321",
	};
	struct tspoint *p;
	char text[32];
	double bpp;

	p = camera_points(1, decimals, 1);
	chunk_round_trip(p, 1, "one point");
	free(p);
	p = camera_points(2, decimals, 2);
	chunk_round_trip(p, 2, "two points");
	free(p);
	p = camera_points(1000, decimals, 9);
	chunk_round_trip(p, 1000, "decimals of many forms");
	free(p);
	p = camera_points(1000, mixed, 10);
	chunk_round_trip(p, 1000, "a double among decimals");
	free(p);

	/* a vibration read to 4-6 decimals: the budget is 6 bytes a point */
	p = calloc(TSCHUNK_POINTS, sizeof *p);
	for (size_t i = 0; i < TSCHUNK_POINTS; i++) {
		double x = 0.3 * sin(2 * M_PI * 7.3 * (double)i / 120);
		int dec = 4 + (int)(i % 3);
		snprintf(text, sizeof text, "%.*f", dec, x);
		p[i].t = INT64_C(1764000000000000) + (ts_us)(i * 1000000 / 120);
		p[i].v = dv(text);
	}
	bpp = chunk_round_trip(p, TSCHUNK_POINTS, "vibration");
	ok(bpp < 4, "vibration: %.2f bytes a point", bpp);

	/* times far apart and going both ways in step: wrapping arithmetic */
	p[0].t = INT64_MIN + 5;
	p[1].t = 0;
	p[2].t = INT64_MAX - 5;
	p[0].v = dv("-9223372036854775");
	p[1].v = dv("922337203685477580");
	p[2].v = dv("-922337203685477580");
	chunk_round_trip(p, 3, "extreme times and values");
	free(p);
}

static void
test_damage(void)
{
	static const char *const texts[] = { "0.5", "-0.25", "1" };
	struct tspoint *p = camera_points(100, texts, 3), back[100];
	unsigned char *buf;
	size_t len = tschunk_encode(p, 100, &buf);
	int caught = 0;

	ok(tschunk_decode(buf, len - 1, back, 100) < 0, "truncated chunk");
	ok(tschunk_decode(buf, len, back, 99) < 0, "more points than room");
	buf[0] = 9;
	ok(tschunk_decode(buf, len, back, 100) < 0, "unknown version");
	buf[0] = TSCHUNK_VERSION;
	/* flip each bit in turn, checksum included: every one is caught */
	for (size_t bit = 0; bit < 8 * len; bit++) {
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		caught += tschunk_decode(buf, len, back, 100) < 0 &&
		    tschunk_checksum(buf, len) < 0;
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	ok(caught == (int)(8 * len), "every flipped bit caught (%d of %zu)",
	    caught, 8 * len);
	ok(tschunk_checksum(buf, len) == 1, "the checksum of a whole chunk");
	ok(tschunk_decode(buf, len, back, 100) == 100, "intact again");
	/* a chunk from before checksums: version 1, no CRC, still read */
	buf[0] = 1;
	ok(tschunk_checksum(buf, len - 4) == 0 &&
	    tschunk_decode(buf, len - 4, back, 100) == 100 &&
	    back[99].t == p[99].t, "a version 1 chunk (no checksum) reads");
	free(buf);
	free(p);
}

int
main(void)
{
	test_decval();
	test_chunks();
	test_damage();
	return tap_done();
}
