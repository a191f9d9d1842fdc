/* libFuzzer target: the CSV reader on arbitrary bytes, every field and
 * number conversion touched; then the same bytes through the background
 * reader, which must give the same records and the same end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A digest of everything read; *end is the last csvin_read() result. */
static uint64_t
read_all(const uint8_t *data, size_t size, int background, int *end,
    char *err, size_t errsz)
{
	struct csv_in *r;
	FILE *fp = fmemopen((void *)data, size, "r");
	uint64_t h = 1469598103934665603u;
	double v;

	*end = 2;
	if (fp == NULL)
		return 0;
	r = csvin_new(fp, "fuzz");
	if (csvin_header(r) == 0) {
		(void)csvin_col(r, "ts");
		if (background)
			csvin_background(r);
		while ((*end = csvin_read(r)) > 0) {
			h = (h ^ (uint64_t)csvin_line(r)) * 1099511628211u;
			for (size_t i = 0; i < csvin_ncols(r); i++) {
				const char *f = csvin_field(r, i);
				size_t n = csvin_field_len(r, i);
				for (size_t k = 0; k < n; k++)
					h = (h ^ (unsigned char)f[k]) *
					    1099511628211u;
				(void)csvin_double(r, i, &v);
			}
		}
	}
	snprintf(err, errsz, "%s", csvin_error(r));
	csvin_free(r);
	fclose(fp);
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char e1[600], e2[600];
	int end1, end2;
	uint64_t h1, h2;

	if (size == 0)
		return 0;
	h1 = read_all(data, size, 0, &end1, e1, sizeof e1);
	h2 = read_all(data, size, 1, &end2, e2, sizeof e2);
	/* a field error (csvin_double) is the plain reader's last word,
	 * so compare the end of input, not the message, after one */
	if (h1 != h2 || end1 != end2 || (end1 < 0 && strcmp(e1, e2) != 0))
		abort();
	return 0;
}
