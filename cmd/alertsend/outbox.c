/*
 * outbox: events in, deliveries out.
 *
 * A burst of input (what is there to read without waiting, up to
 * BURST_MAX events) is one transaction: its events and a pending delivery
 * for every subscriber each one matches. Only after the commit is the next
 * burst read, so an event that was read is never lost. Deliveries are
 * grouped per subscriber into one notification and retried with
 * exponential backoff while they fail.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertsend.h"
#include "cli.h"
#include "csvio.h"
#include "stats.h"
#include "xalloc.h"

#define BURST_MAX 1000
#define GROUP_MAX 100           /* events in one notification */
#define RETRY_FIRST_S 10
#define RETRY_MAX_S 3600
#define STATS_WAKE_MS 500       /* --stats: a quiet input looks this often */

/* The defaults; main() sets them from the options. */
struct options policy = {
	.repeat = INT64_C(4) * 3600 * TS_US_PER_S,
	.group_wait = INT64_C(30) * TS_US_PER_S,
	.max_age = INT64_C(86400) * TS_US_PER_S,
	/* -i: a line holding only "." is text, not the end of the mail */
	.sendmail = "/usr/sbin/sendmail -t -i",
	.rate = "",
	.timeout = 10,
};

struct subscriber {
	char *name, *match;
};

struct subs {
	struct subscriber *s;
	size_t n;
};

static void
load_subs(struct db *db, struct subs *ss)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT name, match FROM sub"
	    " ORDER BY name");
	size_t cap = 0;

	ss->n = 0;
	ss->s = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (ss->n == cap) {
			cap = cap * 2 + 8;
			ss->s = xreallocarray(ss->s, cap, sizeof *ss->s);
		}
		ss->s[ss->n].name = xstrdup((const char *)
		    sqlite3_column_text(st, 0));
		ss->s[ss->n++].match = xstrdup((const char *)
		    sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
}

static void
free_subs(struct subs *ss)
{
	for (size_t i = 0; i < ss->n; i++) {
		free(ss->s[i].name);
		free(ss->s[i].match);
	}
	free(ss->s);
}

struct reader {
	struct csv_in *in;
	int col[EVENT_COLS];
	long bad;
};

/* The current row as an event; -1 (with a message) if it is not one. */
static int
row_event(struct reader *rd, struct event *e)
{
	for (int i = 0; i < EVENT_COLS; i++)
		e->f[i] = csvin_field(rd->in, (size_t)rd->col[i]);
	if (ts_parse(e->f[F_TS], &e->ts) < 0)
		return csvin_field_error(rd->in, (size_t)rd->col[F_TS],
		    "not a time");
	if (strcmp(e->f[F_STATE], "firing") != 0 &&
	    strcmp(e->f[F_STATE], "resolved") != 0)
		return csvin_field_error(rd->in, (size_t)rd->col[F_STATE],
		    "not firing or resolved");
	if (*e->f[F_ALERT] == '\0')
		return csvin_field_error(rd->in, (size_t)rd->col[F_ALERT],
		    "empty");
	return 0;
}

/*
 * Whether subscriber sub is sent event e: a firing of an alert and key it
 * was sent less than --repeat ago is not ("deduped"), and a resolved one
 * only if it was sent the firing ("skipped" otherwise). Returns the state
 * of the delivery and sets *next_at: events for one subscriber wait
 * --group-wait, then go out together.
 */
static const char *
route(struct db *db, const char *sub, const struct event *e, ts_us now,
    ts_us *next_at, ts_us *started)
{
	static const char get_sql[] = "SELECT firing, last_fired FROM notice"
	    " WHERE sub = ? AND alert = ? AND key = ?";
	static const char set_sql[] = "INSERT OR REPLACE INTO notice(sub,"
	    " alert, key, firing, last_fired) VALUES (?, ?, ?, ?, ?)";
	static const char group_sql[] = "SELECT min(next_at) FROM delivery"
	    " WHERE sub = ? AND state = 'pending' AND attempts = 0";
	sqlite3_stmt *q = db_cached(db, get_sql);
	int found, firing = 0, fires = strcmp(e->f[F_STATE], "firing") == 0;
	ts_us last = 0;
	const char *state = "pending";

	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, e->f[F_ALERT], -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, e->f[F_KEY], -1, SQLITE_STATIC);
	if ((found = sqlite3_step(q) == SQLITE_ROW)) {
		firing = sqlite3_column_int(q, 0);
		last = sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	if (fires && found && firing && e->ts - last < policy.repeat)
		return "deduped";
	if (!fires && !firing)
		return "skipped";
	*started = fires ? e->ts : last;
	q = db_cached(db, set_sql);
	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, e->f[F_ALERT], -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, e->f[F_KEY], -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, fires);
	sqlite3_bind_int64(q, 5, fires ? e->ts : last);
	if (sqlite3_step(q) != SQLITE_DONE)
		state = NULL;
	sqlite3_reset(q);
	/* join the group already waiting, or start one */
	q = db_cached(db, group_sql);
	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	*next_at = sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL ?
	    sqlite3_column_int64(q, 0) : now + policy.group_wait;
	sqlite3_reset(q);
	return state;
}

static int
store_event(struct db *db, const struct subs *ss, const struct event *e,
    sqlite3_stmt *ins_event, sqlite3_stmt *ins_delivery, ts_us now)
{
	long long id, silence;
	char why[64];

	sqlite3_reset(ins_event);
	sqlite3_bind_int64(ins_event, 1, now);
	sqlite3_bind_int64(ins_event, 2, e->ts);
	for (int i = 1; i < EVENT_COLS; i++)
		sqlite3_bind_text(ins_event, i + 2, e->f[i], -1, SQLITE_STATIC);
	if (sqlite3_step(ins_event) != SQLITE_DONE)
		return db_fail(db);
	id = sqlite3_last_insert_rowid(db->h);
	silence = silenced_by(db, e, now);
	snprintf(why, sizeof why, "silenced by silence %lld", silence);
	for (size_t i = 0; i < ss->n; i++) {
		ts_us next_at = now, started = 0;
		const char *state = "silenced";
		if (!match_event(ss->s[i].match, e))
			continue;
		if (silence == 0 && (state = route(db, ss->s[i].name, e, now,
		    &next_at, &started)) == NULL)
			return db_fail(db);
		sqlite3_reset(ins_delivery);
		sqlite3_bind_int64(ins_delivery, 1, id);
		sqlite3_bind_text(ins_delivery, 2, ss->s[i].name, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(ins_delivery, 3, state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_delivery, 4, next_at);
		sqlite3_bind_int64(ins_delivery, 5, now);
		if (strcmp(state, "deduped") == 0)
			sqlite3_bind_text(ins_delivery, 6, "fired again within "
			    "--repeat", -1, SQLITE_STATIC);
		else if (strcmp(state, "skipped") == 0)
			sqlite3_bind_text(ins_delivery, 6, "resolved; its "
			    "firing was not sent here", -1, SQLITE_STATIC);
		else if (silence != 0)
			sqlite3_bind_text(ins_delivery, 6, why, -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_null(ins_delivery, 6);
		if (strcmp(state, "pending") == 0)
			sqlite3_bind_null(ins_delivery, 5);
		if (started != 0)
			sqlite3_bind_int64(ins_delivery, 7, started);
		else
			sqlite3_bind_null(ins_delivery, 7);
		if (sqlite3_step(ins_delivery) != SQLITE_DONE)
			return db_fail(db);
	}
	return 0;
}

/* The next time a delivery is due, or -1 for none. */
static ts_us
next_due(struct db *db)
{
	static const char sql[] = "SELECT min(next_at) FROM delivery"
	    " WHERE state IN ('pending', 'held')";
	sqlite3_stmt *q = db_cached(db, sql);
	ts_us t = -1;

	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return t;
}

/* Wait for input, delivering what falls due meanwhile. */
static int
wait_for_input(struct db *db, struct reader *rd)
{
	for (;;) {
		ts_us due = next_due(db), now = ts_now();
		int ms = due < 0 ? -1 : due <= now ? 0 :
		    (int)((due - now) / 1000 + 1);
		if (health.s != NULL) {
			stats_tick(health.s, now);
			/* a quiet input's periods still end */
			if (ms < 0 || ms > STATS_WAKE_MS)
				ms = STATS_WAKE_MS;
		}
		if (due >= 0 && due <= now) {
			if (deliver_due(db) < 0)
				return -1;
			/* what failed waits for its retry, not a busy loop */
			if (next_due(db) <= now && next_due(db) >= 0)
				ms = 1000;
			else
				continue;
		}
		if (csvin_wait(rd->in, ms))
			return 0;
	}
}

/* One burst: 1 with more to read, 0 at the end of the input, -1 on an
 * error (a database error loses the burst's events: the rollback says
 * they were not taken; an unreadable record ends the input after the
 * burst before it is committed). */
static int
read_burst(struct db *db, struct reader *rd, sqlite3_stmt *ins_event,
    sqlite3_stmt *ins_delivery)
{
	struct subs ss;
	struct event e;
	ts_us now = ts_now();
	int got = 1, n = 0, failed = 0;

	load_subs(db, &ss);
	if (db_exec(db, "BEGIN IMMEDIATE") < 0) {
		free_subs(&ss);
		return -1;
	}
	do {
		if ((got = csvin_read(rd->in)) <= 0)
			break;
		if (row_event(rd, &e) < 0) {
			warnx("%s", csvin_error(rd->in));
			rd->bad++;
		} else if (store_event(db, &ss, &e, ins_event, ins_delivery,
		    now) < 0) {
			failed = 1;
			break;
		} else {
			n++;
		}
	} while (n < BURST_MAX && csvin_wait(rd->in, 0));
	free_subs(&ss);
	if (failed || db_exec(db, "COMMIT") < 0) {
		db_exec(db, "ROLLBACK");
		return -1;
	}
	if (health.s != NULL)
		stats_add(health.s, health.events, n);
	if (got < 0) {
		warnx("%s", csvin_error(rd->in));
		return -1;
	}
	return got == 0 ? 0 : 1;
}

int
intake(struct db *db, FILE *fp, const char *name, int skip_bad)
{
	struct reader rd = { csvin_new(fp, name), { 0 }, 0 };
	sqlite3_stmt *ins_event = db_prepare(db, "INSERT INTO event(received,"
	    " ts, alert, severity, state, key, value, lim, message)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_stmt *ins_delivery = db_prepare(db, "INSERT INTO delivery("
	    "event, sub, state, next_at, done_at, result, started)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)");
	int rc = 0;

	(void)skip_bad;
	if (csvin_header(rd.in) < 0) {
		warnx("%s", csvin_error(rd.in));
		rc = -1;
	}
	for (int i = 0; rc == 0 && i < EVENT_COLS; i++)
		if ((rd.col[i] = csvin_col(rd.in, event_cols[i])) < 0) {
			warnx("%s: no column \"%s\" (alert events have "
			    "ts,alert,severity,state,key,value,limit,message)",
			    name, event_cols[i]);
			rc = -1;
		}
	if (rc == 0)
		csvin_background(rd.in);
	while (rc == 0 && (rc = wait_for_input(db, &rd)) == 0 &&
	    (rc = read_burst(db, &rd, ins_event, ins_delivery)) > 0)
		rc = deliver_due(db) < 0 ? -1 : 0;
	/* the input ended: what was committed goes out now, without
	 * waiting for its group */
	if (db_exec(db, "UPDATE delivery SET next_at = 0 WHERE state ="
	    " 'pending' AND attempts = 0") < 0 || deliver_due(db) < 0)
		rc = -1;
	sqlite3_finalize(ins_event);
	sqlite3_finalize(ins_delivery);
	csvin_free(rd.in);
	return rc < 0 || rd.bad > 0 ? -1 : 0;
}

/* Seconds before attempt number n + 1: 10, 20, 40 ... up to an hour. */
static long long
backoff_s(int attempts)
{
	long long s = RETRY_FIRST_S;

	for (int i = 1; i < attempts && s < RETRY_MAX_S; i++)
		s *= 2;
	return s < RETRY_MAX_S ? s : RETRY_MAX_S;
}

/* One notification's events: up to GROUP_MAX of a subscriber's pending
 * deliveries that are due, oldest first. */
struct group {
	struct event ev[GROUP_MAX];
	long long ids[GROUP_MAX];
	char *text[GROUP_MAX][EVENT_COLS];
	int n, attempts;        /* the most any of them has had */
};

static void
load_group(struct db *db, const char *sub, ts_us now, struct group *g)
{
	sqlite3_stmt *q = db_prepare(db, "SELECT d.id, d.attempts, e.ts,"
	    " coalesce(d.started, 0), e.alert, e.severity, e.state, e.key,"
	    " e.value, e.lim, e.message"
	    " FROM delivery d JOIN event e ON e.id = d.event WHERE d.sub = ?"
	    " AND d.state = 'pending' AND d.next_at <= ? ORDER BY d.id"
	    " LIMIT ?");
	struct event *ev;

	sqlite3_bind_text(q, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int(q, 3, GROUP_MAX);
	while (g->n < GROUP_MAX && sqlite3_step(q) == SQLITE_ROW) {
		ev = &g->ev[g->n];
		g->ids[g->n] = sqlite3_column_int64(q, 0);
		if (sqlite3_column_int(q, 1) > g->attempts)
			g->attempts = sqlite3_column_int(q, 1);
		ev->ts = sqlite3_column_int64(q, 2);
		ev->started = sqlite3_column_int64(q, 3);
		for (int i = 1; i < EVENT_COLS; i++) {
			g->text[g->n][i] = xstrdup((const char *)
			    sqlite3_column_text(q, i + 3));
			ev->f[i] = g->text[g->n][i];
		}
		ev->f[F_TS] = "";
		g->n++;
	}
	sqlite3_finalize(q);
}

static void
free_group(struct group *g)
{
	for (int i = 0; i < g->n; i++)
		for (int k = 1; k < EVENT_COLS; k++)
			free(g->text[i][k]);
}

/* What the channel said, onto each delivery of the group (and the rate
 * gate's count when sent), in one transaction. */
static int
record_result(struct db *db, const struct subscriber_info *si,
    const struct group *g, int sent, const char *err, ts_us now)
{
	sqlite3_stmt *u = db_prepare(db, "UPDATE delivery SET"
	    " attempts = attempts + 1, state = ?, next_at = ?, done_at = ?,"
	    " result = ? WHERE id = ?");
	int ok = sent == SEND_OK, rc = db_exec(db, "BEGIN IMMEDIATE");

	for (int i = 0; rc == 0 && i < g->n; i++) {
		sqlite3_reset(u);
		sqlite3_bind_text(u, 1, ok ? "sent" : sent == SEND_FAILED ?
		    "failed" : "pending", -1, SQLITE_STATIC);
		sqlite3_bind_int64(u, 2, now + backoff_s(g->attempts + 1) *
		    TS_US_PER_S);
		sqlite3_bind_int64(u, 3, now);
		sqlite3_bind_text(u, 4, ok ? "ok" : err, -1, SQLITE_STATIC);
		sqlite3_bind_int64(u, 5, g->ids[i]);
		if (sqlite3_step(u) != SQLITE_DONE)
			rc = db_fail(db);
	}
	sqlite3_finalize(u);
	if (rc == 0 && ok)
		rc = rate_sent(db, si->name, si->rate, now);
	if (rc == 0)
		rc = db_exec(db, "COMMIT");
	if (rc < 0)
		db_exec(db, "ROLLBACK");
	return rc;
}

/* The due deliveries of one subscriber, as one notification of at most
 * GROUP_MAX events; 1 when it was full and sent, so call again. */
static int
deliver_sub(struct db *db, const struct subscriber_info *si, ts_us now)
{
	struct group g = { .n = 0 };
	char err[512] = "";
	int sent, rc;

	if (rate_gate(db, si->name, si->rate, now) < 0)
		return -1;
	load_group(db, si->name, now, &g);
	if (g.n == 0)
		return 0;
	sent = channel_send(si, g.ev, g.n, err, sizeof err);
	if (health.s != NULL)
		stats_add(health.s, sent == SEND_OK ? health.sent :
		    sent == SEND_RETRY ? health.retried : health.failed, g.n);
	if (sent == SEND_RETRY)
		warnx("%s: %s: %s (retry in %llds)", si->name, si->channel, err,
		    backoff_s(g.attempts + 1));
	else if (sent == SEND_FAILED)
		warnx("%s: %s: %s (not retried)", si->name, si->channel, err);
	rc = record_result(db, si, &g, sent, err, now);
	free_group(&g);
	/* a full notification sent: there may be more */
	return rc == 0 && sent == SEND_OK && g.n == GROUP_MAX ? 1 : rc;
}

/* Deliveries still failing --max-age after their event came in are given
 * up: an alert a day late helps no one, and the log says so. Only those
 * due now are looked at (the rest are not about to be sent), each looking
 * up its event by key: "event IN (SELECT ... WHERE received < ?)" read
 * the whole event table on every call. */
static int
expire_old(struct db *db, ts_us now)
{
	sqlite3_stmt *q = db_prepare(db, "UPDATE delivery SET state ="
	    " 'expired', done_at = ?1, result = 'not delivered within --max-age'"
	    " WHERE state = 'pending' AND next_at <= ?1 AND (SELECT received"
	    " FROM event WHERE id = delivery.event) < ?2");
	int rc;

	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, now - policy.max_age);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : db_fail(db);
	sqlite3_finalize(q);
	if (rc == 0 && sqlite3_changes(db->h) > 0) {
		warnx("%d deliveries given up: older than --max-age",
		    sqlite3_changes(db->h));
		if (health.s != NULL)
			stats_add(health.s, health.expired,
			    sqlite3_changes(db->h));
	}
	return rc;
}

/* The deliveries still to make: a backlog that grows is a subscriber
 * that cannot be reached. */
static void
note_pending(struct db *db)
{
	sqlite3_stmt *q;

	if (health.s == NULL)
		return;
	q = db_cached(db, "SELECT count(*) FROM delivery WHERE state IN"
	    " ('pending', 'held')");
	if (sqlite3_step(q) == SQLITE_ROW)
		stats_set(health.s, health.pending,
		    (double)sqlite3_column_int64(q, 0));
}

int
deliver_due(struct db *db)
{
	ts_us now = ts_now();
	sqlite3_stmt *q = db_prepare(db, "SELECT DISTINCT s.name, s.channel,"
	    " s.target, s.secret, s.rate FROM delivery d JOIN sub s"
	    " ON s.name = d.sub WHERE d.state IN ('pending', 'held')"
	    " AND d.next_at <= ? ORDER BY s.name");
	struct { char *name, *channel, *target, *secret, *rate; } due[256];
	int n = 0, rc = expire_old(db, now);

	sqlite3_bind_int64(q, 1, now);
	while (n < 256 && sqlite3_step(q) == SQLITE_ROW) {
		due[n].name = xstrdup((const char *)sqlite3_column_text(q, 0));
		due[n].channel = xstrdup((const char *)sqlite3_column_text(q,
		    1));
		due[n].target = xstrdup((const char *)sqlite3_column_text(q,
		    2));
		due[n].secret = xstrdup((const char *)sqlite3_column_text(q,
		    3));
		due[n].rate = xstrdup((const char *)sqlite3_column_text(q, 4));
		n++;
	}
	sqlite3_finalize(q);
	for (int i = 0; i < n; i++) {
		struct subscriber_info si = { due[i].name, due[i].channel,
			due[i].target, due[i].secret, due[i].rate };
		while (rc == 0 && (rc = deliver_sub(db, &si, now)) == 1)
			rc = 0;
		free(due[i].name);
		free(due[i].channel);
		free(due[i].target);
		free(due[i].secret);
		free(due[i].rate);
	}
	note_pending(db);
	return rc;
}

struct health health;

void
health_open(void)
{
	health.s = stats_open(policy.stats, "alertsend", NULL,
	    policy.stats_every);
	health.events = stats_figure(health.s, "events", STATS_COUNT);
	health.sent = stats_figure(health.s, "sent", STATS_COUNT);
	health.retried = stats_figure(health.s, "retried", STATS_COUNT);
	health.failed = stats_figure(health.s, "failed", STATS_COUNT);
	health.expired = stats_figure(health.s, "expired", STATS_COUNT);
	health.pending = stats_figure(health.s, "pending", STATS_GAUGE);
	stats_tick(health.s, ts_now());
}

void
health_close(struct db *db)
{
	if (health.s == NULL)
		return;
	note_pending(db);
	stats_tick(health.s, ts_now());
	stats_close(health.s);
	health.s = NULL;
}

int
retry_now(struct db *db)
{
	return db_exec(db, "UPDATE delivery SET next_at = 0 WHERE state ="
	    " 'pending'");
}

int
cmd_log(const char *path, int argc, char **argv)
{
	static const char *const header[] = { "time", "sub", "alert",
		"severity", "state", "key", "delivery", "attempts", "result" };
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 } };
	ts_us since = INT64_MIN;
	struct csv_out out;
	struct db db;
	sqlite3_stmt *q;
	int opt, rc, tty = isatty(STDOUT_FILENO);

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt != 's')
			cli_usage_hint();
		if (ts_parse_when(optarg, ts_now(), &since) < 0)
			cli_usage_error("--since: not a time: '%s'", optarg);
	}
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	db_open(&db, path);
	q = db_prepare(&db, "SELECT d.done_at, d.sub, e.alert, e.severity,"
	    " e.state, e.key, d.state, d.attempts, coalesce(d.result, '')"
	    " FROM delivery d JOIN event e ON e.id = d.event"
	    " WHERE (d.attempts > 0 OR d.state != 'pending') AND d.done_at >= ?"
	    " ORDER BY d.id");
	sqlite3_bind_int64(q, 1, since);
	csvout_init(&out, stdout);
	csvout_row(&out, 9, header);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		csvout_time(&out, sqlite3_column_int64(q, 0), 1);
		for (int i = 1; i < 9; i++) {
			const char *v = (const char *)sqlite3_column_text(q, i);
			/* on a terminal, an ESC from an alert's key must
			 * not move its cursor or change its colours */
			char *shown = tty ? cli_visible(v, xmalloc(
			    4 * strlen(v) + 1), 4 * strlen(v) + 1) : NULL;
			csvout_str(&out, shown != NULL ? shown : v);
			free(shown);
		}
		csvout_end(&out);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		db_fail(&db);
	db_close(&db);
	return rc == SQLITE_DONE ? 0 : 1;
}
