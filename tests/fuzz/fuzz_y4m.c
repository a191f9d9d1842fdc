/* libFuzzer target: the Y4M reader on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "y4m.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct y4m_reader r;
	struct y4m_frame f;
	FILE *fp;
	uint8_t *buf;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp == NULL)
		return 0;
	if (y4m_open(&r, fp, "fuzz") == 0) {
		/* Small frames only: the reader allows up to 64 MP, and
		 * allocating that per input would only slow the fuzzer. */
		buf = r.frame_size <= (1u << 20) ? malloc(r.frame_size) : NULL;
		while (buf != NULL && y4m_read_frame(&r, buf, &f) > 0)
			;
		free(buf);
	}
	fclose(fp);
	return 0;
}
