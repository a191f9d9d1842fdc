/* store: the backend a store's name selects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int
store_is_pg(const char *name)
{
	size_t key = strspn(name, "abcdefghijklmnopqrstuvwxyz_");

	if (strncmp(name, "postgresql://", 13) == 0 ||
	    strncmp(name, "postgres://", 11) == 0)
		return 1;
	/* libpq's keywords: "host=db1 dbname=vib", "service=control" */
	return key > 0 && name[key + strspn(name + key, " ")] == '=';
}

struct store *
store_open(const char *name, enum store_mode mode, int busy_ms, char *err,
    size_t errsz)
{
	if (store_is_pg(name))
		return store_pg_open(name, mode, busy_ms, err, errsz);
	return store_sqlite_open(name, mode, busy_ms, err, errsz);
}

void
chunk_row_free(struct chunk_row *row)
{
	free(row->data);
	row->data = NULL;
	row->len = row->cap = 0;
}
