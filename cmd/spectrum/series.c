#include <err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xalloc.h"

void
series_map_init(struct series_map *m)
{
	m->nbucket = 1024;
	m->count = 0;
	m->bucket = xcalloc(m->nbucket, sizeof *m->bucket);
}

static uint64_t
hash(const char *s, int axis)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)axis;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void
grow(struct series_map *m)
{
	size_t nb = m->nbucket * 2;
	struct series **b = xcalloc(nb, sizeof *b);

	for (size_t i = 0; i < m->nbucket; i++)
		for (struct series *s = m->bucket[i], *next; s; s = next) {
			size_t j = hash(s->key, s->axis) & (nb - 1);
			next = s->next;
			s->next = b[j];
			b[j] = s;
		}
	free(m->bucket);
	m->bucket = b;
	m->nbucket = nb;
}

struct series *
series_get(struct series_map *m, const char *key, int axis)
{
	size_t i = hash(key, axis) & (m->nbucket - 1);
	struct series *s;

	for (s = m->bucket[i]; s; s = s->next)
		if (s->axis == axis && strcmp(s->key, key) == 0)
			return s;
	if (m->count + 1 > m->nbucket) {
		grow(m);
		i = hash(key, axis) & (m->nbucket - 1);
	}
	s = xcalloc(1, sizeof *s);
	s->key = xstrdup(key);
	s->axis = axis;
	s->next = m->bucket[i];
	m->bucket[i] = s;
	m->count++;
	return s;
}

void
series_map_each(struct series_map *m,
    void (*fn)(const struct series *, void *), void *arg)
{
	for (size_t i = 0; i < m->nbucket; i++)
		for (struct series *s = m->bucket[i]; s; s = s->next)
			fn(s, arg);
}

void
series_map_free(struct series_map *m)
{
	for (size_t i = 0; i < m->nbucket; i++)
		for (struct series *s = m->bucket[i], *next; s; s = next) {
			next = s->next;
			free(s->key);
			free(s->ring);
			free(s);
		}
	free(m->bucket);
}
