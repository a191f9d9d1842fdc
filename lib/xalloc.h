/*
 * xalloc: allocators that end the program with "prog: out of memory"
 * instead of returning NULL, for the allocations a program cannot go on
 * without. Sizes n * size are checked for overflow.
 */
#ifndef XALLOC_H
#define XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);

#endif
