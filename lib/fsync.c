#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fsync.h"

int
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY), rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

int
fsync_parent(const char *path)
{
	char dir[4096];
	const char *slash = NULL;

	for (const char *p = path; *p != '\0'; p++)
		if (*p == '/')
			slash = p;
	if (slash == NULL)
		return fsync_path(".");
	if ((size_t)(slash - path) + 2 > sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path + 1), path);
	return fsync_path(dir);
}
