/*
 * gzfile: a gzip file (zlib) as a stdio stream, so that the CSV reader and
 * writer work on the cold tier's compressed files unchanged.
 */
#ifndef GZFILE_H
#define GZFILE_H

#include <stdio.h>

/* mode "r" or "w"; NULL with errno set. fclose() closes the gzip file and
 * fails if zlib reports an error (a full disk, a damaged file). */
FILE *gzfile_open(const char *path, const char *mode);

#endif
