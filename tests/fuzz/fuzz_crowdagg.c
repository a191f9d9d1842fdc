/* libFuzzer target: crowdagg's windows and demographic parsers on
 * arbitrary detections. The bytes are read as CSV (lib/csvio, as
 * crowdagg reads them) with the columns by position: ts, src, frame,
 * track, kind, count, person, gender, age, emotion; each row goes to
 * short sliding windows with lateness and partial rows, written to
 * /dev/null. Whatever the times (far past, far future, out of order),
 * nothing may crash, leak or overflow. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crowdagg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
field(struct csv_in *in, size_t col)
{
	return col < csvin_ncols(in) ? csvin_field(in, col) : "";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct layout lay = { 1, 1, 1, 1, 1, 0 };
	FILE *fp = fmemopen((void *)data, size, "r");
	FILE *out = fopen("/dev/null", "w");
	struct csv_in *in;
	struct windows *ws;
	struct row r;

	if (fp == NULL || out == NULL)
		abort();
	in = csvin_new(fp, "fuzz");
	ws = windows_new(&(struct window_spec){ .length = ts_from_sec(7),
	    .slide = ts_from_sec(3), .lateness = ts_from_sec(2),
	    .partial_every = ts_from_sec(5), .min_track = ts_from_sec(1) },
	    &lay, out);
	windows_header(ws);
	if (csvin_header(in) == 0)
		while (csvin_read(in) > 0) {
			const char *kind = field(in, 4);
			if (ts_parse(field(in, 0), &r.ts) < 0)
				continue;
			r.src = field(in, 1);
			r.frame = field(in, 2);
			r.track = field(in, 3);
			r.kind = strcmp(kind, "frame") == 0 ? ROW_FRAME :
			    strcmp(kind, "in") == 0 ? ROW_IN :
			    strcmp(kind, "out") == 0 ? ROW_OUT :
			    strcmp(kind, "x") == 0 ? ROW_OTHER : ROW_DETECTION;
			r.count = strtol(field(in, 5), NULL, 10);
			r.person = field(in, 6);
			r.gender = field(in, 7);
			r.age = field(in, 8);
			r.emotion = field(in, 9);
			windows_add(ws, &r);
		}
	windows_flush(ws);
	windows_free(ws);
	csvin_free(in);
	fclose(fp);
	fclose(out);
	return 0;
}
