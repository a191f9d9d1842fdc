/*
 * Silences: events that match one until a time are recorded, not sent.
 *
 *   alertsend silence add --match EXPR ... --until TIME [--comment TEXT]
 *   alertsend silence list
 *   alertsend silence rm ID
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsend.h"
#include "cli.h"
#include "csvio.h"
#include "xalloc.h"

long long
silenced_by(struct db *db, const struct event *e, ts_us now)
{
	static const char sql[] = "SELECT id, match FROM silence"
	    " WHERE until > ? ORDER BY id";
	sqlite3_stmt *q = db_cached(db, sql);
	long long id = 0;

	sqlite3_bind_int64(q, 1, now);
	while (id == 0 && sqlite3_step(q) == SQLITE_ROW)
		if (match_event((const char *)sqlite3_column_text(q, 1), e))
			id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return id;
}

static int
silence_add(const char *path, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "match", required_argument, NULL, 'm' },
		{ "until", required_argument, NULL, 'u' },
		{ "comment", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 } };
	const char *comment = "";
	char *match = xstrdup("");
	ts_us until = 0;
	struct db db;
	sqlite3_stmt *st;
	int o, rc;

	optind = 0;     /* glibc: start getopt afresh (main used "+") */
	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (o == 'm') {
			size_t n = strlen(match);
			const char *m = match_option(optarg);
			match = xreallocarray(match, n + strlen(m) + 2, 1);
			sprintf(match + n, "%s%s", n > 0 ? "\n" : "", m);
		} else if (o == 'u') {
			if (ts_parse_when(optarg, ts_now(), &until) < 0)
				cli_usage_error("--until: not a time: '%s'",
				    optarg);
		} else if (o == 'c') {
			comment = optarg;
		} else {
			cli_usage_hint();
		}
	}
	if (optind != argc || *match == '\0' || until == 0)
		cli_usage_error("silence add: --match EXPR ... --until TIME");
	db_open(&db, path);
	st = db_prepare(&db, "INSERT INTO silence(match, until, comment,"
	    " created) VALUES (?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, until);
	sqlite3_bind_text(st, 3, comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ts_now());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(&db);
	if (rc == 0)
		printf("%lld\n", (long long)sqlite3_last_insert_rowid(db.h));
	sqlite3_finalize(st);
	db_close(&db);
	free(match);
	return rc;
}

static int
silence_list(struct db *db)
{
	static const char *const header[] = { "id", "match", "until",
		"comment" };
	sqlite3_stmt *st = db_prepare(db, "SELECT id, replace(match, char(10),"
	    " ' '), until, comment FROM silence ORDER BY id");
	struct csv_out out;
	int rc;

	csvout_init(&out, stdout);
	csvout_row(&out, 4, header);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		csvout_long(&out, sqlite3_column_int64(st, 0));
		csvout_str(&out, (const char *)sqlite3_column_text(st, 1));
		csvout_time(&out, sqlite3_column_int64(st, 2), 1);
		csvout_str(&out, (const char *)sqlite3_column_text(st, 3));
		csvout_end(&out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db);
}

static int
silence_rm(struct db *db, const char *id)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM silence WHERE id = ?");
	int rc;

	sqlite3_bind_int64(st, 1, cli_long("silence rm", id, 1, 1L << 62));
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db);
	sqlite3_finalize(st);
	if (rc == 0 && sqlite3_changes(db->h) == 0) {
		warnx("silence rm: no silence %s", id);
		rc = -1;
	}
	return rc;
}

int
cmd_silence(const char *path, int argc, char **argv)
{
	struct db db;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return silence_add(path, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		db_open(&db, path);
		rc = silence_list(&db);
	} else if (argc == 3 && strcmp(argv[1], "rm") == 0) {
		db_open(&db, path);
		rc = silence_rm(&db, argv[2]);
	} else {
		cli_usage_error("silence: add --match EXPR ... --until TIME, "
		    "list, or rm ID");
	}
	db_close(&db);
	return rc;
}
