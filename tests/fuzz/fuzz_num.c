/* libFuzzer target: lib/num, the one reading of a CSV number, on any
 * bytes. What it takes follows the grammar, is finite, and is what
 * decval (tsstore's reading) takes too, as the same double; what it
 * refuses, decval refuses with the same status. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "decval.h"
#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct decval d;
	double v = 0;
	int status = num_parse(s, size, &v), dstatus;

	if (status != 0 && status != NUM_SYNTAX && status != NUM_RANGE)
		abort();
	if ((status != NUM_SYNTAX) != num_is_decimal(s, size))
		abort();
	if (status == 0 && !isfinite(v))
		abort();
	dstatus = decval_parse(s, size, &d);
	if (dstatus != status)
		abort();
	if (status == 0 && decval_double(d) != v &&
	    !(v == 0 && decval_double(d) == 0))
		abort();
	return 0;
}
