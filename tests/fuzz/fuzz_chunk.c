/* libFuzzer target: the chunk decoder on arbitrary bytes (archives and
 * stores are files anyone may have damaged); whatever it accepts must
 * encode again to a chunk that decodes to the same points. Then the same
 * bytes as decimal text: what decval accepts comes back as a number it
 * accepts again, with the same value. */
#include <stdint.h>
#include <stdlib.h>

#include "tschunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
chunk_round_trip(const uint8_t *data, size_t size)
{
	struct tspoint p[512], q[512];
	unsigned char *buf;
	size_t len;
	long n = tschunk_decode(data, size, p, 512), m;

	if (n <= 0)
		return;
	len = tschunk_encode(p, (size_t)n, &buf);
	m = tschunk_decode(buf, len, q, 512);
	if (m != n)
		abort();
	for (long i = 0; i < n; i++)
		if (p[i].t != q[i].t || p[i].v.digits != q[i].v.digits ||
		    p[i].v.decimals != q[i].v.decimals ||
		    p[i].v.flags != q[i].v.flags)
			abort();
	free(buf);
}

static void
decimal_round_trip(const uint8_t *data, size_t size)
{
	struct decval v, w;
	char text[DECVAL_BUFSZ];
	size_t len;

	if (decval_parse((const char *)data, size, &v) < 0)
		return;
	len = decval_format(v, text);
	if (decval_parse(text, len, &w) < 0)
		abort();
	if (!(v.flags & DECVAL_DOUBLE) && (v.digits != w.digits ||
	    v.decimals != w.decimals || v.flags != w.flags))
		abort();
	if (decval_double(v) != decval_double(w))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	chunk_round_trip(data, size);
	decimal_round_trip(data, size);
	return 0;
}
