/*
 * alertsend: alert events to subscribers, through a durable outbox in
 * SQLite. See alertsend(1).
 *
 * Every event read is committed (with one delivery row per subscriber it
 * matches) before the next burst of input is read; deliveries are then
 * made from the database, so a restart loses nothing.
 */
#ifndef ALERTSEND_H
#define ALERTSEND_H

#include <sqlite3.h>

#include "tstime.h"

#define EVENT_COLS 8    /* ts,alert,severity,state,key,value,limit,message */

struct event {
	long long id;
	ts_us ts;
	ts_us started;          /* a resolved one: when it fired, or 0 */
	const char *f[EVENT_COLS];      /* the fields as text, borrowed */
};

enum { F_TS, F_ALERT, F_SEVERITY, F_STATE, F_KEY, F_VALUE, F_LIMIT,
	F_MESSAGE };
extern const char *const event_cols[EVENT_COLS];

/* How deliveries are made: the main options. */
struct options {
	ts_us repeat;           /* --repeat: a firing again is not sent */
	ts_us group_wait;       /* --group-wait: events gathered per subscriber */
	ts_us max_age;          /* --max-age: a delivery older is given up */
	const char *sendmail;   /* --sendmail: the email channel's program */
	const char *rate;       /* --rate: for subscribers without their own */
	double timeout;         /* --timeout: seconds a delivery may take */
	const char *stats;      /* --stats FILE or fd:N */
	ts_us stats_every;
};
extern struct options policy;

struct db;

/* --stats: the figures (lib/stats), health.s NULL without it */
struct health {
	struct stats *s;
	int events, sent, retried, failed, expired, pending;
};
extern struct health health;
/* outbox.c: open --stats (figures named health/alertsend/HOST); write
 * what is left and close */
void health_open(void);
void health_close(struct db *db);

/* db.c */
#define DB_CACHED_MAX 16

struct db {
	sqlite3 *h;
	const char *name;
	/* statements run per event, prepared once: keyed by their SQL
	 * literal's address */
	const char *cached_sql[DB_CACHED_MAX];
	sqlite3_stmt *cached[DB_CACHED_MAX];
};
/* Open (making it if need be) or exit 1 with a message. */
void db_open(struct db *db, const char *path);
void db_close(struct db *db);
/* Run SQL with no result; 0, or -1 after a message. */
int db_exec(struct db *db, const char *sql);
/* A statement or exit 1 (a bug or a damaged database). */
sqlite3_stmt *db_prepare(struct db *db, const char *sql);
/* The statement for a SQL literal, prepared on first use and kept until
 * db_close(); reset, bindings cleared. The caller must not finalize it. */
sqlite3_stmt *db_cached(struct db *db, const char *sql);
/* After a failed step: "alertsend: DB: reason"; returns -1. */
int db_fail(struct db *db);

/* subs.c */
int cmd_sub(const char *path, int argc, char **argv);
/* Does the event pass every line of match ("alert=GLOB",
 * "severity>=warning", "COLUMN=GLOB")? */
int match_event(const char *match, const struct event *e);
/* A --match expression checked; exits 2 if it is not one. */
const char *match_option(const char *expr);

/* silence.c */
int cmd_silence(const char *path, int argc, char **argv);
/* The first silence in force at now that e matches, or 0. */
long long silenced_by(struct db *db, const struct event *e, ts_us now);

/* rate.c */
struct rate {
	int n;                  /* notifications in per; 0: no limit */
	ts_us per;
};
/* "N/DUR", or "none" or "" for no limit; 0, or -1 if it is none. */
int rate_parse(const char *s, struct rate *r);
/* A --rate argument checked; exits 2 if it is not one. */
const char *rate_option(const char *arg);
/* Before a subscriber's due deliveries go out (own: its own rate or ""):
 * hold the fresh ones back if its window is full, else turn what was
 * held into a pending notice; 0, or -1 after a message. */
int rate_gate(struct db *db, const char *sub, const char *own, ts_us now);
/* Count a notification sent (inside the caller's transaction). */
int rate_sent(struct db *db, const char *sub, const char *own, ts_us now);

/* outbox.c */
/* Read events from fp and commit them with their deliveries, a burst at a
 * time; 0, or -1 after a message. */
int intake(struct db *db, FILE *fp, const char *name, int skip_bad);
/* Deliver what is due; 0, or -1 after a message on a database error
 * (failed deliveries are kept for later, not an error). */
int deliver_due(struct db *db);
/* Make every pending delivery due now (after an outage is fixed). */
int retry_now(struct db *db);
int cmd_log(const char *path, int argc, char **argv);

/* channels.c */
struct subscriber_info {
	const char *name, *channel, *target;
	const char *secret;     /* "file:PATH", "env:VAR" or "" */
	const char *rate;       /* its own --rate, or "" */
};
enum { SEND_OK = 0, SEND_RETRY = -1, SEND_FAILED = -2 };
/* Send one notification of n events to a subscriber: SEND_OK, or
 * SEND_RETRY (a server error, the network) or SEND_FAILED (refused for
 * good, such as an HTTP 4xx) with the reason in err. */
int channel_send(const struct subscriber_info *s, const struct event *ev,
    int n, char *err, size_t errsz);
/* Is this a channel we know? */
int channel_known(const char *channel);

/* syslog.c */
int send_syslog(const struct subscriber_info *s, const struct event *ev,
    int n, char *err, size_t errsz);
/* Is target a syslog channel's "[FACILITY][@DEST]"? */
int syslog_target_ok(const char *target);

#endif
