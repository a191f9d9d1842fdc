/* libFuzzer target: the CSV reader on arbitrary bytes, every field and
 * number conversion touched. */
#include <stdint.h>
#include <stdio.h>

#include "csvio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_in *r;
	FILE *fp;
	double v;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp == NULL)
		return 0;
	r = csvin_new(fp, "fuzz");
	if (csvin_header(r) == 0) {
		(void)csvin_col(r, "ts");
		while (csvin_read(r) > 0)
			for (size_t i = 0; i < csvin_ncols(r); i++) {
				(void)csvin_field_len(r, i);
				(void)csvin_double(r, i, &v);
			}
	}
	csvin_free(r);
	fclose(fp);
	return 0;
}
