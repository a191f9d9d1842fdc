/*
 * tracks: one alert state per rule and key, found by key in lib/strmap's
 * table (a plant has thousands of points, not millions).
 */
#include <stdlib.h>

#include "thresh.h"
#include "xalloc.h"

void
track_map_init(struct track_map *m)
{
	strmap_init(&m->map);
}

struct track *
track_find(struct track_map *m, const char *key)
{
	return strmap_get(&m->map, key);
}

struct track *
track_get(struct track_map *m, const char *key)
{
	void **slot = strmap_slot(&m->map, key);
	struct track *t = *slot;

	if (t == NULL) {
		t = *slot = xcalloc(1, sizeof *t);
		t->key = xstrdup(key);
	}
	return t;
}

struct each {
	void (*fn)(struct track *, void *);
	void *arg;
};

static void
visit(const char *key, void *value, void *arg)
{
	struct each *e = arg;

	(void)key;
	e->fn(value, e->arg);
}

void
track_map_each(struct track_map *m, void (*fn)(struct track *, void *),
    void *arg)
{
	struct each e = { fn, arg };

	strmap_each(&m->map, visit, &e);
}

static void
free_track(void *v)
{
	struct track *t = v;

	free(t->key);
	free(t);
}

void
track_map_free(struct track_map *m)
{
	strmap_free(&m->map, free_track);
}
