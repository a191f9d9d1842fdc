#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xalloc.h"

void
series_map_init(struct series_map *m)
{
	strmap_init(&m->map);
	m->scratch = NULL;
	m->cap = 0;
}

struct series *
series_get(struct series_map *m, const char *key, int axis)
{
	size_t len = strlen(key);
	void **slot;
	struct series *s;

	/* one map entry a key and axis: the key, a separator, and the
	 * axis as one byte (16 value columns at most); no formatting on a
	 * path taken twice a row */
	if (len + 3 > m->cap) {
		m->cap = (len + 3) * 2;
		m->scratch = xreallocarray(m->scratch, m->cap, 1);
	}
	memcpy(m->scratch, key, len);
	m->scratch[len] = '\036';
	m->scratch[len + 1] = (char)('A' + axis);
	m->scratch[len + 2] = '\0';
	slot = strmap_slot(&m->map, m->scratch);
	if ((s = *slot) == NULL) {
		s = *slot = xcalloc(1, sizeof *s);
		s->key = xstrdup(key);
		s->axis = axis;
	}
	return s;
}

struct each {
	void (*fn)(const struct series *, void *);
	void *arg;
};

static void
each_one(const char *key, void *value, void *arg)
{
	const struct each *e = arg;

	(void)key;
	e->fn(value, e->arg);
}

void
series_map_each(struct series_map *m,
    void (*fn)(const struct series *, void *), void *arg)
{
	struct each e = { fn, arg };

	strmap_each(&m->map, each_one, &e);
}

static void
free_series(void *v)
{
	struct series *s = v;

	free(s->key);
	free(s->ring);
	free(s);
}

void
series_map_free(struct series_map *m)
{
	strmap_free(&m->map, free_series);
	free(m->scratch);
}
