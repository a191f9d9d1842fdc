#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
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
strmap_init(struct strmap *m)
{
	m->nbucket = 64;
	m->count = 0;
	m->bucket = xcalloc(m->nbucket, sizeof *m->bucket);
}

static struct strmap_entry *
find(const struct strmap *m, const char *key)
{
	struct strmap_entry *e = m->bucket[hash_key(key) & (m->nbucket - 1)];

	while (e != NULL && strcmp(e->key, key) != 0)
		e = e->next;
	return e;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry *e = find(m, key);

	return e != NULL ? e->value : NULL;
}

static void
grow(struct strmap *m)
{
	size_t n = m->nbucket * 2;
	struct strmap_entry **b = xcalloc(n, sizeof *b);

	for (size_t i = 0; i < m->nbucket; i++) {
		struct strmap_entry *e = m->bucket[i], *next;
		for (; e != NULL; e = next) {
			size_t h = hash_key(e->key) & (n - 1);
			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(m->bucket);
	m->bucket = b;
	m->nbucket = n;
}

void **
strmap_slot(struct strmap *m, const char *key)
{
	struct strmap_entry *e = find(m, key);
	size_t h;

	if (e != NULL)
		return &e->value;
	if (m->count >= m->nbucket)
		grow(m);
	e = xcalloc(1, sizeof *e);
	e->key = xstrdup(key);
	h = hash_key(key) & (m->nbucket - 1);
	e->next = m->bucket[h];
	m->bucket[h] = e;
	m->count++;
	return &e->value;
}

void
strmap_each(const struct strmap *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	for (size_t i = 0; i < m->nbucket; i++)
		for (struct strmap_entry *e = m->bucket[i]; e != NULL;
		    e = e->next)
			fn(e->key, e->value, arg);
}

void
strmap_free(struct strmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->nbucket; i++) {
		struct strmap_entry *e = m->bucket[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			if (free_value != NULL)
				free_value(e->value);
			free(e->key);
			free(e);
		}
	}
	free(m->bucket);
	m->bucket = NULL;
	m->nbucket = m->count = 0;
}
