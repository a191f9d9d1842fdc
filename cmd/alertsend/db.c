/* db: the subscribers and the outbox, in one SQLite file (WAL, durable
 * commits, a busy timeout so that a cron run and a pipe share it). */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsend.h"

#define FORMAT "alertsend 2"
#define FORMAT_1 "alertsend 1"
#define BUSY_MS 60000

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES('format', '" FORMAT "');"
    "CREATE TABLE IF NOT EXISTS sub(name TEXT PRIMARY KEY,"
    " channel TEXT NOT NULL, target TEXT NOT NULL,"
    " match TEXT NOT NULL DEFAULT '', secret TEXT NOT NULL DEFAULT '',"
    " rate TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS event(id INTEGER PRIMARY KEY,"
    " received INTEGER NOT NULL, ts INTEGER NOT NULL, alert TEXT NOT NULL,"
    " severity TEXT NOT NULL, state TEXT NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, lim TEXT NOT NULL, message TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS delivery(id INTEGER PRIMARY KEY,"
    " event INTEGER NOT NULL, sub TEXT NOT NULL, state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
    " done_at INTEGER, result TEXT, started INTEGER, notice INTEGER);"
    "CREATE INDEX IF NOT EXISTS delivery_due ON delivery(state, next_at);"
    "CREATE TABLE IF NOT EXISTS notice(sub TEXT NOT NULL, alert TEXT NOT NULL,"
    " key TEXT NOT NULL, firing INTEGER NOT NULL, last_fired INTEGER NOT NULL,"
    " PRIMARY KEY(sub, alert, key));"
    "CREATE TABLE IF NOT EXISTS silence(id INTEGER PRIMARY KEY,"
    " match TEXT NOT NULL, until INTEGER NOT NULL,"
    " comment TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sent(sub TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS sent_sub ON sent(sub, at);";

/* Format 1 to 2: per-subscriber rate limits, a resolved alert's start,
 * held deliveries' notice (the sent table is made by the schema). */
static const char upgrade_1[] =
    "ALTER TABLE sub ADD COLUMN rate TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE delivery ADD COLUMN started INTEGER;"
    "ALTER TABLE delivery ADD COLUMN notice INTEGER;"
    "UPDATE meta SET value = '" FORMAT "' WHERE key = 'format';";

int
db_fail(struct db *db)
{
	warnx("%s: %s", db->name, sqlite3_errmsg(db->h));
	return -1;
}

int
db_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    db_fail(db);
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(db);
		exit(1);
	}
	return st;
}

sqlite3_stmt *
db_cached(struct db *db, const char *sql)
{
	int i;

	for (i = 0; i < DB_CACHED_MAX && db->cached_sql[i] != NULL; i++)
		if (db->cached_sql[i] == sql) {
			sqlite3_reset(db->cached[i]);
			sqlite3_clear_bindings(db->cached[i]);
			return db->cached[i];
		}
	if (i == DB_CACHED_MAX)
		errx(1, "db_cached: more than %d statements", DB_CACHED_MAX);
	db->cached_sql[i] = sql;
	return db->cached[i] = db_prepare(db, sql);
}

/* Ours, or empty (and so ours to make); anything else is refused. */
static int
check_format(struct db *db)
{
	sqlite3_stmt *st;
	int rc = 0, ours = 0, old = 0, empty = 0;

	if (db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (sqlite3_prepare_v2(db->h, "SELECT value FROM meta WHERE key ="
	    " 'format'", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(st,
			    0);
			ours = strcmp(v, FORMAT) == 0;
			old = strcmp(v, FORMAT_1) == 0;
		}
		sqlite3_finalize(st);
	} else {
		st = db_prepare(db, "SELECT count(*) FROM sqlite_schema");
		empty = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int(st, 0) == 0;
		sqlite3_finalize(st);
	}
	if (!ours && !old && !empty) {
		db_exec(db, "ROLLBACK");
		warnx("%s: not an alertsend database", db->name);
		return -1;
	}
	if (old)
		rc = db_exec(db, upgrade_1);
	if (rc == 0)
		rc = db_exec(db, schema);
	if (rc == 0)
		rc = db_exec(db, "COMMIT");
	if (rc < 0)
		db_exec(db, "ROLLBACK");
	return rc;
}

/* A database file and the files SQLite keeps beside it. */
static void
remove_db_files(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char name[4096];

	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++)
		if (snprintf(name, sizeof name, "%s%s", path, suffix[i]) <
		    (int)sizeof name)
			unlink(name);
}

void
db_open(struct db *db, const char *path)
{
	struct stat sb;
	int existed = stat(path, &sb) == 0;

	memset(db, 0, sizeof *db);
	db->name = path;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db->h, BUSY_MS) != SQLITE_OK)
		db_fail(db);
	else if (db_exec(db, "PRAGMA journal_mode = WAL;"
	    " PRAGMA synchronous = FULL") == 0 && check_format(db) == 0)
		return;
	/* (what failed in db_exec was said there) */
	sqlite3_close(db->h);
	/* a database this call made and could not finish (a full disk) is
	 * not left behind, 0 bytes, to fail the next run */
	if (!existed)
		remove_db_files(path);
	exit(1);
}

void
db_close(struct db *db)
{
	for (int i = 0; i < DB_CACHED_MAX && db->cached_sql[i] != NULL; i++)
		sqlite3_finalize(db->cached[i]);
	sqlite3_close(db->h);
	db->h = NULL;
}
