/*
 * rate: at most N notifications in any DUR to a subscriber (--rate N/DUR,
 * its own from "sub add --rate" or the main option's).
 *
 * A pager that can take five messages an hour is no use when it gets a
 * hundred, so past the limit the subscriber's fresh deliveries are held
 * back ("held", in the log) rather than queued. When the window has room
 * again, what was held goes out as one notice, an alert of its own
 * (alertsend_held_back, as severe as the worst held) that counts them by
 * alert name; the held deliveries become "summarized". Retries of a
 * notification already admitted are never held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsend.h"
#include "cli.h"

#define NOTICE_ALERT "alertsend_held_back"
#define NOTICE_NAMES 10         /* alert names listed in a notice */

int
rate_parse(const char *s, struct rate *r)
{
	char *end;
	long n;

	r->n = 0;
	r->per = 0;
	if (s == NULL || *s == '\0' || strcmp(s, "none") == 0)
		return 0;
	n = strtol(s, &end, 10);
	if (end == s || *end != '/' || n < 1 || n > 1000000 ||
	    ts_parse_duration(end + 1, &r->per) < 0 || r->per <= 0)
		return -1;
	r->n = (int)n;
	return 0;
}

const char *
rate_option(const char *arg)
{
	struct rate r;

	if (rate_parse(arg, &r) < 0)
		cli_usage_error("--rate: not N/DUR (such as 5/1h) or none: "
		    "'%s'", arg);
	return arg;
}

/* The subscriber's own rate, else the main --rate. */
static void
effective_rate(const char *own, struct rate *r)
{
	if (rate_parse(*own != '\0' ? own : policy.rate, r) < 0)
		r->n = 0;       /* both were checked when given */
}

static long long
count_sent(struct db *db, const char *sub, ts_us since)
{
	static const char sql[] = "SELECT count(*) FROM sent WHERE sub = ?"
	    " AND at > ?";
	sqlite3_stmt *q = db_cached(db, sql);
	long long n;

	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, since);
	n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	return n;
}

/* The window is full: hold back the fresh due deliveries until the
 * oldest of the last N notifications leaves it. */
static int
hold(struct db *db, const char *sub, const char *rate, const struct rate *r,
    ts_us now)
{
	sqlite3_stmt *q = db_prepare(db, "SELECT at FROM sent WHERE sub = ?"
	    " ORDER BY at DESC LIMIT 1 OFFSET ?");
	ts_us reopen = now + r->per;
	char why[128];
	int rc = 0;

	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, r->n - 1);
	if (sqlite3_step(q) == SQLITE_ROW)
		reopen = sqlite3_column_int64(q, 0) + r->per;
	sqlite3_finalize(q);
	snprintf(why, sizeof why, "held back by the rate limit %s", rate);
	q = db_prepare(db, "UPDATE delivery SET state = 'held', done_at ="
	    " coalesce(done_at, ?1), next_at = ?2, result = ?3 WHERE sub = ?4"
	    " AND ((state = 'pending' AND attempts = 0 AND next_at <= ?1)"
	    " OR state = 'held')");
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, reopen);
	sqlite3_bind_text(q, 3, why, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, sub, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = db_fail(db);
	sqlite3_finalize(q);
	return rc;
}

/* "12 alerts held back by the rate limit 5/1h since TIME: pump_vib 10,
 * fan 2" into a memstream; the count and the worst severity out. */
static char *
notice_text(struct db *db, const char *sub, const char *rate,
    long long *count, const char **severity)
{
	static const char *const levels[] = { "info", "warning", "critical" };
	sqlite3_stmt *q = db_prepare(db, "SELECT count(*), min(d.done_at),"
	    " max(CASE e.severity WHEN 'critical' THEN 2 WHEN 'warning'"
	    " THEN 1 ELSE 0 END) FROM delivery d JOIN event e"
	    " ON e.id = d.event WHERE d.sub = ? AND d.state = 'held'");
	char *text = NULL, since[TS_BUFSZ];
	size_t len = 0;
	FILE *fp;
	int names = 0;

	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_step(q);
	*count = sqlite3_column_int64(q, 0);
	ts_format_rfc3339(sqlite3_column_int64(q, 1), since);
	*severity = levels[sqlite3_column_int(q, 2)];
	sqlite3_finalize(q);
	if (*count == 0 || (fp = open_memstream(&text, &len)) == NULL)
		return NULL;
	fprintf(fp, "%lld alert%s held back by the rate limit %s since %s:",
	    *count, *count == 1 ? "" : "s", rate, since);
	q = db_prepare(db, "SELECT e.alert, count(*) FROM delivery d"
	    " JOIN event e ON e.id = d.event WHERE d.sub = ? AND d.state ="
	    " 'held' GROUP BY e.alert ORDER BY count(*) DESC, e.alert");
	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW)
		if (names++ < NOTICE_NAMES)
			fprintf(fp, "%s %s %lld", names > 1 ? "," : "",
			    (const char *)sqlite3_column_text(q, 0),
			    (long long)sqlite3_column_int64(q, 1));
	if (names > NOTICE_NAMES)
		fprintf(fp, " and %d more alert names", names - NOTICE_NAMES);
	fputs(" (alertsend log lists them)", fp);
	fclose(fp);
	sqlite3_finalize(q);
	return text;
}

/* The window has room: what was held becomes one pending notice. */
static int
summarize(struct db *db, const char *sub, const char *rate, ts_us now)
{
	const char *severity;
	long long count, id;
	char *text = notice_text(db, sub, rate, &count, &severity), num[32];
	sqlite3_stmt *q;
	int rc = 0;

	if (text == NULL)
		return 0;
	snprintf(num, sizeof num, "%lld", count);
	q = db_prepare(db, "INSERT INTO event(received, ts, alert, severity,"
	    " state, key, value, lim, message) VALUES (?1, ?1, '" NOTICE_ALERT
	    "', ?2, 'firing', ?3, ?4, ?5, ?6)");
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_text(q, 2, severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, sub, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, num, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, rate, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, text, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = db_fail(db);
	sqlite3_finalize(q);
	free(text);
	if (rc < 0)
		return rc;
	id = sqlite3_last_insert_rowid(db->h);
	q = db_prepare(db, "INSERT INTO delivery(event, sub, state, next_at)"
	    " VALUES (?1, ?2, 'pending', ?3)");
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = db_fail(db);
	sqlite3_finalize(q);
	if (rc == 0) {
		q = db_prepare(db, "UPDATE delivery SET state = 'summarized',"
		    " notice = ?1 WHERE sub = ?2 AND state = 'held'");
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_text(q, 2, sub, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = db_fail(db);
		sqlite3_finalize(q);
	}
	return rc;
}

int
rate_gate(struct db *db, const char *sub, const char *own, ts_us now)
{
	const char *rate = *own != '\0' ? own : policy.rate;
	struct rate r;
	int rc;

	effective_rate(own, &r);
	if (db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (r.n > 0 && count_sent(db, sub, now - r.per) >= r.n)
		rc = hold(db, sub, rate, &r, now);
	else
		rc = summarize(db, sub, rate, now);
	if (rc == 0)
		rc = db_exec(db, "COMMIT");
	if (rc < 0)
		db_exec(db, "ROLLBACK");
	return rc;
}

int
rate_sent(struct db *db, const char *sub, const char *own, ts_us now)
{
	static const char add_sql[] = "INSERT INTO sent(sub, at)"
	    " VALUES (?, ?)";
	static const char prune_sql[] = "DELETE FROM sent WHERE sub = ?"
	    " AND at <= ?";
	struct rate r;
	sqlite3_stmt *q;
	int rc = 0;

	effective_rate(own, &r);
	if (r.n == 0)
		return 0;
	q = db_cached(db, add_sql);
	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = db_fail(db);
	sqlite3_reset(q);
	/* what has left the window is of no more use */
	q = db_cached(db, prune_sql);
	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now - r.per);
	if (rc == 0 && sqlite3_step(q) != SQLITE_DONE)
		rc = db_fail(db);
	sqlite3_reset(q);
	return rc;
}
