/* store: the backend a store's name selects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct store *
store_open(const char *name, enum store_mode mode, int busy_ms, char *err,
    size_t errsz)
{
	if (strncmp(name, "postgresql://", 13) == 0 ||
	    strncmp(name, "postgres://", 11) == 0) {
		snprintf(err, errsz, "%s: the PostgreSQL backend is not built "
		    "yet; give a SQLite file", name);
		return NULL;
	}
	return store_sqlite_open(name, mode, busy_ms, err, errsz);
}

void
chunk_row_free(struct chunk_row *row)
{
	free(row->data);
	row->data = NULL;
	row->len = row->cap = 0;
}
