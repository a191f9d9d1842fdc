#include <errno.h>
#include <stdio.h>
#include <zlib.h>

#include "gzfile.h"

static ssize_t
gz_read(void *cookie, char *buf, size_t size)
{
	int n = gzread(cookie, buf, (unsigned)(size > 1u << 30 ? 1u << 30 : size));

	if (n < 0) {
		errno = EIO;
		return -1;
	}
	return n;
}

static ssize_t
gz_write(void *cookie, const char *buf, size_t size)
{
	int n = size == 0 ? 0 : gzwrite(cookie, buf, (unsigned)size);

	if (size > 0 && n <= 0) {
		int e;
		gzerror(cookie, &e);
		errno = e == Z_ERRNO && errno != 0 ? errno : EIO;
		return -1;
	}
	return n;
}

static int
gz_close(void *cookie)
{
	int rc = gzclose(cookie);

	if (rc != Z_OK) {
		if (rc != Z_ERRNO || errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

FILE *
gzfile_open(const char *path, const char *mode)
{
	cookie_io_functions_t io = { gz_read, gz_write, NULL, gz_close };
	int writing = mode[0] == 'w';
	gzFile gz = gzopen(path, writing ? "wb6" : "rb");
	FILE *fp;

	if (gz == NULL) {
		if (errno == 0)
			errno = ENOMEM;
		return NULL;
	}
	if ((fp = fopencookie(gz, writing ? "w" : "r", io)) == NULL)
		gzclose(gz);
	return fp;
}
