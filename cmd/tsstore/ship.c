/*
 * ship: an edge store's new chunks into the control room's store.
 *
 * The edge's change log numbers every chunk written; the control room
 * keeps, per site, the last number it has (meta "ship:SITE"), written in
 * the same transaction as the chunks up to it. So a ship interrupted at
 * any moment has either all of a batch or none of it, and the next run
 * starts after the last batch that committed. A chunk is sent as it is
 * (already coded) when it overlaps nothing the control room has of its
 * series, and merged point by point otherwise (a chunk the edge wrote
 * again with late points): a point is its series and time, so sending one
 * twice stores it once.
 *
 * In the control room a series is SITE/NAME, tagged site=SITE, with the
 * edge's tags.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "strmap.h"
#include "tsstore.h"
#include "writer.h"
#include "xalloc.h"

struct ship_opts {
	const char *from, *to, *site;
	long batch;             /* chunks a transaction */
	long long max_rate;     /* bytes a second; 0: no limit */
	int busy_ms, verbose;
};

/* One change from the edge, kept until its batch is written. */
struct change {
	struct chunk_row row;   /* owns its data */
	char *series;
	long long seq;
};

struct batch {
	struct change *c;
	size_t n, cap;
	long long points, bytes;
};

static int
collect(const struct chunk_row *row, const char *series, long long seq,
    void *arg)
{
	struct batch *b = arg;
	struct change *c;

	if (b->n == b->cap) {
		b->cap = b->cap * 2 + 64;
		b->c = xreallocarray(b->c, b->cap, sizeof *b->c);
	}
	c = &b->c[b->n++];
	c->row = *row;
	c->row.data = xmalloc(row->len > 0 ? row->len : 1);
	memcpy(c->row.data, row->data, row->len);
	c->row.cap = row->len;
	c->series = xstrdup(series);
	c->seq = seq;
	b->points += row->n;
	b->bytes += (long long)row->len;
	return 0;
}

static void
batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		chunk_row_free(&b->c[i].row);
		free(b->c[i].series);
	}
	b->n = 0;
	b->points = b->bytes = 0;
}

/* Does [t0, t1] meet a chunk series id already has? */
static int
overlaps(struct store *st, long long id, ts_us t0, ts_us t1,
    struct chunk_row *tmp)
{
	int rc = st->ops->chunk_seek(st, id, t0, -1, tmp);

	if (rc < 0 || (rc == 0 && tmp->t1 >= t0))
		return rc < 0 ? -1 : 1;
	rc = st->ops->chunk_seek(st, id, t0, 1, tmp);
	if (rc < 0)
		return -1;
	return rc == 0 && tmp->t0 <= t1;
}

/* An edge chunk of series into the control room's series id: as it is,
 * or merged with what is there; never a chunk that fails its checks. */
static int
put_or_merge(struct store *st, long long id, const char *series,
    const struct chunk_row *row)
{
	struct series_name name = { row->series, (char *)series };
	struct series_names edge = { &name, 1, 1 };
	struct chunk_row put = *row, tmp = { 0 };
	struct tspoint *p = NULL;
	size_t cap = 0;
	char where[320];
	long n;
	const char *what = chunk_points(row, &p, &cap, 0, &n);
	int rc = -1;

	if (what != NULL) {
		chunk_where(&edge, row, where, sizeof where);
		snprintf(st->err, sizeof st->err, "edge %s %s: not shipped "
		    "(see tsstore check on the edge)", where, what);
	} else if ((rc = overlaps(st, id, row->t0, row->t1, &tmp)) == 0) {
		put.series = id;
		rc = st->ops->chunk_put(st, &put);
	} else if (rc > 0) {
		rc = store_merge(st, id, p, (size_t)n);
	}
	chunk_row_free(&tmp);
	free(p);
	return rc < 0 ? -1 : 0;
}

static int
copy_tag(const char *key, const char *value, void *arg)
{
	void **a = arg;
	struct store *ctl = a[0];
	long long *id = a[1];

	return ctl->ops->tag_set(ctl, *id, key, value) < 0 ? -1 : 0;
}

/* The edge's tags of series name, and site=SITE, onto series id. */
static int
ship_tags(struct store *edge, struct store *ctl, const char *name,
    long long id, const char *site)
{
	long long eid;
	void *arg[2] = { ctl, &id };
	int rc = edge->ops->series_id(edge, name, 0, &eid);

	if (rc == 0 && edge->ops->tags_each(edge, eid, copy_tag, arg) < 0) {
		snprintf(ctl->err, sizeof ctl->err, "%s", edge->err);
		return -1;
	}
	if (rc < 0) {
		snprintf(ctl->err, sizeof ctl->err, "%s", edge->err);
		return -1;
	}
	return ctl->ops->tag_set(ctl, id, "site", site);
}

/* Series name's id in the control room, made and tagged the first time
 * the batch meets it. */
static int
control_id(struct store *edge, struct store *ctl, struct strmap *ids,
    const char *series, const char *site, long long *id)
{
	void **slot = strmap_slot(ids, series);
	char name[4096];

	if (*slot != NULL) {
		*id = *(long long *)*slot;
		return 0;
	}
	if ((size_t)snprintf(name, sizeof name, "%s/%s", site, series) >=
	    sizeof name) {
		snprintf(ctl->err, sizeof ctl->err, "%s: series name too long",
		    series);
		return -1;
	}
	if (ctl->ops->series_id(ctl, name, 1, id) < 0 ||
	    ship_tags(edge, ctl, series, *id, site) < 0)
		return -1;
	*slot = xmalloc(sizeof *id);
	*(long long *)*slot = *id;
	return 0;
}

/* The batch's chunks, tags and the site's new watermark, in one
 * transaction of the control room's store. */
static int
write_batch(struct store *edge, struct store *ctl, const struct batch *b,
    const struct ship_opts *o)
{
	struct strmap ids;
	char key[300], seq[32];
	long long id;
	int rc = -1;

	strmap_init(&ids);
	if (ctl->ops->begin(ctl) < 0)
		goto done;
	for (size_t i = 0; i < b->n; i++) {
		const struct change *c = &b->c[i];
		if (control_id(edge, ctl, &ids, c->series, o->site, &id) < 0 ||
		    put_or_merge(ctl, id, c->series, &c->row) < 0 ||
		    (strchr(c->series, '@') == NULL && ctl->ops->dirty_mark(ctl,
		    id, c->row.t0, c->row.t1) < 0))
			goto done;
	}
	snprintf(key, sizeof key, "ship:%s", o->site);
	snprintf(seq, sizeof seq, "%lld", b->c[b->n - 1].seq);
	if (ctl->ops->meta_set(ctl, key, seq) == 0 &&
	    ctl->ops->commit(ctl) == 0)
		rc = 0;
done:
	if (rc < 0)
		ctl->ops->rollback(ctl);
	strmap_free(&ids, free);
	return rc;
}

/* Under --max-rate: wait until bytes sent since start fit the rate. */
static void
keep_rate(const struct ship_opts *o, double start, long long sent)
{
	double due, wait;
	struct timespec ts;

	if (o->max_rate <= 0)
		return;
	due = start + (double)sent / (double)o->max_rate;
	if ((wait = due - ts_elapsed()) <= 0)
		return;
	ts.tv_sec = (time_t)wait;
	ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static int
ship(struct store *edge, struct store *ctl, const struct ship_opts *o)
{
	struct batch b = { 0 };
	char key[300], buf[64];
	long long after = 0, sent = 0, chunks = 0, points = 0;
	double start = ts_elapsed();
	int rc;

	snprintf(key, sizeof key, "ship:%s", o->site);
	if ((rc = ctl->ops->meta_get(ctl, key, buf, sizeof buf)) < 0) {
		warnx("%s", ctl->err);
		return 1;
	}
	if (rc == 0)
		after = atoll(buf);
	rc = -1;
	for (;;) {
		batch_clear(&b);
		if (edge->ops->changes_each(edge, after, o->batch, collect,
		    &b) < 0) {
			warnx("%s", edge->err);
			break;
		}
		if (b.n == 0) {
			rc = 0;
			break;
		}
		if (write_batch(edge, ctl, &b, o) < 0) {
			warnx("%s", ctl->err);
			break;
		}
		if (o->verbose)
			warnx("ship: %s: changes %lld-%lld committed: %zu "
			    "chunks, %lld points, %lld bytes", o->site,
			    after + 1, b.c[b.n - 1].seq, b.n, b.points,
			    b.bytes);
		after = b.c[b.n - 1].seq;
		sent += b.bytes;
		chunks += (long long)b.n;
		points += b.points;
		keep_rate(o, start, sent);
	}
	if (rc == 0 && o->verbose)
		warnx("ship: %s: up to date at change %lld (%lld chunks, "
		    "%lld points sent)", o->site, after, chunks, points);
	batch_clear(&b);
	free(b.c);
	return rc == 0 ? 0 : 1;
}

/* A site's name goes before every series name: one path segment. */
static const char *
site_option(const char *arg)
{
	if (*arg == '\0' || strchr(arg, '/') != NULL ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") != strlen(arg) || strlen(arg) > 200)
		cli_usage_error("--site: letters, digits, '-', '_' and '.' "
		    "only: '%s'", arg);
	return arg;
}

int
cmd_ship(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "site", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "max-rate", required_argument, NULL, 'r' },
		{ "busy-timeout", required_argument, NULL, 'B' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct ship_opts o = { .batch = 256, .busy_ms = 60000 };
	struct store *edge, *ctl;
	char err[600];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': o.from = optarg; break;
		case 't': o.to = optarg; break;
		case 's': o.site = site_option(optarg); break;
		case 'b': o.batch = cli_long("--batch", optarg, 1, 1000000); break;
		case 'r': o.max_rate = cli_bytes("--max-rate", optarg); break;
		case 'B':
			o.busy_ms = (int)(cli_seconds("--busy-timeout", optarg,
			    0, 86400) * 1000);
			break;
		case 'v': o.verbose = 1; break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	if (o.from == NULL || o.to == NULL || o.site == NULL)
		cli_usage_error("ship needs --from EDGE, --to CONTROL and "
		    "--site NAME");
	if ((edge = store_open(o.from, STORE_OPEN, o.busy_ms, err,
	    sizeof err)) == NULL)
		errx(1, "%s", err);
	if ((ctl = store_open(o.to, STORE_CREATE, o.busy_ms, err,
	    sizeof err)) == NULL) {
		edge->ops->close(edge);
		errx(1, "%s", err);
	}
	rc = ship(edge, ctl, &o);
	ctl->ops->close(ctl);
	edge->ops->close(edge);
	return rc;
}
