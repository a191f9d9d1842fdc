/* libFuzzer target: the timestamp parser, and a round trip through both
 * formats for every time it accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "tstime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[TS_BUFSZ];
	ts_us t, back;

	if (ts_parse_n((const char *)data, size, &t) < 0)
		return 0;
	if (ts_parse(ts_format_unix(t, buf), &back) < 0 || back != t)
		abort();
	/* RFC 3339 covers years 0 to 9999 only. */
	if (t >= INT64_C(-62167219200000000) &&
	    t <= INT64_C(253402300799999999) &&
	    (ts_parse(ts_format_rfc3339(t, buf), &back) < 0 || back != t))
		abort();
	return 0;
}
