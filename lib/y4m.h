/*
 * y4m: the YUV4MPEG2 frame stream (see toolchain-formats(5)).
 *
 *   YUV4MPEG2 W640 H480 F120:1 Ip A1:1 Cmono XSRC=cam1 XT0=1764000000.000000
 *   FRAME XPTS=0.008333
 *   <W*H bytes of luma, then chroma planes if any>
 *
 * XSRC (source id), XT0 (wall-clock time of pts 0) and XPTS (frame time
 * since XT0) are this toolchain's extension fields; other programs skip
 * them, and a stream without them is read with frame time = index / F.
 * Only 8-bit mono, 4:2:0, 4:2:2 and 4:4:4 are accepted. Errors name the
 * byte offset in the stream where the fault was found.
 */
#ifndef Y4M_H
#define Y4M_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tstime.h"

/* Larger frames are refused rather than allocated. */
#define Y4M_MAX_DIM 16384
#define Y4M_MAX_PIXELS (8192L * 8192L)
#define Y4M_SRC_MAX 128

enum y4m_chroma {
	Y4M_MONO,       /* "Cmono": luma only */
	Y4M_420JPEG,    /* "C420jpeg", and "C420" and no C at all */
	Y4M_420MPEG2,
	Y4M_420PALDV,
	Y4M_422,
	Y4M_444,
};

struct y4m_info {
	int width, height;
	int fps_num, fps_den;
	int sar_num, sar_den;   /* 0:0 when unknown */
	char interlace;         /* 'p', 't', 'b', 'm' or '?' */
	enum y4m_chroma chroma;
	char src[Y4M_SRC_MAX];  /* XSRC, or "" */
	int has_t0;
	ts_us t0;               /* XT0 */
};

struct y4m_frame {
	long index;             /* 0, 1, ... */
	ts_us pts;              /* XPTS, or index / F when absent */
	int has_pts;
};

struct y4m_reader {
	FILE *fp;               /* borrowed */
	const char *name;       /* borrowed, for messages */
	uint64_t offset;        /* bytes consumed */
	struct y4m_info info;
	size_t frame_size;
	long nframes;
	char err[256];
};

/* Fill info with the defaults of a progressive 4:2:0 stream of w x h. */
void y4m_info_init(struct y4m_info *info, int w, int h);
const char *y4m_chroma_name(enum y4m_chroma c);
/* Width and height of each chroma plane (0 and 0 for mono). */
void y4m_chroma_size(const struct y4m_info *info, int *cw, int *ch);
/* Bytes of one frame's pixel data; 0 if the dimensions are invalid. */
size_t y4m_frame_size(const struct y4m_info *info);

/* Read the stream header; 0, or -1 with r->err set. */
int y4m_open(struct y4m_reader *r, FILE *fp, const char *name);
/* Read one frame into buf (r->frame_size bytes): 1 read, 0 clean end of
 * stream, -1 error (r->err). */
int y4m_read_frame(struct y4m_reader *r, uint8_t *buf, struct y4m_frame *f);

/* Write the header; a src with spaces or control characters is refused
 * (returns -1) since it would break the header line. */
int y4m_write_header(FILE *fp, const struct y4m_info *info);
/* Write one frame; with has_pts, XPTS carries pts. 0, or -1 on a write
 * error (errno set). A writer that has its planes apart (rows with
 * padding) writes the frame header alone and then the rows itself. */
int y4m_write_frame_header(FILE *fp, int has_pts, ts_us pts);
int y4m_write_frame(FILE *fp, const struct y4m_info *info,
    const uint8_t *data, int has_pts, ts_us pts);

/* Is src usable as an XSRC value (non-empty, no spaces or controls)? */
int y4m_valid_src(const char *src);

#endif
