#include "xalloc.h"

#include <err.h>
#include <stdlib.h>
#include <string.h>

static void *
check(void *p)
{
	if (p == NULL)
		errx(1, "out of memory");
	return p;
}

void *
xmalloc(size_t size)
{
	return check(malloc(size ? size : 1));
}

void *
xcalloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1));
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > (size_t)-1 / size)
		errx(1, "out of memory");
	size_t bytes = n * size;

	return check(realloc(p, bytes != 0 ? bytes : 1));
}

char *
xstrdup(const char *s)
{
	return check(strdup(s));
}
