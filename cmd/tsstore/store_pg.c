/*
 * store_pg: the control-room backend, on PostgreSQL through libpq.
 *
 * The same rows as the SQLite store (series, chunk, tag, retention,
 * rollup, dirty) in a schema of their own, "tsstore"; chunks are the same
 * coded bytes, in a table partitioned by range of t0 (one partition a
 * day, made on demand), so retention can drop whole partitions. The
 * schema is in tsstore(1).
 *
 * Writes: a batch is one transaction. Chunks put in it are gathered and
 * sent by one binary COPY when the batch commits (or before a read of a
 * series that has chunks waiting). Two writers never merge into one
 * series at once: a writer holds a transaction-level advisory lock on each
 * series it touches. New partitions are made and attached on a second
 * connection, in a transaction of their own: ATTACH PARTITION does not
 * wait for the writers inserting into the table, while CREATE TABLE ...
 * PARTITION OF would, and a writer waiting on itself would never end.
 *
 * The connection string is libpq's (a postgresql:// URI or keywords); PG*
 * variables and the password file work as in psql. Messages name the
 * server by that string with any password taken out.
 */
#include <err.h>
#include <libpq-fe.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "xalloc.h"

#define FORMAT "tsstore 1"
#define DAY_US 86400000000LL

static const char schema[] =
    "CREATE SCHEMA IF NOT EXISTS tsstore;"
    "CREATE TABLE tsstore.meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE tsstore.series(id bigint GENERATED ALWAYS AS IDENTITY"
    " PRIMARY KEY, name text COLLATE \"C\" NOT NULL UNIQUE);"
    "CREATE TABLE tsstore.chunk(series bigint NOT NULL, t0 bigint NOT NULL,"
    " t1 bigint NOT NULL, n integer NOT NULL, data bytea NOT NULL,"
    " PRIMARY KEY(series, t0)) PARTITION BY RANGE (t0);"
    /* coded chunks do not compress: do not try */
    "ALTER TABLE tsstore.chunk ALTER data SET STORAGE EXTERNAL;"
    "CREATE TABLE tsstore.tag(series bigint NOT NULL, key text NOT NULL,"
    " value text NOT NULL, PRIMARY KEY(series, key));"
    "CREATE TABLE tsstore.retention(pattern text PRIMARY KEY,"
    " keep_us bigint NOT NULL);"
    "CREATE TABLE tsstore.rollup(pattern text NOT NULL,"
    " step_us bigint NOT NULL, aggs text NOT NULL,"
    " PRIMARY KEY(pattern, step_us));"
    "CREATE TABLE tsstore.dirty(series bigint PRIMARY KEY,"
    " t0 bigint NOT NULL, t1 bigint NOT NULL);"
    "INSERT INTO tsstore.meta VALUES ('format', '" FORMAT "');"
    /* partitions are made by the store's owner, for any writer */
    "CREATE FUNCTION tsstore.make_partition(start bigint) RETURNS void"
    " LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $f$"
    " DECLARE part text := 'chunk_' || to_char(to_timestamp(start / 1e6)"
    " AT TIME ZONE 'UTC', 'YYYYMMDD'); BEGIN"
    " IF start % 86400000000 <> 0 THEN"
    " RAISE 'tsstore: a partition starts at midnight UTC'; END IF;"
    " PERFORM pg_advisory_xact_lock(1953719668, 0);"
    " IF to_regclass('tsstore.' || part) IS NULL THEN"
    " EXECUTE format('CREATE TABLE tsstore.%I (LIKE tsstore.chunk"
    " INCLUDING ALL)', part);"
    " EXECUTE format('ALTER TABLE tsstore.chunk ATTACH PARTITION"
    " tsstore.%I FOR VALUES FROM (%s) TO (%s)', part, start,"
    " start + 86400000000);"
    " END IF; END $f$;"
    /*
     * A site's role (scripts/pg/site-role.sql) sees and writes only the
     * series under its site's name; a role without a site (the owner,
     * an engineer's, Grafana's) whatever it is granted.
     */
    "CREATE TABLE tsstore.site_role(role name PRIMARY KEY,"
    " site text NOT NULL);"
    /* the map is the owner's to read; the role asking is the caller
     * (in a SECURITY DEFINER function current_user is the owner) */
    "CREATE FUNCTION tsstore.site_of(r name) RETURNS text LANGUAGE sql"
    " STABLE SECURITY DEFINER SET search_path = pg_catalog AS"
    " $f$SELECT site FROM tsstore.site_role WHERE role = r$f$;"
    "CREATE FUNCTION tsstore.my_site() RETURNS text LANGUAGE sql STABLE"
    " AS $f$SELECT tsstore.site_of(current_user)$f$;"
    "CREATE FUNCTION tsstore.mine(series text) RETURNS boolean"
    " LANGUAGE sql STABLE AS $f$SELECT tsstore.my_site() IS NULL OR"
    " left($1, length(tsstore.my_site()) + 1) = tsstore.my_site() || '/'$f$;"
    "ALTER TABLE tsstore.series ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY site ON tsstore.series USING (tsstore.mine(name));"
    "ALTER TABLE tsstore.chunk ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY site ON tsstore.chunk USING (tsstore.my_site() IS NULL"
    " OR series IN (SELECT id FROM tsstore.series));"
    "ALTER TABLE tsstore.tag ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY site ON tsstore.tag USING (tsstore.my_site() IS NULL"
    " OR series IN (SELECT id FROM tsstore.series));"
    "ALTER TABLE tsstore.dirty ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY site ON tsstore.dirty USING (tsstore.my_site() IS NULL"
    " OR series IN (SELECT id FROM tsstore.series));"
    "ALTER TABLE tsstore.meta ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY site ON tsstore.meta USING (tsstore.my_site() IS NULL"
    " OR key = 'format' OR key = 'ship:' || tsstore.my_site())"
    " WITH CHECK (tsstore.my_site() IS NULL"
    " OR key = 'ship:' || tsstore.my_site());";

enum {
	Q_SERIES_GET, Q_SERIES_ADD, Q_SEEK_LE, Q_SEEK_GT, Q_DELETE,
	Q_TAG_SET, Q_TAG_DELETE, Q_TAGS, Q_POLICY_SET, Q_POLICY_DELETE,
	Q_ROLLUP_SET, Q_ROLLUP_DELETE, Q_DIRTY_MARK, Q_DIRTY_DELETE,
	Q_LOCK, Q_META_GET, Q_META_SET, Q_COUNT
};

static const char *const sql[Q_COUNT] = {
	[Q_SERIES_GET] = "SELECT id FROM tsstore.series WHERE name = $1",
	[Q_SERIES_ADD] = "INSERT INTO tsstore.series(name) VALUES ($1)"
	    " ON CONFLICT (name) DO NOTHING RETURNING id",
	[Q_SEEK_LE] = "SELECT series, t0, t1, n, data FROM tsstore.chunk"
	    " WHERE series = $1 AND t0 <= $2 ORDER BY t0 DESC LIMIT 1",
	[Q_SEEK_GT] = "SELECT series, t0, t1, n, data FROM tsstore.chunk"
	    " WHERE series = $1 AND t0 > $2 ORDER BY t0 LIMIT 1",
	[Q_DELETE] = "DELETE FROM tsstore.chunk WHERE series = $1 AND t0 = $2",
	[Q_TAG_SET] = "INSERT INTO tsstore.tag VALUES ($1, $2, $3)"
	    " ON CONFLICT (series, key) DO UPDATE SET value = excluded.value",
	[Q_TAG_DELETE] = "DELETE FROM tsstore.tag WHERE series = $1"
	    " AND key = $2",
	[Q_TAGS] = "SELECT key, value FROM tsstore.tag WHERE series = $1"
	    " ORDER BY key COLLATE \"C\"",
	[Q_POLICY_SET] = "INSERT INTO tsstore.retention VALUES ($1, $2)"
	    " ON CONFLICT (pattern) DO UPDATE SET keep_us = excluded.keep_us",
	[Q_POLICY_DELETE] = "DELETE FROM tsstore.retention WHERE pattern = $1",
	[Q_ROLLUP_SET] = "INSERT INTO tsstore.rollup VALUES ($1, $2, $3)"
	    " ON CONFLICT (pattern, step_us) DO UPDATE SET aggs = excluded.aggs",
	[Q_ROLLUP_DELETE] = "DELETE FROM tsstore.rollup WHERE pattern = $1"
	    " AND step_us = $2",
	[Q_DIRTY_MARK] = "INSERT INTO tsstore.dirty VALUES ($1, $2, $3)"
	    " ON CONFLICT (series) DO UPDATE SET"
	    " t0 = least(dirty.t0, excluded.t0),"
	    " t1 = greatest(dirty.t1, excluded.t1)",
	[Q_DIRTY_DELETE] = "DELETE FROM tsstore.dirty WHERE series = $1",
	/* the key's first half says "tsstore series" */
	[Q_LOCK] = "SELECT pg_advisory_xact_lock(1953719668, $1::integer)",
	[Q_META_GET] = "SELECT value FROM tsstore.meta WHERE key = $1",
	[Q_META_SET] = "INSERT INTO tsstore.meta VALUES ($1, $2)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
};

/* A set of 64-bit numbers, small and unordered. */
struct idset {
	long long *v;
	size_t n, cap;
};

struct pg_store {
	struct store base;
	PGconn *conn;
	PGconn *ddl;            /* the second connection, made when needed */
	char *conninfo;
	char *display;          /* conninfo without a password */
	int prepared[Q_COUNT];
	int in_tx, have_rollups;
	unsigned char *copy;    /* binary COPY rows waiting */
	size_t copylen, copycap;
	struct idset waiting;   /* series with chunks in copy */
	int rls;                /* row security applies to us: no COPY */
	struct idset locked;    /* series this transaction holds */
	struct idset parts;     /* partition starts known to exist */
};

static struct pg_store *
self(struct store *s)
{
	return (struct pg_store *)s;
}

static int
idset_has(const struct idset *s, long long v)
{
	for (size_t i = s->n; i-- > 0;)
		if (s->v[i] == v)
			return 1;
	return 0;
}

static void
idset_add(struct idset *s, long long v)
{
	if (s->n == s->cap) {
		s->cap = s->cap * 2 + 16;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n++] = v;
}

/*
 * libpq's message on one line: an indented line that goes on with a small
 * letter joins the one before with a space, other lines with "; ".
 */
static void
set_err(struct pg_store *s, const char *msg)
{
	size_t n = (size_t)snprintf(s->base.err, sizeof s->base.err, "%s: ",
	    s->display), start = n;
	const char *p = msg;

	while (*p != '\0' && n + 3 < sizeof s->base.err) {
		size_t run = strspn(p, " \t\n");
		if (run > 0) {
			if (p[run] == '\0')
				break;
			const char *nl = memchr(p, '\n', run);
			if (n > start && nl != NULL && (nl[1] != '\t' ||
			    !(p[run] >= 'a' && p[run] <= 'z')))
				s->base.err[n++] = ';';
			if (n > start)
				s->base.err[n++] = ' ';
			p += run;
			continue;
		}
		s->base.err[n++] = *p++;
	}
	s->base.err[n] = '\0';
}

/* The server's notices (a shutdown's warning) are not ours to print: what
 * went wrong comes back as an error. */
static void
quiet(void *arg, const char *message)
{
}

static int
fail(struct pg_store *s, PGconn *c)
{
	set_err(s, PQerrorMessage(c));
	return -1;
}

/* The result of a command, or NULL (and err set) if it failed. */
static PGresult *
checked(struct pg_store *s, PGconn *c, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	    st == PGRES_SINGLE_TUPLE)
		return r;
	set_err(s, r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return NULL;
}

static int
exec(struct pg_store *s, PGconn *c, const char *q)
{
	PGresult *r = checked(s, c, PQexec(c, q));

	PQclear(r);
	return r != NULL ? 0 : -1;
}

/*
 * Run prepared statement q with text parameters; chunk data comes back
 * in binary. Prepared on first use.
 */
static PGresult *
run(struct pg_store *s, int q, int n, const char *const *params)
{
	char name[16];
	PGresult *r;

	snprintf(name, sizeof name, "q%d", q);
	if (!s->prepared[q]) {
		r = checked(s, s->conn, PQprepare(s->conn, name, sql[q], 0,
		    NULL));
		if (r == NULL)
			return NULL;
		PQclear(r);
		s->prepared[q] = 1;
	}
	return checked(s, s->conn, PQexecPrepared(s->conn, name, n, params,
	    NULL, NULL, 1));
}

static int
run_command(struct pg_store *s, int q, int n, const char *const *params)
{
	PGresult *r = run(s, q, n, params);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

/* Binary results: integers in network order. */
static long long
get_int(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
	int len = PQgetlength(r, row, col);
	uint64_t v = 0;

	for (int i = 0; i < len; i++)
		v = v << 8 | p[i];
	if (len == 4)
		return (int32_t)v;
	return (long long)v;
}

static const char *
get_text(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col);
}

struct num {
	char s[24];
};

static const char *
num(struct num *n, long long v)
{
	snprintf(n->s, sizeof n->s, "%lld", v);
	return n->s;
}

/* ---- binary COPY of waiting chunks ---- */

static void
copy_need(struct pg_store *s, size_t more)
{
	if (s->copylen + more > s->copycap) {
		s->copycap = (s->copylen + more) * 2;
		s->copy = xreallocarray(s->copy, s->copycap, 1);
	}
}

static void
copy_int(struct pg_store *s, uint64_t v, int bytes)
{
	copy_need(s, (size_t)bytes);
	for (int i = bytes - 1; i >= 0; i--)
		s->copy[s->copylen++] = (unsigned char)(v >> (8 * i));
}

/* A field: its length, then its bytes. */
static void
copy_field_int(struct pg_store *s, long long v, int bytes)
{
	copy_int(s, (uint64_t)bytes, 4);
	copy_int(s, (uint64_t)v, bytes);
}

static const unsigned char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

/*
 * PostgreSQL refuses COPY FROM into a table whose row security applies to
 * the user (a site's role: see tsstore(1)). Then the same rows go by
 * INSERT, a statement for up to 1000 of them, their fields taken from
 * the COPY rows as they are: binary COPY fields and binary parameters
 * are the same bytes.
 */
#define INSERT_ROWS 1000

static int
insert_flush(struct pg_store *s)
{
	const char *val[INSERT_ROWS * 5];
	int len[INSERT_ROWS * 5], fmt[INSERT_ROWS * 5];
	char *q = xmalloc(INSERT_ROWS * 40 + 64);
	size_t at = 0;
	int rc = 0;

	while (rc == 0 && at < s->copylen) {
		int rows = 0, n = 0;
		size_t qn = (size_t)sprintf(q, "INSERT INTO tsstore.chunk"
		    "(series, t0, t1, n, data) VALUES ");
		for (; rows < INSERT_ROWS && at < s->copylen; rows++) {
			at += 2;        /* the field count: 5 */
			for (int f = 0; f < 5; f++, n++) {
				const unsigned char *p = s->copy + at;
				len[n] = (int)((uint32_t)p[0] << 24 |
				    (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
				    p[3]);
				val[n] = (const char *)p + 4;
				fmt[n] = 1;
				at += 4 + (size_t)len[n];
			}
			qn += (size_t)sprintf(q + qn, "%s($%d,$%d,$%d,$%d,$%d)",
			    rows > 0 ? "," : "", n - 4, n - 3, n - 2, n - 1, n);
		}
		PGresult *r = checked(s, s->conn, PQexecParams(s->conn, q, n,
		    NULL, val, len, fmt, 0));
		if (r == NULL)
			rc = -1;
		PQclear(r);
	}
	free(q);
	s->copylen = 0;
	s->waiting.n = 0;
	return rc;
}

static int
copy_flush(struct pg_store *s)
{
	PGresult *r;
	int ok;

	if (s->copylen == 0)
		return 0;
	if (s->rls)
		return insert_flush(s);
	copy_int(s, 0xffff, 2);         /* the end of the rows */
	r = PQexec(s->conn, "COPY tsstore.chunk(series, t0, t1, n, data)"
	    " FROM STDIN (FORMAT binary)");
	ok = PQresultStatus(r) == PGRES_COPY_IN;
	if (!ok)
		set_err(s, r != NULL ? PQresultErrorMessage(r) :
		    PQerrorMessage(s->conn));
	PQclear(r);
	if (ok && (PQputCopyData(s->conn, (const char *)copy_header,
	    sizeof copy_header) != 1 || PQputCopyData(s->conn,
	    (const char *)s->copy, (int)s->copylen) != 1 ||
	    PQputCopyEnd(s->conn, NULL) != 1))
		ok = fail(s, s->conn) == 0;
	s->copylen = 0;
	s->waiting.n = 0;
	/* the COPY's own result, then the end of it */
	while ((r = PQgetResult(s->conn)) != NULL) {
		if (ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
			set_err(s, PQresultErrorMessage(r));
			ok = 0;
		}
		PQclear(r);
	}
	return ok ? 0 : -1;
}

/* ---- partitions ---- */

/* The second connection, for what runs in a transaction of its own. */
static int
ddl_connect(struct pg_store *s)
{
	if (s->ddl != NULL)
		return 0;
	s->ddl = PQconnectdb(s->conninfo);
	PQsetNoticeProcessor(s->ddl, quiet, NULL);
	return PQstatus(s->ddl) == CONNECTION_OK ? 0 : fail(s, s->ddl);
}

/* The start of partition name (chunk_YYYYMMDD, the UTC day it holds),
 * or -1 if the name is not one. */
static long long
partition_start(const char *name)
{
	struct tm tm = { 0 };

	if (sscanf(name, "chunk_%4d%2d%2d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday) != 3)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000000;
}

/* The partitions already there: their starts. */
static int
load_partitions(struct pg_store *s)
{
	PGresult *r = checked(s, s->conn, PQexec(s->conn,
	    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON"
	    " c.oid = i.inhrelid WHERE i.inhparent = 'tsstore.chunk'::regclass"));
	long long start;

	if (r == NULL)
		return -1;
	s->parts.n = 0;
	for (int i = 0; i < PQntuples(r); i++)
		if ((start = partition_start(get_text(r, i, 0))) != -1)
			idset_add(&s->parts, start);
	PQclear(r);
	return 0;
}

/*
 * The partition of chunks starting at t0, made if there is none: a day,
 * from midnight UTC. tsstore.make_partition, the owner's, makes it, on
 * the second connection, in a transaction of its own.
 */
static int
ensure_partition(struct pg_store *s, long long t0)
{
	long long start = t0 - ((t0 % DAY_US) + DAY_US) % DAY_US;
	char q[128];

	if (idset_has(&s->parts, start))
		return 0;
	if (ddl_connect(s) < 0)
		return -1;
	snprintf(q, sizeof q, "SELECT tsstore.make_partition(%lld)", start);
	if (exec(s, s->ddl, q) < 0)
		return -1;
	idset_add(&s->parts, start);
	return 0;
}

/* ---- the operations ---- */

static void
pg_close(struct store *st)
{
	struct pg_store *s = self(st);

	PQfinish(s->conn);
	if (s->ddl != NULL)
		PQfinish(s->ddl);
	free(s->conninfo);
	free(s->display);
	free(s->copy);
	free(s->waiting.v);
	free(s->locked.v);
	free(s->parts.v);
	free(s);
}

static int
pg_begin(struct store *st)
{
	struct pg_store *s = self(st);
	PGresult *r;

	s->copylen = 0;
	s->waiting.n = s->locked.n = 0;
	if (exec(s, s->conn, "BEGIN") < 0)
		return -1;
	s->in_tx = 1;
	r = checked(s, s->conn, PQexec(s->conn,
	    "SELECT EXISTS (SELECT 1 FROM tsstore.rollup)"));
	if (r == NULL)
		return -1;
	s->have_rollups = get_text(r, 0, 0)[0] == 't';
	PQclear(r);
	return 0;
}

static int
pg_commit(struct store *st)
{
	struct pg_store *s = self(st);

	if (copy_flush(s) < 0)
		return -1;
	s->in_tx = 0;
	return exec(s, s->conn, "COMMIT");
}

static void
pg_rollback(struct store *st)
{
	struct pg_store *s = self(st);
	char keep[sizeof s->base.err];

	s->copylen = 0;
	s->waiting.n = 0;
	s->in_tx = 0;
	memcpy(keep, s->base.err, sizeof keep);         /* the first error */
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		(void)exec(s, s->conn, "ROLLBACK");
	memcpy(s->base.err, keep, sizeof keep);
}

/*
 * Before series id is read or written in a transaction: hold its lock,
 * and send the chunks waiting for it, so the read sees them.
 */
static int
touch(struct pg_store *s, long long id)
{
	if (s->in_tx && !idset_has(&s->locked, id)) {
		struct num n;
		const char *p[1] = { num(&n, id % 2147483647) };
		if (run_command(s, Q_LOCK, 1, p) < 0)
			return -1;
		idset_add(&s->locked, id);
	}
	return idset_has(&s->waiting, id) ? copy_flush(s) : 0;
}

static int
pg_series_id(struct store *st, const char *name, int create, long long *id)
{
	struct pg_store *s = self(st);
	const char *p[1] = { name };
	PGresult *r;

	for (int q = Q_SERIES_GET;; q = Q_SERIES_GET) {
		if ((r = run(s, q, 1, p)) == NULL)
			return -1;
		if (PQntuples(r) == 1) {
			*id = get_int(r, 0, 0);
			PQclear(r);
			return 0;
		}
		PQclear(r);
		if (!create)
			return 1;
		/* added by another writer meanwhile: read it again */
		if ((r = run(s, Q_SERIES_ADD, 1, p)) == NULL)
			return -1;
		if (PQntuples(r) == 1) {
			*id = get_int(r, 0, 0);
			PQclear(r);
			return 0;
		}
		PQclear(r);
		if (create++ > 1) {     /* there, but not ours to see */
			snprintf(s->base.err, sizeof s->base.err, "%s: series "
			    "%s: not this role's to write", s->display, name);
			return -1;
		}
	}
}

static int
pg_series_each(struct store *st, int (*fn)(const struct series_info *,
    void *), void *arg)
{
	struct pg_store *s = self(st);
	PGresult *r;
	int stop = 0;

	if (copy_flush(s) < 0)
		return -1;
	r = checked(s, s->conn, PQexecParams(s->conn,
	    "SELECT s.id, s.name, coalesce(sum(c.n), 0)::bigint,"
	    " count(c.t0), coalesce(sum(length(c.data)), 0)::bigint,"
	    " coalesce(min(c.t0), 0), coalesce(max(c.t1), 0)"
	    " FROM tsstore.series s LEFT JOIN tsstore.chunk c"
	    " ON c.series = s.id GROUP BY s.id ORDER BY s.name",
	    0, NULL, NULL, NULL, NULL, 1));
	if (r == NULL)
		return -1;
	/* all rows first: fn may ask the store more (tags) */
	for (int i = 0; !stop && i < PQntuples(r); i++) {
		struct series_info si = {
			.id = get_int(r, i, 0),
			.name = get_text(r, i, 1),
			.points = get_int(r, i, 2),
			.chunks = get_int(r, i, 3),
			.bytes = get_int(r, i, 4),
			.first = get_int(r, i, 5),
			.last = get_int(r, i, 6),
		};
		stop = fn(&si, arg);
	}
	PQclear(r);
	return stop < 0 ? -1 : 0;
}

static void
take_row(const PGresult *r, int i, struct chunk_row *row)
{
	size_t len = (size_t)PQgetlength(r, i, 4);

	row->series = get_int(r, i, 0);
	row->t0 = get_int(r, i, 1);
	row->t1 = get_int(r, i, 2);
	row->n = (long)get_int(r, i, 3);
	if (len > row->cap) {
		row->cap = len;
		row->data = xreallocarray(row->data, len, 1);
	}
	if (len > 0)
		memcpy(row->data, PQgetvalue(r, i, 4), len);
	row->len = len;
}

static int
pg_chunk_seek(struct store *st, long long series, ts_us t, int dir,
    struct chunk_row *row)
{
	struct pg_store *s = self(st);
	struct num a, b;
	const char *p[2] = { num(&a, series), num(&b, t) };
	PGresult *r;
	int found;

	if (touch(s, series) < 0 ||
	    (r = run(s, dir < 0 ? Q_SEEK_LE : Q_SEEK_GT, 2, p)) == NULL)
		return -1;
	if ((found = PQntuples(r) == 1))
		take_row(r, 0, row);
	PQclear(r);
	return found ? 0 : 1;
}

static int
pg_chunk_put(struct store *st, const struct chunk_row *row)
{
	struct pg_store *s = self(st);

	if (touch(s, row->series) < 0 || ensure_partition(s, row->t0) < 0)
		return -1;
	copy_int(s, 5, 2);
	copy_field_int(s, row->series, 8);
	copy_field_int(s, row->t0, 8);
	copy_field_int(s, row->t1, 8);
	copy_field_int(s, row->n, 4);
	copy_int(s, row->len, 4);
	copy_need(s, row->len);
	memcpy(s->copy + s->copylen, row->data, row->len);
	s->copylen += row->len;
	if (!idset_has(&s->waiting, row->series))
		idset_add(&s->waiting, row->series);
	/* a long batch: send what is there, a few MB at a time */
	return s->copylen > (8u << 20) ? copy_flush(s) : 0;
}

static int
pg_chunk_delete(struct store *st, long long series, ts_us t0)
{
	struct pg_store *s = self(st);
	struct num a, b;
	const char *p[2] = { num(&a, series), num(&b, t0) };

	if (touch(s, series) < 0)
		return -1;
	return run_command(s, Q_DELETE, 2, p);
}

static int
pg_set_max_bytes(struct store *st, long long bytes)
{
	struct pg_store *s = self(st);

	snprintf(s->base.err, sizeof s->base.err, "%s: --max-size is for "
	    "SQLite stores; a PostgreSQL server's disk is its own to manage",
	    s->display);
	return -1;
}

static int
pg_tag_set(struct store *st, long long id, const char *key,
    const char *value)
{
	struct pg_store *s = self(st);
	struct num a;
	const char *p[3] = { num(&a, id), key, value };

	return run_command(s, value != NULL ? Q_TAG_SET : Q_TAG_DELETE,
	    value != NULL ? 3 : 2, p);
}

static int
pg_tags_each(struct store *st, long long id,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	struct pg_store *s = self(st);
	struct num a;
	const char *p[1] = { num(&a, id) };
	PGresult *r = run(s, Q_TAGS, 1, p);
	int stop = 0;

	if (r == NULL)
		return -1;
	for (int i = 0; !stop && i < PQntuples(r); i++)
		stop = fn(get_text(r, i, 0), get_text(r, i, 1), arg);
	PQclear(r);
	return stop < 0 ? -1 : 0;
}

static int
pg_policy_set(struct store *st, const char *pattern, ts_us keep)
{
	struct pg_store *s = self(st);
	struct num a;
	const char *p[2] = { pattern, num(&a, keep) };

	return run_command(s, keep >= 0 ? Q_POLICY_SET : Q_POLICY_DELETE,
	    keep >= 0 ? 2 : 1, p);
}

static int
pg_policy_each(struct store *st, int (*fn)(const char *, ts_us, void *),
    void *arg)
{
	struct pg_store *s = self(st);
	PGresult *r = checked(s, s->conn, PQexec(s->conn, "SELECT pattern,"
	    " keep_us FROM tsstore.retention ORDER BY pattern COLLATE \"C\""));
	int stop = 0;

	if (r == NULL)
		return -1;
	for (int i = 0; !stop && i < PQntuples(r); i++)
		stop = fn(get_text(r, i, 0), atoll(get_text(r, i, 1)), arg);
	PQclear(r);
	return stop < 0 ? -1 : 0;
}

static int
pg_rollup_set(struct store *st, const char *pattern, ts_us step,
    const char *aggs)
{
	struct pg_store *s = self(st);
	struct num a;
	const char *p[3] = { pattern, num(&a, step), aggs };
	int rc = run_command(s, aggs != NULL ? Q_ROLLUP_SET : Q_ROLLUP_DELETE,
	    aggs != NULL ? 3 : 2, p);

	if (rc == 0 && aggs != NULL)
		s->have_rollups = 1;
	return rc;
}

static int
pg_rollup_each(struct store *st, int (*fn)(const char *, ts_us, const char *,
    void *), void *arg)
{
	struct pg_store *s = self(st);
	PGresult *r = checked(s, s->conn, PQexec(s->conn, "SELECT pattern,"
	    " step_us, aggs FROM tsstore.rollup"
	    " ORDER BY pattern COLLATE \"C\", step_us"));
	int stop = 0;

	if (r == NULL)
		return -1;
	for (int i = 0; !stop && i < PQntuples(r); i++)
		stop = fn(get_text(r, i, 0), atoll(get_text(r, i, 1)),
		    get_text(r, i, 2), arg);
	PQclear(r);
	return stop < 0 ? -1 : 0;
}

static int
pg_dirty_mark(struct store *st, long long id, ts_us t0, ts_us t1)
{
	struct pg_store *s = self(st);
	struct num a, b, c;
	const char *p[3] = { num(&a, id), num(&b, t0), num(&c, t1) };

	if (!s->have_rollups)
		return 0;
	return run_command(s, Q_DIRTY_MARK, 3, p);
}

static int
pg_dirty_take(struct store *st, long long *id, ts_us *t0, ts_us *t1)
{
	struct pg_store *s = self(st);
	PGresult *r = checked(s, s->conn, PQexec(s->conn, "SELECT series, t0,"
	    " t1 FROM tsstore.dirty ORDER BY series LIMIT 1 FOR UPDATE"));
	struct num a;
	const char *p[1];

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 1;
	}
	*id = atoll(get_text(r, 0, 0));
	*t0 = atoll(get_text(r, 0, 1));
	*t1 = atoll(get_text(r, 0, 2));
	PQclear(r);
	p[0] = num(&a, *id);
	return run_command(s, Q_DIRTY_DELETE, 1, p);
}

static int
pg_backup(struct store *st, const char *path)
{
	struct pg_store *s = self(st);

	snprintf(s->base.err, sizeof s->base.err, "%s: backup is for SQLite "
	    "stores; back a PostgreSQL server up with pg_dump or "
	    "pg_basebackup", s->display);
	return -1;
}

/* What a chunk's row promises and PostgreSQL can check without decoding:
 * every chunk belongs to a series, and its times are in order. */
static int
pg_integrity(struct store *st)
{
	struct pg_store *s = self(st);
	PGresult *r = checked(s, s->conn, PQexec(s->conn,
	    "SELECT count(*) FILTER (WHERE s.id IS NULL),"
	    " count(*) FILTER (WHERE c.t1 < c.t0 OR c.n < 1)"
	    " FROM tsstore.chunk c LEFT JOIN tsstore.series s"
	    " ON s.id = c.series"));
	long long orphans, bad;

	if (r == NULL)
		return -1;
	orphans = atoll(get_text(r, 0, 0));
	bad = atoll(get_text(r, 0, 1));
	PQclear(r);
	if (orphans == 0 && bad == 0)
		return 0;
	snprintf(s->base.err, sizeof s->base.err, "%s: integrity: %lld chunks "
	    "of no series, %lld with rows out of order", s->display, orphans,
	    bad);
	return -1;
}

/* Streamed a row at a time: fn must not call the store. */
static int
pg_chunk_each(struct store *st, int (*fn)(const struct chunk_row *, void *),
    void *arg)
{
	struct pg_store *s = self(st);
	struct chunk_row row = { 0 };
	PGresult *r;
	int stop = 0, rc = 0;

	if (copy_flush(s) < 0)
		return -1;
	if (!PQsendQueryParams(s->conn, "SELECT series, t0, t1, n, data FROM"
	    " tsstore.chunk ORDER BY series, t0", 0, NULL, NULL, NULL, NULL,
	    1) || !PQsetSingleRowMode(s->conn))
		return fail(s, s->conn);
	while ((r = PQgetResult(s->conn)) != NULL) {
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE && !stop) {
			take_row(r, 0, &row);
			stop = fn(&row, arg);
		} else if (PQresultStatus(r) != PGRES_TUPLES_OK &&
		    PQresultStatus(r) != PGRES_SINGLE_TUPLE && rc == 0) {
			set_err(s, PQresultErrorMessage(r));
			rc = -1;
		}
		PQclear(r);
	}
	chunk_row_free(&row);
	if (rc < 0)
		return -1;
	return stop < 0 ? -1 : 0;
}

static int
pg_meta_get(struct store *st, const char *key, char *buf, size_t size)
{
	struct pg_store *s = self(st);
	const char *p[1] = { key };
	PGresult *r = run(s, Q_META_GET, 1, p);
	int found;

	if (r == NULL)
		return -1;
	if ((found = PQntuples(r) == 1))
		snprintf(buf, size, "%.*s", PQgetlength(r, 0, 0),
		    PQgetvalue(r, 0, 0));
	PQclear(r);
	return found ? 0 : 1;
}

static int
pg_meta_set(struct store *st, const char *key, const char *value)
{
	const char *p[2] = { key, value };

	return run_command(self(st), Q_META_SET, 2, p);
}

/* The control room's store keeps no change log: it is shipped to, not
 * from. */
static int
pg_changes_each(struct store *st, long long after, long limit,
    int (*fn)(const struct chunk_row *, const char *, long long, void *),
    void *arg)
{
	struct pg_store *s = self(st);

	snprintf(s->base.err, sizeof s->base.err, "%s: a PostgreSQL store "
	    "is shipped to, not from: ship from an edge's SQLite store",
	    s->display);
	return -1;
}

/* Partitions in name order, which is time order (chunk_YYYYMMDD). */
static int
pg_partition_each(struct store *st, int (*fn)(const char *,
    const struct series_info *, size_t, void *), void *arg)
{
	struct pg_store *s = self(st);
	PGresult *parts = checked(s, s->conn, PQexec(s->conn,
	    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON"
	    " c.oid = i.inhrelid WHERE i.inhparent = 'tsstore.chunk'::regclass"
	    " ORDER BY c.relname"));
	struct series_info *in = NULL;
	int rc = 0;

	if (parts == NULL)
		return -1;
	for (int i = 0; rc == 0 && i < PQntuples(parts); i++) {
		char q[256], *name = PQescapeIdentifier(s->conn,
		    get_text(parts, i, 0), strlen(get_text(parts, i, 0)));
		PGresult *r;
		snprintf(q, sizeof q, "SELECT series, max(t1), sum(n)"
		    " FROM tsstore.%s GROUP BY series", name);
		PQfreemem(name);
		if ((r = checked(s, s->conn, PQexec(s->conn, q))) == NULL) {
			rc = -1;
			break;
		}
		in = xreallocarray(in, (size_t)PQntuples(r) + 1, sizeof *in);
		for (int k = 0; k < PQntuples(r); k++)
			in[k] = (struct series_info){
				.id = atoll(get_text(r, k, 0)),
				.last = atoll(get_text(r, k, 1)),
				.points = atoll(get_text(r, k, 2)),
			};
		rc = fn(get_text(parts, i, 0), in, (size_t)PQntuples(r), arg);
		PQclear(r);
	}
	free(in);
	PQclear(parts);
	return rc < 0 ? -1 : 0;
}

/*
 * Detached first, concurrently (the writers and readers of the other
 * partitions go on), then dropped: on the second connection, as DETACH
 * ... CONCURRENTLY runs outside a transaction.
 */
static int
pg_partition_drop(struct store *st, const char *part)
{
	struct pg_store *s = self(st);
	char q[512], *name;
	long long start;
	int rc;

	if (ddl_connect(s) < 0)
		return -1;
	name = PQescapeIdentifier(s->ddl, part, strlen(part));
	snprintf(q, sizeof q, "ALTER TABLE tsstore.chunk DETACH PARTITION"
	    " tsstore.%s CONCURRENTLY", name);
	rc = exec(s, s->ddl, q);
	snprintf(q, sizeof q, "DROP TABLE tsstore.%s", name);
	PQfreemem(name);
	if (rc == 0)
		rc = exec(s, s->ddl, q);
	/* made again on demand if a late chunk falls in its day */
	if (rc == 0 && (start = partition_start(part)) != -1) {
		for (size_t i = 0; i < s->parts.n; i++)
			if (s->parts.v[i] == start)
				s->parts.v[i] = s->parts.v[--s->parts.n];
	}
	return rc;
}

static const struct store_ops pg_ops = {
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.series_id = pg_series_id,
	.series_each = pg_series_each,
	.chunk_seek = pg_chunk_seek,
	.chunk_put = pg_chunk_put,
	.chunk_delete = pg_chunk_delete,
	.set_max_bytes = pg_set_max_bytes,
	.tag_set = pg_tag_set,
	.tags_each = pg_tags_each,
	.backup = pg_backup,
	.policy_set = pg_policy_set,
	.policy_each = pg_policy_each,
	.rollup_set = pg_rollup_set,
	.rollup_each = pg_rollup_each,
	.dirty_mark = pg_dirty_mark,
	.dirty_take = pg_dirty_take,
	.integrity = pg_integrity,
	.chunk_each = pg_chunk_each,
	.meta_get = pg_meta_get,
	.meta_set = pg_meta_set,
	.changes_each = pg_changes_each,
	.partition_each = pg_partition_each,
	.partition_drop = pg_partition_drop,
};

/* ---- opening ---- */

/*
 * The connection string as given, less its password: the userinfo's
 * ":secret" and any password parameter of a URI, or a password keyword.
 */
static char *
redact(const char *conninfo)
{
	char *d = xstrdup(conninfo), *p, *at, *slash, *end;

	if (strncmp(d, "postgres", 8) == 0 && (p = strstr(d, "://")) != NULL) {
		p += 3;
		at = strchr(p, '@');
		slash = strchr(p, '/');
		if (at != NULL && (slash == NULL || at < slash)) {
			char *colon = memchr(p, ':', (size_t)(at - p));
			if (colon != NULL)
				memmove(colon, at, strlen(at) + 1);
		}
	}
	/* password=... as a keyword or a URI parameter */
	while ((p = strstr(d, "password=")) != NULL) {
		end = p + 9;
		if (*end == '\'') {
			for (end++; *end != '\0' && *end != '\''; end++)
				if (*end == '\\' && end[1] != '\0')
					end++;
			if (*end == '\'')
				end++;
		} else {
			end += strcspn(end, " &");
		}
		end += strspn(end, " &");
		if (p > d && (p[-1] == '&' || p[-1] == '?') && *end == '\0')
			p--;            /* no separator left dangling */
		memmove(p, end, strlen(end) + 1);
	}
	if ((end = d + strlen(d)) > d && (end[-1] == ' ' || end[-1] == '&'))
		end[-1] = '\0';
	return d;
}

/*
 * The SQL that reads raw points without tsstore: the chunk decoder (a C
 * function from tsstore_pg.so, which the server loads: see tsstore(1)),
 * a function for one series over a time range (it reads only the chunks
 * that meet the range), and a view of every point.
 */
static const char points_sql[] =
    "CREATE OR REPLACE FUNCTION tsstore.chunk_points(bytea)"
    " RETURNS TABLE(\"time\" timestamptz, value double precision)"
    " AS %s, 'tsstore_chunk_points'"
    " LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4096;"
    "CREATE OR REPLACE FUNCTION tsstore.series_points(series text,"
    " t_from timestamptz, t_to timestamptz)"
    " RETURNS TABLE(\"time\" timestamptz, series text,"
    " value double precision) LANGUAGE sql STABLE PARALLEL SAFE AS $f$"
    " SELECT p.time, s.name, p.value FROM tsstore.series s"
    " JOIN tsstore.chunk c ON c.series = s.id,"
    " tsstore.chunk_points(c.data) p"
    " WHERE s.name = $1"
    " AND c.t0 < (extract(epoch FROM $3) * 1000000)::bigint"
    " AND c.t1 >= (extract(epoch FROM $2) * 1000000)::bigint"
    " AND p.time >= $2 AND p.time < $3 ORDER BY p.time $f$;"
    "CREATE OR REPLACE VIEW tsstore.points AS"
    " SELECT p.time, s.name AS series, p.value FROM tsstore.series s"
    " JOIN tsstore.chunk c ON c.series = s.id,"
    " tsstore.chunk_points(c.data) p;"
    /* rollups (series NAME@STEP:AGG) as rows, an aggregate a column */
    "CREATE OR REPLACE VIEW tsstore.rollups AS"
    " SELECT p.time, r.m[1] AS series, r.m[2] AS step,"
    " max(p.value) FILTER (WHERE r.m[3] = 'count')::bigint AS n,"
    " max(p.value) FILTER (WHERE r.m[3] = 'mean') AS mean,"
    " max(p.value) FILTER (WHERE r.m[3] = 'min') AS min,"
    " max(p.value) FILTER (WHERE r.m[3] = 'max') AS max,"
    " max(p.value) FILTER (WHERE r.m[3] = 'last') AS last,"
    " max(p.value) FILTER (WHERE r.m[3] = 'first') AS first,"
    " max(p.value) FILTER (WHERE r.m[3] = 'sum') AS sum,"
    " max(p.value) FILTER (WHERE r.m[3] = 'p95') AS p95"
    " FROM tsstore.series s"
    " CROSS JOIN LATERAL regexp_match(s.name, '^(.*)@([^@:]+):([a-z0-9]+)$')"
    " AS r(m) JOIN tsstore.chunk c ON c.series = s.id,"
    " tsstore.chunk_points(c.data) p WHERE r.m IS NOT NULL"
    " GROUP BY 1, 2, 3;";

/* The decoder library: $TSSTORE_PG_LIB, or beside this program as make
 * and make install place it (BIN/../lib/toolchain/tsstore_pg.so). */
static const char *
points_lib(char *buf, size_t size)
{
	const char *env = getenv("TSSTORE_PG_LIB");
	char exe[4096];
	ssize_t n;

	if (env != NULL && *env != '\0')
		return env;
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0)
		return NULL;
	exe[n] = '\0';
	snprintf(buf, size, "%s/../lib/toolchain/tsstore_pg.so", dirname(exe));
	return access(buf, R_OK) == 0 ? buf : NULL;
}

/* The SQL functions and view, (re)made; the store works without them, so
 * a failure is a warning. */
static void
make_points_sql(struct pg_store *s)
{
	char path[4200], *q, *lit;
	const char *lib = points_lib(path, sizeof path);

	if (lib == NULL) {
		warnx("%s: no tsstore_pg.so beside tsstore and no "
		    "TSSTORE_PG_LIB: the SQL functions for raw points are not "
		    "made (the store works without them)", s->display);
		return;
	}
	if ((lit = PQescapeLiteral(s->conn, lib, strlen(lib))) == NULL ||
	    asprintf(&q, points_sql, lit) < 0)
		errx(1, "out of memory");
	PQfreemem(lit);
	if (exec(s, s->conn, "SAVEPOINT f") == 0 && exec(s, s->conn, q) < 0) {
		warnx("%s (the SQL functions for raw points are not made; the "
		    "store works without them)", s->base.err);
		(void)exec(s, s->conn, "ROLLBACK TO SAVEPOINT f");
	}
	free(q);
}

/* The schema, made if the database has none and mode allows. */
static int
check_format(struct pg_store *s, enum store_mode mode)
{
	PGresult *r;
	int have;

	/* one maker at a time: the second finds it made */
	if (exec(s, s->conn, "BEGIN; SELECT pg_advisory_xact_lock(1953719668, 1)")
	    < 0)
		return -1;
	if ((r = checked(s, s->conn, PQexec(s->conn, "SELECT to_regclass("
	    "'tsstore.meta') IS NOT NULL"))) == NULL)
		goto failed;
	have = get_text(r, 0, 0)[0] == 't';
	PQclear(r);
	if (have && (r = checked(s, s->conn, PQexec(s->conn, "SELECT value"
	    " FROM tsstore.meta WHERE key = 'format'"))) == NULL)
		goto failed;
	if (have && (PQntuples(r) != 1 || strcmp(get_text(r, 0, 0), FORMAT))) {
		PQclear(r);
		snprintf(s->base.err, sizeof s->base.err, "%s: schema tsstore "
		    "is not a tsstore store of format \"%s\"", s->display,
		    FORMAT);
		goto failed;
	}
	if (have)
		PQclear(r);
	if (!have && mode == STORE_OPEN) {
		snprintf(s->base.err, sizeof s->base.err, "%s: no tsstore "
		    "store in this database (tsstore init makes one)",
		    s->display);
		goto failed;
	}
	if (!have && exec(s, s->conn, schema) < 0)
		goto failed;
	if (!have || mode == STORE_INIT)
		make_points_sql(s);
	if (exec(s, s->conn, "COMMIT") < 0)
		goto failed;
	return 0;
failed:
	PQclear(PQexec(s->conn, "ROLLBACK"));
	return -1;
}


/* Does row security apply to us (a site's role)? Then no COPY. */
static int
row_security(struct pg_store *s)
{
	PGresult *r = checked(s, s->conn, PQexec(s->conn,
	    "SELECT row_security_active('tsstore.chunk')"));

	if (r == NULL)
		return -1;
	s->rls = get_text(r, 0, 0)[0] == 't';
	PQclear(r);
	return 0;
}

struct store *
store_pg_open(const char *conninfo, enum store_mode mode, int busy_ms,
    char *err, size_t errsz)
{
	struct pg_store *s = xcalloc(1, sizeof *s);
	char q[96];

	s->base.ops = &pg_ops;
	s->conninfo = xstrdup(conninfo);
	s->display = redact(conninfo);
	s->base.name = s->display;
	s->conn = PQconnectdb(conninfo);
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	snprintf(q, sizeof q, "SET lock_timeout = %d; SET client_min_messages"
	    " = warning", busy_ms);
	if (PQstatus(s->conn) != CONNECTION_OK)
		fail(s, s->conn);
	else if (exec(s, s->conn, q) == 0 && check_format(s, mode) == 0 &&
	    load_partitions(s) == 0 && row_security(s) == 0) {
		s->base.label = PQdb(s->conn);
		return &s->base;
	}
	snprintf(err, errsz, "%s", s->base.err);
	pg_close(&s->base);
	return NULL;
}
