/* libFuzzer target: alertsend's intake on arbitrary bytes (events come
 * from pipes and files anyone can write). Every input goes into a fresh
 * in-memory outbox with three subscribers (one rate limited, one matching
 * by glob, one by severity); whatever was taken must be a well-formed
 * event, and every delivery must belong to an event and a subscriber. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "alertsend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long long
count(struct db *db, const char *sql)
{
	sqlite3_stmt *q = db_prepare(db, sql);
	long long n = sqlite3_step(q) == SQLITE_ROW ?
	    sqlite3_column_int64(q, 0) : -1;

	sqlite3_finalize(q);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	struct db db;

	if (fp == NULL)
		return 0;
	db_open(&db, ":memory:");
	/* /dev/null cannot be synced: the file channel fails and retries */
	if (db_exec(&db, "INSERT INTO sub(name, channel, target, match, rate)"
	    " VALUES ('a', 'file', '/dev/null', '', '1/1h'),"
	    " ('b', 'file', '/dev/null', 'key=*[a-c]*', ''),"
	    " ('c', 'file', '/dev/null', 'severity>=warning', '')") < 0)
		abort();
	(void)intake(&db, fp, "fuzz", 0);
	fclose(fp);
	if (count(&db, "SELECT count(*) FROM event WHERE alert = '' OR state"
	    " NOT IN ('firing', 'resolved')") != 0 ||
	    count(&db, "SELECT count(*) FROM delivery WHERE event NOT IN"
	    " (SELECT id FROM event) OR sub NOT IN (SELECT name FROM sub)")
	    != 0 || count(&db, "PRAGMA integrity_check") < 0)
		abort();
	db_close(&db);
	return 0;
}
