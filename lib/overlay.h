/*
 * overlay: a program's --overlay, a gray copy of its input stream to draw
 * on (tracked points, boxes) so a person can see what it found. Each
 * frame's luma is copied into the buffer, drawn on by the caller, then
 * written and flushed. Errors are fatal: "prog: PATH: reason", exit 1.
 */
#ifndef OVERLAY_H
#define OVERLAY_H

#include <stdint.h>
#include <stdio.h>

#include "y4m.h"

struct overlay {
	FILE *fp;
	const char *path;       /* borrowed */
	struct y4m_info info;   /* the input's, gray */
	uint8_t *buf;           /* info.width x info.height, stride width */
};

/* Create path and write its header, or exit 1. */
void overlay_open(struct overlay *o, const char *path,
    const struct y4m_info *in);
/* This frame's luma into o->buf, for drawing on; returns o->buf. */
uint8_t *overlay_begin(struct overlay *o, const uint8_t *luma);
/* Write o->buf as the frame f, or exit 1. */
void overlay_write(struct overlay *o, const struct y4m_frame *f);
/* Close (if open) and free, or exit 1 on a write error. */
void overlay_close(struct overlay *o);

#endif
