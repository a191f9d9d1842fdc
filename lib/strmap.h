/*
 * strmap: a map from NUL-terminated strings to pointers, in a chained hash
 * table that doubles as keys arrive. Keys are copied; values are the
 * caller's. Meant for thousands of keys from trusted configuration and
 * data (series names, alert keys), not for an adversary's choice of keys.
 */
#ifndef STRMAP_H
#define STRMAP_H

#include <stddef.h>

struct strmap_entry {
	struct strmap_entry *next;
	char *key;       /* owned */
	void *value;     /* the caller's */
};

struct strmap {
	struct strmap_entry **bucket;
	size_t nbucket;
	size_t count;
};

void strmap_init(struct strmap *m);
/* The value stored for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* The slot holding key's value, added (holding NULL) if key is new. The
 * slot stays valid until the map is freed. */
void **strmap_slot(struct strmap *m, const char *key);
/* Call fn for every entry, in no particular order. */
void strmap_each(const struct strmap *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg);
/* Free the table and the keys; free_value (if not NULL) on every value. */
void strmap_free(struct strmap *m, void (*free_value)(void *));

#endif
