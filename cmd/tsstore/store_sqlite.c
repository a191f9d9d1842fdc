/*
 * store_sqlite: the embedded backend. One SQLite file in WAL mode, so
 * queries read while an ingest writes; synchronous=FULL, so a commit that
 * was reported survives a crash or a power cut; writers queue on the lock
 * for busy_ms instead of failing. The schema is in tsstore(1).
 *
 * A full disk must not lock an operator out of the store: reading needs
 * the -shm file and deleting needs room in the WAL, and SQLite deletes
 * both when the last connection closes, so on a full disk even a query
 * failed ("disk I/O error") and retain could free nothing. The WAL is
 * persistent (SQLITE_FCNTL_PERSIST_WAL: both files stay) and has
 * WAL_RESERVE bytes allocated to it past its end (fallocate KEEP_SIZE:
 * SQLite sees no change), room for retain's deletions and for ingests
 * into the pages they free (see sq_close).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fsync.h"
#include "store.h"
#include "xalloc.h"

#define FORMAT "tsstore 1"
#define WAL_RESERVE (8 << 20)

/* Tables added after format 1 was first written: made when missing. */
#define ROLLUP_TABLES \
    "CREATE TABLE IF NOT EXISTS rollup(pattern TEXT NOT NULL," \
    " step_us INTEGER NOT NULL, aggs TEXT NOT NULL," \
    " PRIMARY KEY(pattern, step_us));" \
    "CREATE TABLE IF NOT EXISTS dirty(series INTEGER PRIMARY KEY," \
    " t0 INTEGER NOT NULL, t1 INTEGER NOT NULL);"

/*
 * The change log: every chunk written gets the next number (AUTOINCREMENT
 * never hands a number out twice, so a chunk written again is always
 * later than any point a reader stopped at). tsstore ship sends what was
 * written after the last number the control room has. A store made before
 * the log has its chunks entered once, when the log is made.
 */
#define CHANGE_TABLES \
    "CREATE TABLE IF NOT EXISTS change(seq INTEGER PRIMARY KEY AUTOINCREMENT," \
    " series INTEGER NOT NULL, t0 INTEGER NOT NULL);" \
    "CREATE INDEX IF NOT EXISTS change_chunk ON change(series, t0);" \
    "INSERT INTO change(series, t0) SELECT series, t0 FROM chunk" \
    " WHERE NOT EXISTS (SELECT 1 FROM change) ORDER BY series, t0;" \
    "CREATE TRIGGER IF NOT EXISTS chunk_change AFTER INSERT ON chunk BEGIN" \
    " INSERT INTO change(series, t0) VALUES (new.series, new.t0); END;"

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO meta VALUES('format', '" FORMAT "');"
    "CREATE TABLE series(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE chunk(series INTEGER NOT NULL, t0 INTEGER NOT NULL,"
    " t1 INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE UNIQUE INDEX chunk_series_t0 ON chunk(series, t0);"
    "CREATE TABLE tag(series INTEGER NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY(series, key));"
    "CREATE TABLE retention(pattern TEXT PRIMARY KEY,"
    " keep_us INTEGER NOT NULL);"
    ROLLUP_TABLES CHANGE_TABLES;

enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SERIES_GET, Q_SERIES_ADD,
	Q_SERIES_EACH, Q_SEEK_LE, Q_SEEK_GT, Q_PUT, Q_DELETE, Q_CHUNK_EACH,
	Q_TAG_SET, Q_TAG_DELETE, Q_TAGS, Q_POLICY_SET, Q_POLICY_DELETE,
	Q_POLICIES, Q_ROLLUP_SET, Q_ROLLUP_DELETE, Q_ROLLUPS, Q_HAVE_ROLLUPS,
	Q_DIRTY_MARK, Q_DIRTY_FIRST, Q_DIRTY_DELETE, Q_META_GET, Q_META_SET,
	Q_CHANGES, Q_COUNT
};

static const char *const sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SERIES_GET] = "SELECT id FROM series WHERE name = ?",
	[Q_SERIES_ADD] = "INSERT INTO series(name) VALUES (?)",
	[Q_SERIES_EACH] = "SELECT s.id, s.name, coalesce(sum(c.n), 0),"
	    " count(c.t0), coalesce(sum(length(c.data)), 0), min(c.t0),"
	    " max(c.t1) FROM series s LEFT JOIN chunk c ON c.series = s.id"
	    " GROUP BY s.id ORDER BY s.name",
	[Q_SEEK_LE] = "SELECT series, t0, t1, n, data FROM chunk"
	    " WHERE series = ? AND t0 <= ? ORDER BY t0 DESC LIMIT 1",
	[Q_SEEK_GT] = "SELECT series, t0, t1, n, data FROM chunk"
	    " WHERE series = ? AND t0 > ? ORDER BY t0 LIMIT 1",
	[Q_PUT] = "INSERT INTO chunk(series, t0, t1, n, data)"
	    " VALUES (?, ?, ?, ?, ?)",
	[Q_DELETE] = "DELETE FROM chunk WHERE series = ? AND t0 = ?",
	[Q_CHUNK_EACH] = "SELECT series, t0, t1, n, data FROM chunk"
	    " ORDER BY series, t0",
	[Q_TAG_SET] = "INSERT OR REPLACE INTO tag(series, key, value)"
	    " VALUES (?, ?, ?)",
	[Q_TAG_DELETE] = "DELETE FROM tag WHERE series = ? AND key = ?",
	[Q_TAGS] = "SELECT key, value FROM tag WHERE series = ? ORDER BY key",
	[Q_POLICY_SET] = "INSERT OR REPLACE INTO retention(pattern, keep_us)"
	    " VALUES (?, ?)",
	[Q_POLICY_DELETE] = "DELETE FROM retention WHERE pattern = ?",
	[Q_POLICIES] = "SELECT pattern, keep_us FROM retention ORDER BY pattern",
	[Q_ROLLUP_SET] = "INSERT OR REPLACE INTO rollup(pattern, step_us, aggs)"
	    " VALUES (?, ?, ?)",
	[Q_ROLLUP_DELETE] = "DELETE FROM rollup WHERE pattern = ? AND"
	    " step_us = ?",
	[Q_ROLLUPS] = "SELECT pattern, step_us, aggs FROM rollup"
	    " ORDER BY pattern, step_us",
	[Q_HAVE_ROLLUPS] = "SELECT EXISTS (SELECT 1 FROM rollup)",
	[Q_DIRTY_MARK] = "INSERT INTO dirty(series, t0, t1) VALUES (?, ?, ?)"
	    " ON CONFLICT(series) DO UPDATE SET t0 = min(t0, excluded.t0),"
	    " t1 = max(t1, excluded.t1)",
	[Q_DIRTY_FIRST] = "SELECT series, t0, t1 FROM dirty ORDER BY series"
	    " LIMIT 1",
	[Q_DIRTY_DELETE] = "DELETE FROM dirty WHERE series = ?",
	[Q_META_GET] = "SELECT value FROM meta WHERE key = ?",
	[Q_META_SET] = "INSERT OR REPLACE INTO meta VALUES (?, ?)",
	[Q_CHANGES] = "SELECT c.series, c.t0, c.t1, c.n, c.data, s.name, g.seq"
	    " FROM change g JOIN chunk c ON c.series = g.series AND"
	    " c.t0 = g.t0 JOIN series s ON s.id = g.series WHERE g.seq > ?"
	    " AND g.seq = (SELECT max(seq) FROM change h WHERE"
	    " h.series = g.series AND h.t0 = g.t0) ORDER BY g.seq LIMIT ?",
};

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	long long page_size;
	long long max_bytes;    /* 0: no cap */
	long long disk_free;    /* bytes, when the disk is what limits */
	int have_rollups;       /* read at the start of each transaction */
};

static struct sqlite_store *
self(struct store *s)
{
	return (struct sqlite_store *)s;
}

/* Set err from SQLite's last message; returns -1. */
static int
fail(struct sqlite_store *s)
{
	size_t n = (size_t)snprintf(s->base.err, sizeof s->base.err, "%s: %s",
	    s->base.name, sqlite3_errmsg(s->db));

	if (sqlite3_errcode(s->db) != SQLITE_FULL || n >= sizeof s->base.err)
		return -1;
	if (s->disk_free > 0 || s->max_bytes == 0)
		snprintf(s->base.err + n, sizeof s->base.err - n,
		    " (the disk holding it has %lld kB free)",
		    s->disk_free / 1024);
	else
		snprintf(s->base.err + n, sizeof s->base.err - n,
		    " (its --max-size is %lld bytes)", s->max_bytes);
	return -1;
}

static sqlite3_stmt *
stmt(struct sqlite_store *s, int q)
{
	if (s->q[q] == NULL &&
	    sqlite3_prepare_v3(s->db, sql[q], -1, SQLITE_PREPARE_PERSISTENT,
	    &s->q[q], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(s->q[q]);
	sqlite3_clear_bindings(s->q[q]);
	return s->q[q];
}

/* Run a statement that returns no rows. */
static int
run(struct sqlite_store *s, int q)
{
	sqlite3_stmt *st = stmt(s, q);
	int rc;

	if (st == NULL)
		return fail(s);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

/* Keep up to WAL_RESERVE bytes of disk for the WAL past its end; on a
 * disk nearly full, as much of it as there is (a file system may take
 * back all of a request it could not fill). */
static void
reserve_wal(const char *path)
{
	char wal[4096];
	int fd;

	if ((size_t)snprintf(wal, sizeof wal, "%s-wal", path) >= sizeof wal ||
	    (fd = open(wal, O_WRONLY | O_CLOEXEC)) < 0)
		return;
	for (off_t len = WAL_RESERVE; len >= 64 << 10; len /= 2)
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) == 0 ||
		    errno != ENOSPC)
			break;
	close(fd);
}

/*
 * The WAL emptied into the store and cut to nothing, then its reserve
 * taken again: the next session starts writing at the WAL's beginning, in
 * the reserve (a WAL left whole is read again at the next open and
 * written after). Only when no one else is reading or writing: then
 * their own close does it.
 */
static void
sq_close(struct store *st)
{
	struct sqlite_store *s = self(st);

	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->q[i]);
	sqlite3_busy_timeout(s->db, 0);
	if (sqlite3_wal_checkpoint_v2(s->db, "main",
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_OK)
		reserve_wal(st->name);
	sqlite3_close(s->db);
	free(s);
}

/* The pages --max-size allows (bytes 0: no cap, SQLite's largest). */
static long long
cap_pages(long long bytes, long long page_size)
{
	return bytes > 0 ? (bytes + page_size - 1) / page_size : 4294967294LL;
}

/* The value of a one-value query, or NULL (into buf). */
static const char *
query_text(sqlite3 *db, const char *q, char *buf, size_t bufsz)
{
	sqlite3_stmt *st;
	const char *v = NULL;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL) {
		snprintf(buf, bufsz, "%s", sqlite3_column_text(st, 0));
		v = buf;
	}
	sqlite3_finalize(st);
	return v;
}

/*
 * A transaction may grow the store by half the disk's free space at most:
 * its new pages are written twice, to the WAL and then into the store.
 * So a batch too big for the disk fails at once, whole, instead of
 * leaving pages in the WAL that cannot be checkpointed.
 */
static int
limit_to_disk(struct sqlite_store *s)
{
	long long cap = cap_pages(s->max_bytes, s->page_size), pages, room;
	const char *v;
	char buf[32], q[128];
	struct statvfs fs;

	s->disk_free = 0;
	if (statvfs(s->base.name, &fs) < 0 ||
	    (v = query_text(s->db, "PRAGMA page_count", buf, sizeof buf)) ==
	    NULL)
		return 0;
	pages = atoll(v);
	room = (long long)(fs.f_bavail * fs.f_frsize);
	if (pages + room / 2 / s->page_size < cap) {
		cap = pages + room / 2 / s->page_size;
		s->disk_free = room;
	}
	snprintf(q, sizeof q, "PRAGMA max_page_count = %lld", cap);
	return sqlite3_exec(s->db, q, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    fail(s);
}

static int
sq_begin(struct store *st)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q;

	if (run(s, Q_BEGIN) < 0 || limit_to_disk(s) < 0)
		return -1;
	if ((q = stmt(s, Q_HAVE_ROLLUPS)) == NULL)
		return fail(s);
	s->have_rollups = sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_int(q, 0) != 0;
	sqlite3_reset(q);
	return 0;
}

static int
sq_commit(struct store *st)
{
	return run(self(st), Q_COMMIT);
}

static void
sq_rollback(struct store *st)
{
	struct sqlite_store *s = self(st);

	if (!sqlite3_get_autocommit(s->db))
		(void)run(s, Q_ROLLBACK);
}

static int
sq_series_id(struct store *st, const char *name, int create, long long *id)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_SERIES_GET);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		return 0;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return fail(s);
	if (!create)
		return 1;
	if ((q = stmt(s, Q_SERIES_ADD)) == NULL)
		return fail(s);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return fail(s);
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int
sq_series_each(struct store *st, int (*fn)(const struct series_info *,
    void *), void *arg)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_SERIES_EACH);
	int rc, stop = 0;

	if (q == NULL)
		return fail(s);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct series_info si = {
			.id = sqlite3_column_int64(q, 0),
			.name = (const char *)sqlite3_column_text(q, 1),
			.points = sqlite3_column_int64(q, 2),
			.chunks = sqlite3_column_int64(q, 3),
			.bytes = sqlite3_column_int64(q, 4),
			.first = sqlite3_column_int64(q, 5),
			.last = sqlite3_column_int64(q, 6),
		};
		stop = fn(&si, arg);
	}
	sqlite3_reset(q);
	if (stop)
		return stop < 0 ? -1 : 0;
	return rc == SQLITE_DONE ? 0 : fail(s);
}

/* Copy the current result row (series, t0, t1, n, data) into row. */
static void
take_row(sqlite3_stmt *q, struct chunk_row *row)
{
	const void *data = sqlite3_column_blob(q, 4);
	size_t len = (size_t)sqlite3_column_bytes(q, 4);

	row->series = sqlite3_column_int64(q, 0);
	row->t0 = sqlite3_column_int64(q, 1);
	row->t1 = sqlite3_column_int64(q, 2);
	row->n = (long)sqlite3_column_int64(q, 3);
	if (len > row->cap) {
		row->cap = len;
		row->data = xreallocarray(row->data, len, 1);
	}
	if (len > 0)
		memcpy(row->data, data, len);
	row->len = len;
}

static int
sq_chunk_seek(struct store *st, long long series, ts_us t, int dir,
    struct chunk_row *row)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, dir < 0 ? Q_SEEK_LE : Q_SEEK_GT);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, series);
	sqlite3_bind_int64(q, 2, t);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		take_row(q, row);
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : fail(s);
}

static int
sq_chunk_put(struct store *st, const struct chunk_row *row)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_PUT);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, row->series);
	sqlite3_bind_int64(q, 2, row->t0);
	sqlite3_bind_int64(q, 3, row->t1);
	sqlite3_bind_int64(q, 4, row->n);
	sqlite3_bind_blob(q, 5, row->data, (int)row->len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_chunk_delete(struct store *st, long long series, ts_us t0)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_DELETE);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, series);
	sqlite3_bind_int64(q, 2, t0);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_tag_set(struct store *st, long long id, const char *key,
    const char *value)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, value != NULL ? Q_TAG_SET : Q_TAG_DELETE);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_text(q, 3, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_tags_each(struct store *st, long long id,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_TAGS);
	int rc, stop = 0;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, id);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
		stop = fn((const char *)sqlite3_column_text(q, 0),
		    (const char *)sqlite3_column_text(q, 1), arg);
	sqlite3_reset(q);
	if (stop)
		return stop < 0 ? -1 : 0;
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_policy_set(struct store *st, const char *pattern, ts_us keep)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, keep >= 0 ? Q_POLICY_SET : Q_POLICY_DELETE);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_text(q, 1, pattern, -1, SQLITE_STATIC);
	if (keep >= 0)
		sqlite3_bind_int64(q, 2, keep);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_policy_each(struct store *st, int (*fn)(const char *, ts_us, void *),
    void *arg)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_POLICIES);
	int rc, stop = 0;

	if (q == NULL)
		return fail(s);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
		stop = fn((const char *)sqlite3_column_text(q, 0),
		    sqlite3_column_int64(q, 1), arg);
	sqlite3_reset(q);
	if (stop)
		return stop < 0 ? -1 : 0;
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_rollup_set(struct store *st, const char *pattern, ts_us step,
    const char *aggs)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, aggs != NULL ? Q_ROLLUP_SET : Q_ROLLUP_DELETE);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_text(q, 1, pattern, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, step);
	if (aggs != NULL)
		sqlite3_bind_text(q, 3, aggs, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc == SQLITE_DONE && aggs != NULL)
		s->have_rollups = 1;
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_rollup_each(struct store *st, int (*fn)(const char *, ts_us, const char *,
    void *), void *arg)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_ROLLUPS);
	int rc, stop = 0;

	if (q == NULL)
		return fail(s);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
		stop = fn((const char *)sqlite3_column_text(q, 0),
		    sqlite3_column_int64(q, 1),
		    (const char *)sqlite3_column_text(q, 2), arg);
	sqlite3_reset(q);
	if (stop)
		return stop < 0 ? -1 : 0;
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_dirty_mark(struct store *st, long long id, ts_us t0, ts_us t1)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q;
	int rc;

	if (!s->have_rollups)
		return 0;
	if ((q = stmt(s, Q_DIRTY_MARK)) == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, t0);
	sqlite3_bind_int64(q, 3, t1);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_dirty_take(struct store *st, long long *id, ts_us *t0, ts_us *t1)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_DIRTY_FIRST);
	int rc;

	if (q == NULL)
		return fail(s);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		*t0 = sqlite3_column_int64(q, 1);
		*t1 = sqlite3_column_int64(q, 2);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW || (q = stmt(s, Q_DIRTY_DELETE)) == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, *id);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

/*
 * One backup step over the whole store: it reads one snapshot (so the
 * copy is consistent), and in WAL mode writers go on meanwhile. The copy
 * is written beside the destination, synced, then renamed over it.
 */
static int
sq_backup(struct store *st, const char *path)
{
	struct sqlite_store *s = self(st);
	char tmp[4096];
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		snprintf(st->err, sizeof st->err, "%s: name too long", path);
		return -1;
	}
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK && (b = sqlite3_backup_init(dst, "main", s->db,
	    "main")) != NULL) {
		rc = sqlite3_backup_step(b, -1);
		sqlite3_backup_finish(b);
		rc = rc == SQLITE_DONE ? sqlite3_errcode(dst) : rc;
	} else if (rc == SQLITE_OK) {
		rc = sqlite3_errcode(dst);
	}
	if (rc == SQLITE_OK)    /* a self-contained file: no WAL beside it */
		rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL,
		    NULL, NULL);
	if (rc != SQLITE_OK)
		snprintf(st->err, sizeof st->err, "%s: %s", path,
		    dst != NULL ? sqlite3_errmsg(dst) : "out of memory");
	sqlite3_close(dst);
	if (rc == SQLITE_OK && (fsync_path(tmp) < 0 || rename(tmp, path) < 0 ||
	    fsync_parent(path) < 0)) {
		snprintf(st->err, sizeof st->err, "%s: %s", path,
		    strerror(errno));
		rc = SQLITE_IOERR;
	}
	if (rc != SQLITE_OK) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* PRAGMA max_page_count holds for one connection: set it on each. */
static int
apply_max_bytes(struct sqlite_store *s, long long bytes)
{
	char q[128];

	s->max_bytes = bytes;
	snprintf(q, sizeof q, "PRAGMA max_page_count = %lld",
	    cap_pages(bytes, s->page_size));
	return sqlite3_exec(s->db, q, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    fail(s);
}

static int
sq_set_max_bytes(struct store *st, long long bytes)
{
	struct sqlite_store *s = self(st);
	char q[128];

	snprintf(q, sizeof q, "INSERT OR REPLACE INTO meta VALUES "
	    "('max_bytes', '%lld')", bytes);
	if (sqlite3_exec(s->db, q, NULL, NULL, NULL) != SQLITE_OK)
		return fail(s);
	return apply_max_bytes(s, bytes);
}

static int
sq_integrity(struct store *st)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q;
	int rc, bad = 0;

	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q,
	    NULL) != SQLITE_OK)
		return fail(s);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(q, 0);
		if (msg != NULL && strcmp(msg, "ok") != 0 && !bad++)
			snprintf(s->base.err, sizeof s->base.err,
			    "%s: integrity: %s", s->base.name, msg);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return fail(s);
	return bad ? -1 : 0;
}

static int
sq_chunk_each(struct store *st, int (*fn)(const struct chunk_row *, void *),
    void *arg)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_CHUNK_EACH);
	struct chunk_row row = { 0 };
	int rc, stop = 0;

	if (q == NULL)
		return fail(s);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		take_row(q, &row);
		stop = fn(&row, arg);
	}
	sqlite3_reset(q);
	chunk_row_free(&row);
	if (stop)
		return stop < 0 ? -1 : 0;
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_meta_get(struct store *st, const char *key, char *buf, size_t size)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_META_GET);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		snprintf(buf, size, "%s", sqlite3_column_text(q, 0));
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : fail(s);
}

static int
sq_meta_set(struct store *st, const char *key, const char *value)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_META_SET);
	int rc;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static int
sq_changes_each(struct store *st, long long after, long limit,
    int (*fn)(const struct chunk_row *, const char *, long long, void *),
    void *arg)
{
	struct sqlite_store *s = self(st);
	sqlite3_stmt *q = stmt(s, Q_CHANGES);
	struct chunk_row row = { 0 };
	int rc, stop = 0;

	if (q == NULL)
		return fail(s);
	sqlite3_bind_int64(q, 1, after);
	sqlite3_bind_int64(q, 2, limit);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		take_row(q, &row);
		stop = fn(&row, (const char *)sqlite3_column_text(q, 5),
		    sqlite3_column_int64(q, 6), arg);
	}
	sqlite3_reset(q);
	chunk_row_free(&row);
	if (stop)
		return stop < 0 ? -1 : 0;
	return rc == SQLITE_DONE ? 0 : fail(s);
}

static const struct store_ops sqlite_ops = {
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.series_id = sq_series_id,
	.series_each = sq_series_each,
	.chunk_seek = sq_chunk_seek,
	.chunk_put = sq_chunk_put,
	.chunk_delete = sq_chunk_delete,
	.set_max_bytes = sq_set_max_bytes,
	.tag_set = sq_tag_set,
	.tags_each = sq_tags_each,
	.backup = sq_backup,
	.policy_set = sq_policy_set,
	.policy_each = sq_policy_each,
	.rollup_set = sq_rollup_set,
	.rollup_each = sq_rollup_each,
	.dirty_mark = sq_dirty_mark,
	.dirty_take = sq_dirty_take,
	.integrity = sq_integrity,
	.chunk_each = sq_chunk_each,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.changes_each = sq_changes_each,
};

/* Is this file ours, empty (and so ours to make), or something else? */
static int
check_format(struct sqlite_store *s, enum store_mode mode)
{
	char buf[64], nbuf[32];
	const char *f, *ntables;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s);
	f = query_text(s->db, "SELECT value FROM meta WHERE key = 'format'",
	    buf, sizeof buf);
	/* tables added since format 1 was first written */
	if (f != NULL && strcmp(f, FORMAT) == 0)
		return sqlite3_exec(s->db, "CREATE TABLE IF NOT EXISTS "
		    "retention(pattern TEXT PRIMARY KEY, keep_us INTEGER NOT "
		    "NULL);" ROLLUP_TABLES CHANGE_TABLES "COMMIT", NULL, NULL,
		    NULL) ==
		    SQLITE_OK ? 0 : fail(s);
	/* its own buffer: f still points into buf (the "(12)" once said
	 * was the count of another program's tables) */
	ntables = query_text(s->db, "SELECT count(*) FROM sqlite_schema",
	    nbuf, sizeof nbuf);
	if (mode != STORE_OPEN && ntables != NULL && strcmp(ntables, "0") == 0) {
		if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			fail(s);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		return 0;
	}
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (f != NULL)  /* "(12)" alone read as an error code */
		snprintf(s->base.err, sizeof s->base.err, "%s: not a store "
		    "this tsstore reads: its meta table says format \"%s\", "
		    "not \"%s\"", s->base.name, f, FORMAT);
	else
		snprintf(s->base.err, sizeof s->base.err, "%s: not a tsstore "
		    "store (an SQLite file without tsstore's meta table)",
		    s->base.name);
	return -1;
}

/* The settings the store keeps in its meta table. */
static int
apply_limits(struct sqlite_store *s)
{
	char buf[64];
	const char *v;

	v = query_text(s->db, "PRAGMA page_size", buf, sizeof buf);
	s->page_size = v != NULL ? atoll(v) : 4096;
	if (s->page_size <= 0)
		s->page_size = 4096;
	v = query_text(s->db, "SELECT value FROM meta WHERE key = 'max_bytes'",
	    buf, sizeof buf);
	return v != NULL ? apply_max_bytes(s, atoll(v)) : 0;
}

/* Open, make WAL, check or write the format: 0, or -1 (s->base.err). */
static int
open_once(struct sqlite_store *s, const char *path, enum store_mode mode,
    int busy_ms)
{
	int flags = SQLITE_OPEN_READWRITE |
	    (mode != STORE_OPEN ? SQLITE_OPEN_CREATE : 0), persist = 1;

	s->base.err[0] = '\0';
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(s->db, busy_ms) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA journal_mode = WAL;"
	    " PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist) != SQLITE_OK ||
	    check_format(s, mode) < 0 || apply_limits(s) < 0) {
		if (s->base.err[0] == '\0')
			fail(s);
		return -1;
	}
	reserve_wal(path);
	return 0;
}

struct store *
store_sqlite_open(const char *path, enum store_mode mode, int busy_ms,
    char *err, size_t errsz)
{
	struct sqlite_store *s = xcalloc(1, sizeof *s);
	struct stat sb;

	s->base.ops = &sqlite_ops;
	s->base.name = path;
	if (mode == STORE_OPEN && stat(path, &sb) < 0) {
		snprintf(err, errsz, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (tsstore init makes a store)" : "");
		free(s);
		return NULL;
	}
	/* A new file that other processes are making too can refuse the
	 * switch to WAL, or a first read, at once (SQLITE_BUSY without the
	 * busy handler): 8 first ingests at once failed now and then with
	 * "database is locked". Opening waits as any write does. */
	for (int waited = 0; open_once(s, path, mode, busy_ms) < 0;
	    waited += 10) {
		int busy = (sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY;
		sqlite3_close(s->db);
		s->db = NULL;
		if (!busy || waited >= busy_ms) {
			snprintf(err, errsz, "%s", s->base.err);
			free(s);
			return NULL;
		}
		usleep(10000);
	}
	return &s->base;
}
