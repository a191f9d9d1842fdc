/*
 * y4mdump: describe a Y4M stream, for tests. Reads stdin with lib/y4m.
 *
 *   y4mdump          the header as "key=value" lines, then one CSV row per
 *                    frame: index,pts,mean,fnv (mean pixel value of the
 *                    luma plane and an FNV-1a hash of the whole frame)
 *   y4mdump --raw    the frames' pixel data only, headers stripped, so two
 *                    streams can be compared with cmp(1)
 */
#include <err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "y4m.h"

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void
print_header(const struct y4m_info *in)
{
	char t0[TS_BUFSZ];

	printf("size=%dx%d\nfps=%d:%d\nsar=%d:%d\ninterlace=%c\nchroma=%s\n",
	    in->width, in->height, in->fps_num, in->fps_den, in->sar_num,
	    in->sar_den, in->interlace, y4m_chroma_name(in->chroma));
	printf("src=%s\nt0=%s\n", in->src, in->has_t0 ?
	    ts_format_unix(in->t0, t0) : "");
	printf("index,pts,mean,fnv\n");
}

int
main(int argc, char **argv)
{
	struct y4m_reader r;
	struct y4m_frame f;
	int raw = argc > 1 && strcmp(argv[1], "--raw") == 0;
	uint8_t *buf;
	int rc;

	cli_init(argv);
	if (y4m_open(&r, stdin, "stdin") < 0)
		errx(1, "%s", r.err);
	buf = malloc(r.frame_size);
	if (buf == NULL)
		err(1, "frame buffer");
	if (!raw)
		print_header(&r.info);
	while ((rc = y4m_read_frame(&r, buf, &f)) > 0) {
		char t[TS_BUFSZ];
		size_t luma = (size_t)r.info.width * (size_t)r.info.height;
		uint64_t sum = 0;

		if (raw) {
			fwrite(buf, 1, r.frame_size, stdout);
			continue;
		}
		for (size_t i = 0; i < luma; i++)
			sum += buf[i];
		printf("%ld,%s,%.3f,%08x\n", f.index, ts_format_unix(f.pts, t),
		    (double)sum / (double)luma, fnv1a(buf, r.frame_size));
	}
	if (rc < 0)
		errx(1, "%s", r.err);
	free(buf);
	return cli_finish(0);
}
