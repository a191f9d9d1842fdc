/*
 * Subscribers: a name, a channel, a target and what they want to hear.
 *
 *   alertsend sub add NAME --channel CH --target T [--match EXPR ...]
 *   alertsend sub list
 *   alertsend sub rm NAME
 *   alertsend sub test NAME
 *
 * A match is "COLUMN=GLOB" on any column of the event (alert=pump*,
 * key=src=cam1*) or "severity>=LEVEL" (info < warning < critical); a
 * subscriber hears an event when every one of its matches passes.
 */
#include <err.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsend.h"
#include "cli.h"
#include "csvio.h"
#include "xalloc.h"

const char *const event_cols[EVENT_COLS] = { "ts", "alert", "severity",
	"state", "key", "value", "limit", "message" };

static int
severity_rank(const char *s)
{
	static const char *const levels[] = { "info", "warning", "critical" };

	for (int i = 0; i < 3; i++)
		if (strcmp(s, levels[i]) == 0)
			return i;
	return -1;
}

const char *
match_option(const char *expr)
{
	const char *eq = strchr(expr, '=');
	size_t klen = eq != NULL ? (size_t)(eq - expr) : 0;

	if (strncmp(expr, "severity>=", 10) == 0) {
		if (severity_rank(expr + 10) < 0)
			cli_usage_error("--match: not a severity (info, "
			    "warning, critical): '%s'", expr + 10);
		return expr;
	}
	if (eq == NULL || klen == 0 || strchr(expr, '\n') != NULL)
		cli_usage_error("--match: not COLUMN=GLOB or severity>=LEVEL: "
		    "'%s'", expr);
	for (int i = 0; i < EVENT_COLS; i++)
		if (strlen(event_cols[i]) == klen &&
		    strncmp(expr, event_cols[i], klen) == 0)
			return expr;
	cli_usage_error("--match: no such column in alert events: '%.*s'",
	    (int)klen, expr);
}

static int
match_one(const char *m, size_t len, const struct event *e)
{
	char buf[1024];
	const char *eq;

	snprintf(buf, sizeof buf, "%.*s", (int)len, m);
	if (strncmp(buf, "severity>=", 10) == 0)
		return severity_rank(e->f[F_SEVERITY]) >=
		    severity_rank(buf + 10);
	if ((eq = strchr(buf, '=')) == NULL)
		return 0;
	for (int i = 0; i < EVENT_COLS; i++)
		if ((size_t)(eq - buf) == strlen(event_cols[i]) &&
		    strncmp(buf, event_cols[i], (size_t)(eq - buf)) == 0)
			return fnmatch(eq + 1, e->f[i], 0) == 0;
	return 0;
}

int
match_event(const char *match, const struct event *e)
{
	while (*match != '\0') {
		size_t len = strcspn(match, "\n");
		if (len > 0 && !match_one(match, len, e))
			return 0;
		match += len + (match[len] == '\n');
	}
	return 1;
}

static int
sub_add(const char *path, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "target", required_argument, NULL, 't' },
		{ "match", required_argument, NULL, 'm' },
		{ "secret-file", required_argument, NULL, 'f' },
		{ "secret-env", required_argument, NULL, 'e' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 } };
	const char *channel = NULL, *target = NULL, *rate = "";
	char secret[4096] = "";
	char *match = xstrdup("");
	struct db db;
	sqlite3_stmt *st;
	int opt, rc;

	optind = 0;   /* glibc: start getopt afresh (main used "+") */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'c')
			channel = optarg;
		else if (opt == 't')
			target = optarg;
		else if (opt == 'r')
			rate = rate_option(optarg);
		else if (opt == 'f' || opt == 'e')
			/* where the secret is, never the secret itself */
			snprintf(secret, sizeof secret, "%s:%s",
			    opt == 'f' ? "file" : "env", optarg);
		else if (opt == 'm') {
			size_t n = strlen(match);
			const char *m = match_option(optarg);
			match = xreallocarray(match, n + strlen(m) + 2, 1);
			sprintf(match + n, "%s%s", n > 0 ? "\n" : "", m);
		} else
			cli_usage_hint();
	}
	if (optind != argc - 1 || channel == NULL || target == NULL)
		cli_usage_error("sub add: NAME --channel CHANNEL --target TARGET");
	if (!channel_known(channel))
		cli_usage_error("--channel: not one of file, webhook, exec, "
		    "email, syslog: '%s'", channel);
	if (strcmp(channel, "syslog") == 0 && !syslog_target_ok(target))
		cli_usage_error("--target: not [FACILITY][@DEST] (FACILITY user,"
		    " daemon or local0 to local7): '%s'", target);
	db_open(&db, path);
	st = db_prepare(&db, "INSERT OR REPLACE INTO sub(name, channel, target,"
	    " match, secret, rate) VALUES (?, ?, ?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, argv[optind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, match, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rate, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(&db);
	sqlite3_finalize(st);
	db_close(&db);
	free(match);
	return rc;
}

static int
sub_list(struct db *db)
{
	static const char *const header[] = { "name", "channel", "target",
		"match", "rate" };
	sqlite3_stmt *st = db_prepare(db, "SELECT name, channel, target,"
	    " replace(match, char(10), ' '), rate FROM sub ORDER BY name");
	struct csv_out out;
	int rc;

	csvout_init(&out, stdout);
	csvout_row(&out, 5, header);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < 5; i++)
			csvout_str(&out, (const char *)sqlite3_column_text(st,
			    i));
		csvout_end(&out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db);
}

/* Its deliveries still to make are cancelled with it, in the log. */
static int
sub_rm(struct db *db, const char *name)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM sub WHERE name = ?");
	int rc = db_exec(db, "BEGIN IMMEDIATE");

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db);
	sqlite3_finalize(st);
	if (rc == 0 && sqlite3_changes(db->h) == 0) {
		warnx("sub rm: no subscriber \"%s\"", name);
		rc = -1;
	}
	st = db_prepare(db, "UPDATE delivery SET state = 'cancelled',"
	    " done_at = ?, result = 'the subscriber was removed'"
	    " WHERE sub = ? AND state IN ('pending', 'held')");
	sqlite3_bind_int64(st, 1, ts_now());
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db);
	sqlite3_finalize(st);
	if (rc == 0)
		rc = db_exec(db, "COMMIT");
	if (rc < 0)
		db_exec(db, "ROLLBACK");
	return rc;
}

/* A test notification now, straight to the subscriber: not through the
 * outbox, not rate limited, not logged; the result on the terminal. */
static int
sub_test(struct db *db, const char *name)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT channel, target, secret, rate"
	    " FROM sub WHERE name = ?");
	struct event e = { .ts = ts_now(), .f = { "", "alertsend_test", "info",
		"firing", name, "", "", "a test notification from alertsend"
		" (sub test)" } };
	char err[512] = "";
	int rc = -1;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		warnx("sub test: no subscriber \"%s\"", name);
	} else {
		struct subscriber_info si = { name,
			(const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1),
			(const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3) };
		if (channel_send(&si, &e, 1, err, sizeof err) == SEND_OK) {
			printf("%s: a test notification sent (%s %s)\n", name,
			    si.channel, si.target);
			rc = 0;
		} else {
			warnx("%s: %s: %s", name, si.channel, err);
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int
cmd_sub(const char *path, int argc, char **argv)
{
	struct db db;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return sub_add(path, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		db_open(&db, path);
		rc = sub_list(&db);
	} else if (argc == 3 && strcmp(argv[1], "rm") == 0) {
		db_open(&db, path);
		rc = sub_rm(&db, argv[2]);
	} else if (argc == 3 && strcmp(argv[1], "test") == 0) {
		db_open(&db, path);
		rc = sub_test(&db, argv[2]);
	} else {
		cli_usage_error("sub: add NAME ..., list, rm NAME or test NAME");
	}
	db_close(&db);
	return rc;
}
