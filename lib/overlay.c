/* overlay: see overlay.h. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "overlay.h"
#include "xalloc.h"

void
overlay_open(struct overlay *o, const char *path, const struct y4m_info *in)
{
	o->path = path;
	if ((o->fp = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	o->info = *in;
	o->info.chroma = Y4M_MONO;
	o->buf = xmalloc((size_t)in->width * (size_t)in->height);
	if (y4m_write_header(o->fp, &o->info) < 0)
		err(1, "%s", path);
}

uint8_t *
overlay_begin(struct overlay *o, const uint8_t *luma)
{
	memcpy(o->buf, luma, (size_t)o->info.width * (size_t)o->info.height);
	return o->buf;
}

void
overlay_write(struct overlay *o, const struct y4m_frame *f)
{
	if (y4m_write_frame(o->fp, &o->info, o->buf, f->has_pts, f->pts) < 0 ||
	    fflush(o->fp) == EOF)
		err(1, "%s", o->path);
}

void
overlay_close(struct overlay *o)
{
	free(o->buf);
	o->buf = NULL;
	if (o->fp != NULL && fclose(o->fp) == EOF)
		err(1, "%s", o->path);
	o->fp = NULL;
}
