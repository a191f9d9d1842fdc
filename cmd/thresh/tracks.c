/*
 * tracks: one alert state per rule and key, in a chained hash table that
 * doubles as keys arrive (a plant has thousands of points, not millions).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thresh.h"
#include "xalloc.h"

/* FNV-1a: short keys, no adversary that matters here. */
static size_t
hash_key(const char *s)
{
	uint64_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

void
track_map_init(struct track_map *m)
{
	m->nbucket = 64;
	m->count = 0;
	m->bucket = xcalloc(m->nbucket, sizeof *m->bucket);
}

struct track *
track_find(struct track_map *m, const char *key)
{
	struct track *t = m->bucket[hash_key(key) & (m->nbucket - 1)];

	while (t != NULL && strcmp(t->key, key) != 0)
		t = t->next;
	return t;
}

static void
grow(struct track_map *m)
{
	size_t n = m->nbucket * 2;
	struct track **b = xcalloc(n, sizeof *b);

	for (size_t i = 0; i < m->nbucket; i++) {
		struct track *t = m->bucket[i], *next;
		for (; t != NULL; t = next) {
			size_t h = hash_key(t->key) & (n - 1);
			next = t->next;
			t->next = b[h];
			b[h] = t;
		}
	}
	free(m->bucket);
	m->bucket = b;
	m->nbucket = n;
}

struct track *
track_get(struct track_map *m, const char *key)
{
	struct track *t = track_find(m, key);
	size_t h;

	if (t != NULL)
		return t;
	if (m->count >= m->nbucket)
		grow(m);
	t = xcalloc(1, sizeof *t);
	t->key = xstrdup(key);
	h = hash_key(key) & (m->nbucket - 1);
	t->next = m->bucket[h];
	m->bucket[h] = t;
	m->count++;
	return t;
}

void
track_map_each(struct track_map *m, void (*fn)(struct track *, void *),
    void *arg)
{
	for (size_t i = 0; i < m->nbucket; i++)
		for (struct track *t = m->bucket[i]; t != NULL; t = t->next)
			fn(t, arg);
}

void
track_map_free(struct track_map *m)
{
	for (size_t i = 0; i < m->nbucket; i++) {
		struct track *t = m->bucket[i], *next;
		for (; t != NULL; t = next) {
			next = t->next;
			free(t->key);
			free(t);
		}
	}
	free(m->bucket);
	m->bucket = NULL;
}
