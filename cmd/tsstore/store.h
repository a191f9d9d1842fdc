/*
 * store: what tsstore's commands need from a storage backend, and no more.
 *
 * A store holds series (a name, an id) and, per series, chunks: runs of
 * points compressed by lib/tschunk.h, keyed by their first time t0, that
 * never overlap in time. The commands do the merging and the coding; a
 * backend only keeps rows, so a second backend (PostgreSQL) is one more
 * file implementing struct store_ops.
 *
 * Every function returns 0 on success and -1 on failure with the reason in
 * store->err (for example "motion.db: database or disk is full"); lookups
 * return 1 when there is nothing to find.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

#include "tschunk.h"
#include "tstime.h"

struct chunk_row {
	long long series;
	ts_us t0, t1;           /* first and last time */
	long n;                 /* points */
	unsigned char *data;    /* the coded chunk; owned by the row */
	size_t len, cap;
};

struct series_info {
	long long id;
	const char *name;       /* borrowed for the callback */
	long long points, chunks, bytes;
	ts_us first, last;      /* meaningful when points > 0 */
};

struct store;

struct store_ops {
	void (*close)(struct store *);
	/* A write transaction: waits for other writers (busy timeout). */
	int (*begin)(struct store *);
	int (*commit)(struct store *);
	void (*rollback)(struct store *);
	/* The id of series name, added if create is set; 1 if absent. */
	int (*series_id)(struct store *, const char *name, int create,
	    long long *id);
	/* Every series in name order, with what its chunks hold. */
	int (*series_each)(struct store *,
	    int (*fn)(const struct series_info *, void *), void *arg);
	/* dir < 0: the last chunk with t0 <= t; dir > 0: the first chunk with
	 * t0 > t. Fills *row (reusing its buffer); 1 if there is none. */
	int (*chunk_seek)(struct store *, long long series, ts_us t, int dir,
	    struct chunk_row *row);
	int (*chunk_put)(struct store *, const struct chunk_row *row);
	int (*chunk_delete)(struct store *, long long series, ts_us t0);
	/* Cap the store's size at bytes (0: no cap), kept in the store so
	 * that every writer keeps to it: a write past it fails as a full
	 * disk would, and the store stays whole. */
	int (*set_max_bytes)(struct store *, long long bytes);
	/* Set series id's tag key to value, or remove it (value NULL). */
	int (*tag_set)(struct store *, long long id, const char *key,
	    const char *value);
	/* Every tag of series id, in key order. */
	int (*tags_each)(struct store *, long long id,
	    int (*fn)(const char *key, const char *value, void *), void *arg);
	/* Retention: keep series matching pattern for keep microseconds
	 * (keep < 0: forget the pattern); every policy in pattern order. */
	int (*policy_set)(struct store *, const char *pattern, ts_us keep);
	int (*policy_each)(struct store *,
	    int (*fn)(const char *pattern, ts_us keep, void *), void *arg);
	/* Rollups: the definitions (aggs as "mean,max"; aggs NULL: forget
	 * it), and the ranges written since each series was last rolled up.
	 * dirty_mark widens a series' range, and does nothing when the
	 * store has no rollups; dirty_take reads one and removes it. */
	int (*rollup_set)(struct store *, const char *pattern, ts_us step,
	    const char *aggs);
	int (*rollup_each)(struct store *, int (*fn)(const char *pattern,
	    ts_us step, const char *aggs, void *), void *arg);
	int (*dirty_mark)(struct store *, long long id, ts_us t0, ts_us t1);
	int (*dirty_take)(struct store *, long long *id, ts_us *t0, ts_us *t1);
	/* A consistent copy of the whole store into a new file at path,
	 * while writers go on. */
	int (*backup)(struct store *, const char *path);
	/* The backend's own consistency check. */
	int (*integrity)(struct store *);
	/* Every chunk of every series, in series and time order; fn must
	 * not call the store (a backend may be streaming them). */
	int (*chunk_each)(struct store *,
	    int (*fn)(const struct chunk_row *, void *), void *arg);
	/* A setting the store keeps (as "ship:SITE", a site's watermark):
	 * its value into buf, or 1 if there is none. */
	int (*meta_get)(struct store *, const char *key, char *buf,
	    size_t size);
	int (*meta_set)(struct store *, const char *key, const char *value);
	/* The chunks written since change number after, in the order they
	 * were written, at most limit of them, each with its series' name
	 * and its change number (which only grows): what tsstore ship
	 * sends. A chunk written again is given once, at its last number.
	 * fn must not call the store. */
	int (*changes_each)(struct store *, long long after, long limit,
	    int (*fn)(const struct chunk_row *, const char *series,
	    long long change, void *), void *arg);
	/* A backend that keeps chunks in partitions by time (PostgreSQL;
	 * NULL for SQLite): each partition, oldest first, with what each
	 * series has in it (its last time and its points), so retention
	 * can drop a partition whose every chunk has expired, with no row
	 * deleted. */
	int (*partition_each)(struct store *, int (*fn)(const char *part,
	    const struct series_info *in, size_t n, void *), void *arg);
	int (*partition_drop)(struct store *, const char *part);
};

struct store {
	const struct store_ops *ops;
	const char *name;       /* for messages */
	const char *label;      /* for file names (archives); NULL: name's */
	char err[512];
};

enum store_mode {
	STORE_OPEN,             /* an existing store */
	STORE_CREATE,           /* open it, or make it if there is none */
	STORE_INIT,             /* the same, and (re)make what a backend adds
	                         * around the store (PostgreSQL's functions) */
};

/* Open by name (a SQLite file, or a PostgreSQL connection string); NULL
 * with a message in err. */
struct store *store_open(const char *name, enum store_mode mode,
    int busy_ms, char *err, size_t errsz);

/* Is name a PostgreSQL connection string (a postgresql:// URI or libpq
 * keywords, "host=... dbname=...") rather than a SQLite file? */
int store_is_pg(const char *name);

/* The SQLite backend. */
struct store *store_sqlite_open(const char *path, enum store_mode mode,
    int busy_ms, char *err, size_t errsz);
/* The PostgreSQL backend: name is a libpq connection string. */
struct store *store_pg_open(const char *conninfo, enum store_mode mode,
    int busy_ms, char *err, size_t errsz);

void chunk_row_free(struct chunk_row *row);

/*
 * A stored chunk's points into (*p)[at..], grown as needed; what is wrong
 * with it (its checksum, its coding, or a count or times other than its
 * row gives), or NULL with *n its points. Nothing of a damaged chunk is
 * trusted, its row's count least of all (the memory to grow is the
 * checksummed header's).
 */
const char *chunk_points(const struct chunk_row *row, struct tspoint **p,
    size_t *cap, size_t at, long *n);

/* The same, and a damaged chunk as -1 with st->err naming its series and
 * time range. */
long store_chunk_points(struct store *st, const struct chunk_row *row,
    struct tspoint **p, size_t *cap, size_t at);

/* The names of the series by id, for messages about chunks (which know
 * their series by id only). */
struct series_names {
	struct series_name {
		long long id;
		char *name;
	} *v;
	size_t n, cap;
};
int series_names_load(struct store *st, struct series_names *sn);
/* "series NAME, chunk FROM to TO (N points)" */
void chunk_where(const struct series_names *sn, const struct chunk_row *row,
    char *buf, size_t size);
void series_names_free(struct series_names *sn);

#endif
