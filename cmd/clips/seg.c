#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clips.h"
#include "xalloc.h"

void
path_join(char *buf, size_t len, const char *dir, const char *prefix,
    const char *name)
{
	int n = snprintf(buf, len, "%s/%s%s", dir, prefix, name);

	if (n < 0 || (size_t)n >= len)
		errx(1, "%s/%s: too long a path", dir, name);
}

void
seg_dir(char *buf, size_t len, const char *dir, const char *src)
{
	path_join(buf, len, dir, "", src);
}

int
seg_lock_recording(const char *segdir)
{
	char path[4096];
	int fd;

	path_join(path, sizeof path, segdir, "", ".recording");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
seg_recording(const char *segdir)
{
	char path[4096];
	int fd, held;

	path_join(path, sizeof path, segdir, "", ".recording");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

void
seg_name(char *buf, size_t len, ts_us start, ts_us dur)
{
	time_t s = (time_t)(start / TS_US_PER_S);
	long us = (long)(start % TS_US_PER_S);
	struct tm tm;

	if (us < 0) {
		s--;
		us += 1000000;
	}
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d%02d%02dT%02d%02d%02d.%06ldZ+%lld.%06lld.mp4",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, us, (long long)(dur / TS_US_PER_S),
	    (long long)(dur % TS_US_PER_S));
}

int
seg_parse(const char *name, ts_us *start, ts_us *dur)
{
	struct tm tm = { 0 };
	long us, ds, dus;
	int n = 0;

	if (sscanf(name, "%4d%2d%2dT%2d%2d%2d.%6ldZ+%ld.%6ld.mp4%n",
	    &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec, &us, &ds, &dus, &n) != 9 || name[n] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*start = (ts_us)timegm(&tm) * TS_US_PER_S + us;
	*dur = (ts_us)ds * TS_US_PER_S + dus;
	return 0;
}

static int
by_start(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

int
seg_list(const char *dir, struct seg **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;   /* nothing recorded yet */
		warn("%s", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		ts_us start, dur;
		char path[4096];
		struct stat st;
		/* temporary names start with a dot: half a segment is never
		 * listed */
		if (e->d_name[0] == '.' || seg_parse(e->d_name, &start, &dur) < 0)
			continue;
		path_join(path, sizeof path, dir, "", e->d_name);
		if (stat(path, &st) < 0)
			continue;   /* pruned since it was listed */
		if (*n == cap) {
			cap = cap * 2 + 64;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		(*out)[*n] = (struct seg){ start, start + dur, st.st_size,
			xstrdup(path) };
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof **out, by_start);
	return 0;
}

void
seg_free(struct seg *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].path);
	free(s);
}

/* A key "src=cam1,roi=pump" (thresh's), "cam1/pump/dx/amp" (a series
 * name), or a src column. */
int
event_is_for(const char *src, const char *key, const char *src_col)
{
	size_t n = strlen(src);
	const char *p;

	if (src_col != NULL && src_col[0] != '\0')
		return strcmp(src_col, src) == 0;
	for (p = key; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, "src=", 4) == 0 && strncmp(p + 4, src, n) == 0 &&
		    (p[4 + n] == ',' || p[4 + n] == '\0'))
			return 1;
	}
	return strncmp(key, src, n) == 0 && key[n] == '/';
}
