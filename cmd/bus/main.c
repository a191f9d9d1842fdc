/*
 * bus: the toolchain's CSV streams over NATS JetStream. See bus(1).
 *
 *   bus stream add|info|rm ...   streams, so no other CLI is needed
 *   bus pub ...                  CSV on stdin to a stream
 *   bus sub ...                  a durable pull consumer to stdout or CMD
 *
 * A message carries up to --batch records, without the header: the
 * header goes in the message's Csv-Header header, and its Nats-Msg-Id is
 * the SHA-256 of subject, header and records, so a batch sent again
 * after a restart is one the server drops (its duplicate window).
 */
#include <err.h>
#include <getopt.h>
#include <nats/nats.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "csvio.h"
#include "stats.h"
#include "strmap.h"
#include "tstime.h"
#include "xalloc.h"

/* pub: messages awaiting the server's acknowledgement at once, and how
 * long one waits before it is sent again */
#define MAX_IN_FLIGHT 256
#define ACK_WAIT_MS 5000
#define STATS_WAKE_MS 500       /* --stats: a quiet input looks this often */

struct common {
	const char *server, *creds, *ca;
	char shown[256];        /* the server, for messages: no credentials */
	pthread_mutex_t mu;
	char refused[1024];     /* the server's words when it refused us */
};

struct conn {
	natsConnection *nc;
	jsCtx *js;
};

static void __attribute__((noreturn))
usage(int status)
{
	static const char synopsis[] =
	    "usage: bus pub --server URL --subject SUBJ [--batch N]"
	    " [--linger DUR] [-v]\n"
	    "       bus sub --server URL --stream NAME --durable NAME"
	    " [--subject FILTER]\n"
	    "               [--batch N] [--exec CMD] [--ack-wait DUR]"
	    " [--exit-idle DUR]\n"
	    "       bus stream add --server URL --stream NAME {--subjects S,... |\n"
	    "               --source NAME@DOMAIN[:FILTER],...}"
	    " [--max-age DUR]\n"
	    "               [--max-bytes N] [--replicas N] [--work-queue]\n"
	    "       bus stream info|rm --server URL --stream NAME\n"
	    "  common: [--creds FILE] [--tls-ca FILE] (never secrets on the"
	    " command line)\n"
	    "  pub, sub: [--stats FILE [--stats-every DUR]]\n";

	if (status != 0) {
		fputs(synopsis, stderr);
		exit(status);
	}
	fputs(synopsis, stdout);
	fputs("\n"
	    "The toolchain's CSV streams over NATS JetStream: pub publishes the\n"
	    "records of standard input, sub writes (or --exec feeds) a stream's\n"
	    "records, stream adds, shows or removes a stream.\n"
	    "\n"
	    "  --server URL,...    the server, or a cluster's servers\n"
	    "  --subject SUBJ      pub: the subject, {column} taking a row's value\n"
	    "                      (site1.{src}.peaks); sub: a subject filter\n"
	    "  --batch N           records a message (pub), messages a fetch (sub)\n"
	    "                      (default 1000)\n"
	    "  --linger DUR        pub: the longest a record waits (default 1s)\n"
	    "  --stream NAME       the stream\n"
	    "  --durable NAME      sub: the durable consumer, shared by workers\n"
	    "  --exec CMD          sub: feed each batch to CMD (sh -c), header\n"
	    "                      first; acknowledged when it exits 0\n"
	    "  --ack-wait DUR      sub: unacknowledged batches come again after\n"
	    "                      DUR (default 30s)\n"
	    "  --exit-idle DUR     sub: end once nothing has come for DUR\n"
	    "  --subjects S,...    stream add: the subjects it takes\n"
	    "  --source NAME@DOMAIN[:FILTER],...  stream add: copy a site's stream\n"
	    "  --max-age DUR       stream add: keep messages this long\n"
	    "  --max-bytes N       stream add: this many bytes at most\n"
	    "  --replicas N        stream add: replicas in a cluster (default 1)\n"
	    "  --work-queue        stream add: remove a message once acknowledged\n"
	    "  --creds FILE        NATS credentials, or a USER:PASSWORD line\n"
	    "  --tls-ca FILE       trust the server's certificate signed by this CA\n"
	    "  --stats FILE        pub, sub: health figures as series CSV to FILE\n"
	    "                      (or fd:N): health/bus/HOST/pub_rows, pub_messages,\n"
	    "                      pub_resent, pub_acked, pub_waiting;\n"
	    "                      health/bus/DURABLE/sub_messages, sub_batches,\n"
	    "                      sub_refused, sub_waiting\n"
	    "  --stats-every DUR   their period (default 10s)\n"
	    "  -v, --verbose       pub: messages acknowledged and duplicates\n"
	    "  -h, --help          this help\n"
	    "      --version       the version\n", stdout);
	exit(cli_finish(0));
}

/* The server as messages name it: "nats://user:pass@host" shown as
 * "nats://host", each of a comma-separated list. */
static void
show_server(struct common *c)
{
	size_t n = 0;

	for (const char *p = c->server; *p != '\0' && n + 1 < sizeof c->shown;) {
		size_t len = strcspn(p, ",");
		const char *scheme = strstr(p, "://"), *at = memchr(p, '@', len);
		if (scheme != NULL && scheme < p + len && at != NULL) {
			n += (size_t)snprintf(c->shown + n, sizeof c->shown - n,
			    "%.*s%.*s", (int)(scheme + 3 - p), p,
			    (int)(p + len - at - 1), at + 1);
		} else
			n += (size_t)snprintf(c->shown + n, sizeof c->shown - n,
			    "%.*s", (int)len, p);
		if (n >= sizeof c->shown || p[len] == '\0')
			break;
		c->shown[n++] = ',';
		c->shown[n] = '\0';
		p += len + 1;
	}
}

/* The server's URLs: one, or a comma-separated list (a cluster's
 * nodes, tried in turn). */
static natsStatus
set_servers(natsOptions *opts, const char *server)
{
	char *copy = xstrdup(server), *urls[64];
	int n = 0;
	natsStatus s;

	for (char *t = strtok(copy, ","); t != NULL && n < 64;
	    t = strtok(NULL, ","))
		urls[n++] = t;
	s = natsOptions_SetServers(opts, (const char **)urls, n);
	free(copy);
	return s;
}

/* The library's thread: the server refused something of ours (a subject
 * these credentials may not publish to or read). */
static void
on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s,
    void *arg)
{
	struct common *o = arg;
	const char *text = NULL;

	(void)sub;
	if (s != NATS_NOT_PERMITTED)
		return;
	natsConnection_GetLastError(nc, &text);
	if (text == NULL)
		text = natsStatus_GetText(s);
	pthread_mutex_lock(&o->mu);
	/* a refused publish is what the user did; the refused reply
	 * inbox that may come with it is only noise beside it */
	if (strstr(text, "for Publish") != NULL &&
	    strstr(o->refused, "for Publish") == NULL)
		o->refused[0] = '\0';
	else if (strstr(o->refused, "for Publish") != NULL)
		text = o->refused;      /* nothing to add */
	if (strstr(o->refused, text) == NULL) {  /* each refusal once */
		size_t n = strlen(o->refused);
		snprintf(o->refused + n, sizeof o->refused - n, "%s%s",
		    n > 0 ? "; " : "", text);
	}
	pthread_mutex_unlock(&o->mu);
}

/* Why a request failed: the server's refusal if there was one (a
 * request these credentials may not make only times out), else
 * otherwise. */
static const char *
why(struct common *o, const char *otherwise)
{
	static char buf[1024];

	pthread_mutex_lock(&o->mu);
	snprintf(buf, sizeof buf, "%s", o->refused[0] != '\0' ? o->refused :
	    otherwise);
	pthread_mutex_unlock(&o->mu);
	return buf;
}

/* The library's words for its last error (an SSL error says which),
 * else the status's. */
static const char *
last_error(natsStatus s)
{
	const char *text = nats_GetLastError(NULL), *p;

	if (text == NULL || *text == '\0')
		return natsStatus_GetText(s);
	/* without the library's "(conn.c:733): ", its source line */
	if (text[0] == '(' && (p = strstr(text, "): ")) != NULL)
		text = p + 3;
	return text;
}

static volatile int closing;   /* our own close: not a drop to say */

static void
on_disconnected(natsConnection *nc, void *arg)
{
	(void)nc;
	if (!closing)
		warnx("%s: disconnected: trying again (nothing is lost: publishing "
	    "waits)", ((struct common *)arg)->shown);
}

static void
on_reconnected(natsConnection *nc, void *arg)
{
	(void)nc;
	warnx("%s: reconnected", ((struct common *)arg)->shown);
}

struct acks;
static int load_ca(natsOptions *, const char *);
static void on_ack(jsCtx *, natsMsg *, jsPubAck *, jsPubAckErr *, void *);

/* Credentials from a file: a NATS credentials file (a user JWT and its
 * seed, as nsc writes them), or one line USER:PASSWORD (the accounts of
 * a server's own configuration). 0, or -1 (said). */
static int
set_credentials(natsOptions *opts, const char *path)
{
	char line[1024], *colon;
	FILE *fp;
	natsStatus s;

	if ((fp = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return -1;
	}
	if (fgets(line, sizeof line, fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	if (strstr(line, "BEGIN NATS USER JWT") != NULL)
		s = natsOptions_SetUserCredentialsFromFiles(opts, path, NULL);
	else if ((colon = strchr(line, ':')) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		*colon = '\0';
		s = natsOptions_SetUserInfo(opts, line, colon + 1);
	} else {
		warnx("%s: neither a NATS credentials file nor USER:PASSWORD",
		    path);
		return -1;
	}
	explicit_bzero(line, sizeof line);
	if (s != NATS_OK) {
		warnx("%s: %s", path, natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

/* Connect, trying again for ever if wait (pub: a site whose link is
 * down blocks and says so); with acks, publishing is asynchronous and
 * its answers go there. 0, or -1 after saying why. */
static int
connect_bus(struct conn *c, struct common *o, int wait, struct acks *acks)
{
	natsOptions *opts = NULL;
	jsOptions jo;
	natsStatus s;

	c->nc = NULL;
	c->js = NULL;
	show_server(o);
	if ((s = natsOptions_Create(&opts)) != NATS_OK ||
	    (s = set_servers(opts, o->server)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(opts, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(opts, 500)) != NATS_OK ||
	    (s = natsOptions_SetDisconnectedCB(opts, on_disconnected, o)) !=
	    NATS_OK ||
	    (s = natsOptions_SetReconnectedCB(opts, on_reconnected, o)) !=
	    NATS_OK ||
	    (s = natsOptions_SetErrorHandler(opts, on_async_error, o)) !=
	    NATS_OK)
		goto fail;
	if ((o->creds != NULL && set_credentials(opts, o->creds) < 0) ||
	    (o->ca != NULL && load_ca(opts, o->ca) < 0)) {
		natsOptions_Destroy(opts);
		return -1;
	}
	for (int said = 0;; said = 1) {
		s = natsConnection_Connect(&c->nc, opts);
		if (s == NATS_OK || !wait || (s != NATS_NO_SERVER &&
		    s != NATS_TIMEOUT))
			break;
		if (!said)
			warnx("%s: %s: trying again every second", o->shown,
			    natsStatus_GetText(s));
		sleep(1);
	}
	if (s != NATS_OK)
		goto fail;
	jsOptions_Init(&jo);
	if (acks != NULL) {
		jo.PublishAsync.MaxPending = MAX_IN_FLIGHT;
		jo.PublishAsync.AckHandler = on_ack;
		jo.PublishAsync.AckHandlerClosure = acks;
	}
	if ((s = natsConnection_JetStream(&c->js, c->nc, &jo)) != NATS_OK)
		goto fail;
	natsOptions_Destroy(opts);
	return 0;
fail:
	warnx("%s: %s", o->shown, last_error(s));
	natsOptions_Destroy(opts);
	natsConnection_Destroy(c->nc);
	c->nc = NULL;
	return -1;
}

static int
load_ca(natsOptions *opts, const char *path)
{
	natsStatus s;

	if (access(path, R_OK) < 0) {   /* its own words for a missing file */
		warn("%s", path);
		return -1;
	}
	if ((s = natsOptions_LoadCATrustedCertificates(opts, path)) !=
	    NATS_OK) {
		warnx("%s: %s", path, last_error(s));
		return -1;
	}
	return 0;
}

static void
disconnect_bus(struct conn *c)
{
	closing = 1;
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
}

/* A duration option in milliseconds. */
static int64_t
duration_ms(const char *opt, const char *arg)
{
	return (int64_t)(cli_seconds(opt, arg, 1e-3, 1e9) * 1000);
}

/* ---- pub ---- */

/* Sent messages are the library's until the server acknowledges them
 * (up to MAX_IN_FLIGHT at once); one that comes back unacknowledged (a
 * timeout, no responders while a cluster elects a leader, a store that
 * is full) is kept here and sent again: its id makes a copy that did get
 * through a duplicate the server drops. */

struct acks {
	pthread_mutex_t mu;
	natsMsg **again;
	size_t nagain, capagain;
	long messages, duplicates;
	int failing;            /* the last answer was a failure */
	char why[256];          /* its reason */
	char fatal[512];        /* a refusal sending again cannot mend */
};

/* Records waiting to go, one batch per subject. */
struct batch {
	char *subject;
	char *buf;
	size_t len;
	FILE *fp;
	struct csv_out w;
	int n;
	double since;           /* when its first record came */
};

/* pub --stats: the figures' indexes */
struct pub_stats {
	struct stats *s;
	int rows, messages, resent, acked, waiting;
	long acked_before;      /* acks.messages at the last look */
};

struct pub {
	struct common *o;
	struct conn c;
	int max, linger_ms;
	struct pub_stats st;    /* st.s NULL without --stats */
	char *header;           /* the header line, without its newline */
	struct acks *acks;
	int waiting;            /* said that the server does not answer */
	struct batch **open;    /* batches with records */
	size_t nopen, capopen;
};

/* The subject of the reader's record: {column} replaced by its value
 * (a value with '.', '*', '>' or a space would change the subject's
 * shape: refused). 0, or -1 (said). */
static int
subject_of(struct csv_in *in, const char *tmpl, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *e, *v;
		char col[128];
		int c;
		if (*p != '{') {
			if (n + 1 >= len)
				return -1;
			out[n++] = *p;
			continue;
		}
		if ((e = strchr(p, '}')) == NULL || (size_t)(e - p - 1) >=
		    sizeof col)
			errx(2, "--subject: an unclosed {column}: '%s'", tmpl);
		snprintf(col, sizeof col, "%.*s", (int)(e - p - 1), p + 1);
		if ((c = csvin_col(in, col)) < 0)
			errx(1, "%s: no column \"%s\" (the subject %s names it)",
			    csvin_name(in), col, tmpl);
		v = csvin_field(in, (size_t)c);
		if (v[0] == '\0' || strpbrk(v, ".*> \t") != NULL) {
			warnx("%s: line %ld: column \"%s\": not fit for a "
			    "subject: \"%s\"", csvin_name(in), csvin_line(in),
			    col, v);
			return -1;
		}
		if (n + strlen(v) >= len)
			return -1;
		memcpy(out + n, v, strlen(v));
		n += strlen(v);
		p = e;
	}
	out[n] = '\0';
	return 0;
}

/* The message id: the SHA-256 of subject, header and records, in hex. */
static void
message_id(const struct pub *p, const struct batch *b, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, b->subject, strlen(b->subject) + 1);
	EVP_DigestUpdate(ctx, p->header, strlen(p->header) + 1);
	EVP_DigestUpdate(ctx, b->buf, b->len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* A JetStream refusal that may pass: a cluster without a leader for a
 * moment, a store without room (a full stream that discards new ones
 * takes more when its consumers catch up). */
static int
passing(jsErrCode code)
{
	return code == 0 || code == JSClusterNotAvailErr ||
	    code == JSClusterNotLeaderErr || code == JSInsufficientResourcesErr ||
	    code == JSStorageResourcesExceededErr ||
	    code == JSMemoryResourcesExceededErr ||
	    code == JSStreamStoreFailedErr || code == JSStreamLimitsErr;
}

/* The library's thread: an acknowledgement, or a failure. */
static void
on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	struct acks *a = arg;

	(void)js;
	pthread_mutex_lock(&a->mu);
	if (pa != NULL) {
		a->messages++;
		a->duplicates += pa->Duplicate;
		a->failing = 0;
	} else if (!passing(pae->ErrCode)) {
		if (a->fatal[0] == '\0')
			snprintf(a->fatal, sizeof a->fatal, "%s: %s (JetStream "
			    "error %d)", natsMsg_GetSubject(m), pae->ErrText !=
			    NULL ? pae->ErrText : natsStatus_GetText(pae->Err),
			    (int)pae->ErrCode);
	} else {
		if (a->nagain == a->capagain) {
			a->capagain = a->capagain * 2 + 16;
			a->again = xreallocarray(a->again, a->capagain,
			    sizeof *a->again);
		}
		a->again[a->nagain++] = m;
		m = NULL;
		a->failing = 1;
		snprintf(a->why, sizeof a->why, "%s", pae->ErrText != NULL ?
		    pae->ErrText : natsStatus_GetText(pae->Err));
	}
	pthread_mutex_unlock(&a->mu);
	natsMsg_Destroy(m);
}

static size_t check_acks(struct pub *);

/* Hand m to the library, waiting while MAX_IN_FLIGHT are unacknowledged
 * or the connection's buffer is full; a refusal ends the program. */
static void
send_msg(struct pub *p, natsMsg *m)
{
	jsPubOptions po;
	natsStatus s;

	jsPubOptions_Init(&po);
	po.MaxWait = ACK_WAIT_MS;
	while ((s = js_PublishMsgAsync(p->c.js, &m, &po)) != NATS_OK) {
		check_acks(p);
		if (s != NATS_TIMEOUT)  /* not just many in flight */
			usleep(100000);
	}
	natsMsg_Destroy(m);
}

/* Say how the server answers (once a change), end on a refusal, and
 * send again what came back. */
static size_t
check_acks(struct pub *p)
{
	struct acks *a = p->acks;
	natsMsg **again;
	size_t n;
	int failing;
	char why[256];

	pthread_mutex_lock(&p->o->mu);
	if (p->o->refused[0] != '\0') {
		/* the server's answers to what we sent before its ping: every
		 * refusal of ours, not just the first to come */
		pthread_mutex_unlock(&p->o->mu);
		natsConnection_FlushTimeout(p->c.nc, 1000);
		pthread_mutex_lock(&p->o->mu);
		errx(1, "%s: %s", p->o->shown, p->o->refused);
	}
	pthread_mutex_unlock(&p->o->mu);
	pthread_mutex_lock(&a->mu);
	if (a->fatal[0] != '\0')
		errx(1, "%s: %s", p->o->shown, a->fatal);
	again = a->again;
	n = a->nagain;
	a->again = NULL;
	a->nagain = a->capagain = 0;
	failing = a->failing;
	snprintf(why, sizeof why, "%s", a->why);
	pthread_mutex_unlock(&a->mu);
	if (failing && !p->waiting)
		warnx("%s: %s: waiting, and sending again", p->o->shown, why);
	else if (!failing && p->waiting)
		warnx("%s: acknowledged again", p->o->shown);
	p->waiting = failing;
	if (p->st.s != NULL) {
		stats_add(p->st.s, p->st.resent, (double)n);
		stats_set(p->st.s, p->st.waiting, failing);
	}
	if (failing && n > 0)
		usleep(200000); /* not a spin while the server is away */
	for (size_t i = 0; i < n; i++)
		send_msg(p, again[i]);
	free(again);
	return n;
}

/* Send batch b (the library has it, acknowledgement to come), and start
 * the subject's next. */
static void
publish(struct pub *p, struct batch *b)
{
	char id[65];
	natsMsg *m = NULL;

	fflush(b->fp);
	message_id(p, b, id);
	if (natsMsg_Create(&m, b->subject, NULL, b->buf, (int)b->len) !=
	    NATS_OK ||
	    natsMsgHeader_Set(m, "Csv-Header", p->header) != NATS_OK ||
	    natsMsgHeader_Set(m, "Nats-Msg-Id", id) != NATS_OK)
		errx(1, "out of memory");
	check_acks(p);
	send_msg(p, m);
	if (p->st.s != NULL)
		stats_add(p->st.s, p->st.messages, 1);
	fclose(b->fp);
	free(b->buf);
	b->buf = NULL;
	b->n = 0;
	if ((b->fp = open_memstream(&b->buf, &b->len)) == NULL)
		err(1, "open_memstream");
	csvout_init(&b->w, b->fp);
}

/* Wait until the server has acknowledged every message sent. */
static void
drain(struct pub *p)
{
	jsPubOptions po;

	jsPubOptions_Init(&po);
	po.MaxWait = 1000;
	/* done when all are acknowledged and none had to go again */
	while (js_PublishAsyncComplete(p->c.js, &po) != NATS_OK ||
	    check_acks(p) > 0)
		check_acks(p);
}

static struct batch *
batch_of(struct pub *p, struct strmap *m, const char *subject)
{
	void **slot = strmap_slot(m, subject);
	struct batch *b = *slot;

	if (b == NULL) {
		b = *slot = xcalloc(1, sizeof *b);
		b->subject = xstrdup(subject);
		if ((b->fp = open_memstream(&b->buf, &b->len)) == NULL)
			err(1, "open_memstream");
		csvout_init(&b->w, b->fp);
	}
	if (b->n == 0) {
		if (p->nopen == p->capopen) {
			p->capopen = p->capopen * 2 + 16;
			p->open = xreallocarray(p->open, p->capopen,
			    sizeof *p->open);
		}
		p->open[p->nopen++] = b;
		b->since = ts_elapsed();
	}
	return b;
}

/* Send what is open: all of it, or what has waited --linger. */
static void
flush_open(struct pub *p, int all)
{
	size_t k = 0;

	for (size_t i = 0; i < p->nopen; i++) {
		struct batch *b = p->open[i];
		if (b->n > 0 && (all || (ts_elapsed() - b->since) * 1000 >=
		    p->linger_ms))
			publish(p, b);
		if (b->n > 0)
			p->open[k++] = b;
	}
	p->nopen = k;
}

static void
free_batch(void *v)
{
	struct batch *b = v;

	fclose(b->fp);
	free(b->buf);
	free(b->subject);
	free(b);
}

/* pub --stats: the periods up to now, with the acknowledgements that
 * came since the last look (counted on the library's thread). */
static void
pub_stats_now(struct pub *p)
{
	long acked;

	if (p->st.s == NULL)
		return;
	pthread_mutex_lock(&p->acks->mu);
	acked = p->acks->messages;
	pthread_mutex_unlock(&p->acks->mu);
	stats_add(p->st.s, p->st.acked, (double)(acked - p->st.acked_before));
	p->st.acked_before = acked;
	stats_tick(p->st.s, ts_now());
}

static void
pub_stats_open(struct pub_stats *st, const char *where, ts_us every)
{
	st->s = stats_open(where, "bus", NULL, every);
	st->rows = stats_figure(st->s, "pub_rows", STATS_COUNT);
	st->messages = stats_figure(st->s, "pub_messages", STATS_COUNT);
	st->resent = stats_figure(st->s, "pub_resent", STATS_COUNT);
	st->acked = stats_figure(st->s, "pub_acked", STATS_COUNT);
	st->waiting = stats_figure(st->s, "pub_waiting", STATS_GAUGE);
	stats_set(st->s, st->waiting, 0);
	stats_tick(st->s, ts_now());
}

static int
cmd_pub(int argc, char **argv, struct common *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "subject", required_argument, NULL, 'S' },
		{ "batch", required_argument, NULL, 'b' },
		{ "linger", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "creds", required_argument, NULL, 'C' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ "stats", required_argument, NULL, 'T' },
		{ "stats-every", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct acks acks = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct pub p = { .o = o, .max = 1000, .linger_ms = 1000,
	    .acks = &acks };
	const char *tmpl = NULL, *name = "stdin", *stats = NULL;
	ts_us stats_every = 0;
	struct csv_in *in;
	struct strmap batches;
	FILE *hfp;
	size_t hlen;
	struct csv_out hw;
	int c, rc, status = 0, verbose = 0;

	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->server = optarg; break;
		case 'S': tmpl = optarg; break;
		case 'b': p.max = (int)cli_long("--batch", optarg, 1, 1000000);
			break;
		case 'l': p.linger_ms = (int)duration_ms("--linger", optarg);
			break;
		case 'v': verbose = 1; break;
		case 'C': o->creds = optarg; break;
		case 'A': o->ca = optarg; break;
		case 'T': stats = optarg; break;
		case 'E': stats_every = stats_period(optarg); break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (o->server == NULL || tmpl == NULL)
		cli_usage_error("pub: --server and --subject are needed");
	if (optind < argc)
		cli_usage_error("pub: CSV comes on stdin");
	if (stats != NULL)
		pub_stats_open(&p.st, stats, stats_every);
	in = csvin_new(stdin, name);
	if (csvin_header(in) < 0)
		errx(1, "%s", csvin_error(in));
	if ((hfp = open_memstream(&p.header, &hlen)) == NULL)
		err(1, "open_memstream");
	csvout_init(&hw, hfp);
	csvout_header(&hw, in, 0);
	fclose(hfp);
	if (connect_bus(&p.c, o, 1, p.acks) < 0)
		return 1;
	strmap_init(&batches);
	csvin_background(in);
	for (;;) {
		char subject[512];
		struct batch *b;
		int ms = p.nopen > 0 ? p.linger_ms : -1;
		pub_stats_now(&p);
		if (p.st.s != NULL && (ms < 0 || ms > STATS_WAKE_MS))
			ms = STATS_WAKE_MS;     /* a quiet input's periods end */
		if (csvin_wait(in, ms) == 0) {
			flush_open(&p, 0);      /* lingered long enough */
			continue;
		}
		if ((rc = csvin_read(in)) <= 0)
			break;
		if (p.st.s != NULL)
			stats_add(p.st.s, p.st.rows, 1);
		if (subject_of(in, tmpl, subject, sizeof subject) < 0) {
			status = 1;
			continue;
		}
		b = batch_of(&p, &batches, subject);
		csvout_record(&b->w, in, 1);
		if (++b->n >= p.max)
			publish(&p, b);
	}
	if (rc < 0) {
		warnx("%s", csvin_error(in));
		status = 1;
	}
	flush_open(&p, 1);
	drain(&p);
	pub_stats_now(&p);
	stats_close(p.st.s);
	if (verbose)
		warnx("%s: %ld messages acknowledged, %ld of them duplicates "
		    "the server dropped", o->shown, acks.messages,
		    acks.duplicates);
	strmap_free(&batches, free_batch);
	free(p.open);
	free(p.header);
	csvin_free(in);
	disconnect_bus(&p.c);
	return status;
}

/* ---- sub ---- */

/* How long a batch its command refused waits before it comes again: a
 * command that keeps failing is retried, not spun on. */
#define NAK_DELAY_MS 1000

struct sub_opts {
	const char *stream, *durable, *filter, *exec, *stats;
	int batch;
	int64_t ack_wait_ms, exit_idle_ms;
	ts_us stats_every;
};

/* sub --stats, named by the durable consumer: health/bus/DURABLE/... */
struct sub_stats {
	struct stats *s;
	int messages, batches, refused, waiting;
};

static void
sub_stats_open(struct sub_stats *st, const struct sub_opts *so)
{
	st->s = stats_open(so->stats, "bus", so->durable, so->stats_every);
	st->messages = stats_figure(st->s, "sub_messages", STATS_COUNT);
	st->batches = stats_figure(st->s, "sub_batches", STATS_COUNT);
	st->refused = stats_figure(st->s, "sub_refused", STATS_COUNT);
	st->waiting = stats_figure(st->s, "sub_waiting", STATS_GAUGE);
	stats_set(st->s, st->waiting, 0);
	stats_tick(st->s, ts_now());
}

/* Feed a batch to CMD (sh -c), the header first; its exit status, or -1
 * if it could not be run (said). */
static int
run_exec(const char *cmd, const char *header, natsMsg **msgs, int n)
{
	int fd[2], status;
	pid_t pid, parent = getpid();
	FILE *fp;

	if (pipe(fd) < 0 || (pid = fork()) < 0) {
		warn("%s", cmd);
		return -1;
	}
	if (pid == 0) {
		/* if we die (a worker killed), CMD is told to stop, not
		 * left to store a batch cut short */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)        /* died before that */
			_exit(128 + SIGTERM);
		dup2(fd[0], 0);
		close(fd[0]);
		close(fd[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fd[0]);
	if ((fp = fdopen(fd[1], "w")) == NULL)
		err(1, "fdopen");
	fprintf(fp, "%s\n", header);
	for (int i = 0; i < n; i++)
		fwrite(natsMsg_GetData(msgs[i]), 1,
		    (size_t)natsMsg_GetDataLength(msgs[i]), fp);
	fclose(fp);             /* a command that stops reading: EPIPE here */
	while (waitpid(pid, &status, 0) < 0)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    WTERMSIG(status);
}

/* After a failed request about stream: 1 when it may pass (a node down,
 * a leader being elected: said once, a second waited), 0 when not
 * (said). */
static int
may_wait(struct common *o, natsStatus s, jsErrCode code, int *waiting,
    const char *stream)
{
	const char *text = last_error(s);
	int refused;

	if (code == JSStreamNotFoundErr) {
		warnx("%s: stream %s: no such stream", o->shown, stream);
		return 0;
	}
	pthread_mutex_lock(&o->mu);
	refused = o->refused[0] != '\0';
	pthread_mutex_unlock(&o->mu);
	if (refused || s == NATS_CONNECTION_CLOSED ||
	    !passing(code) || (code == 0 && s != NATS_TIMEOUT &&
	    s != NATS_NO_RESPONDERS)) {
		warnx("%s: stream %s: %s", o->shown, stream, why(o, text));
		return 0;
	}
	if (!(*waiting)++)
		warnx("%s: stream %s: %s: waiting", o->shown, stream, text);
	sleep(1);
	return 1;
}

static int
cmd_sub(int argc, char **argv, struct common *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "stream", required_argument, NULL, 't' },
		{ "durable", required_argument, NULL, 'd' },
		{ "subject", required_argument, NULL, 'S' },
		{ "batch", required_argument, NULL, 'b' },
		{ "exec", required_argument, NULL, 'e' },
		{ "ack-wait", required_argument, NULL, 'w' },
		{ "exit-idle", required_argument, NULL, 'i' },
		{ "creds", required_argument, NULL, 'C' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ "stats", required_argument, NULL, 'T' },
		{ "stats-every", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct sub_opts so = { NULL, NULL, NULL, NULL, NULL, 1000, 30000, 0,
		0 };
	struct sub_stats st = { NULL, 0, 0, 0, 0 };
	struct conn cn = { 0 };
	jsSubOptions jso;
	jsErrCode code = 0;
	natsSubscription *sub = NULL;
	char *header = NULL, *subj = NULL;
	jsStreamInfo *si = NULL;
	int64_t idle = 0;
	natsStatus s;
	int c, status = 0, waiting = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->server = optarg; break;
		case 't': so.stream = optarg; break;
		case 'd': so.durable = optarg; break;
		case 'S': so.filter = optarg; break;
		case 'b': so.batch = (int)cli_long("--batch", optarg, 1, 10000);
			break;
		case 'e': so.exec = optarg; break;
		case 'w': so.ack_wait_ms = duration_ms("--ack-wait", optarg);
			break;
		case 'i': so.exit_idle_ms = duration_ms("--exit-idle", optarg);
			break;
		case 'T': so.stats = optarg; break;
		case 'E': so.stats_every = stats_period(optarg); break;
		case 'C': o->creds = optarg; break;
		case 'A': o->ca = optarg; break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (o->server == NULL || so.stream == NULL || so.durable == NULL)
		cli_usage_error("sub: --server, --stream and --durable are "
		    "needed");
	if (so.stats != NULL)
		sub_stats_open(&st, &so);
	if (connect_bus(&cn, o, 0, NULL) < 0)
		return 1;
	jsSubOptions_Init(&jso);
	jso.Stream = so.stream;
	jso.Config.Durable = so.durable;
	jso.Config.AckWait = so.ack_wait_ms * 1000000;
	/* without a filter, the stream's subject (one: a stream of several
	 * takes a --subject) */
	while (so.filter == NULL && (s = js_GetStreamInfo(&si, cn.js,
	    so.stream, NULL, &code)) != NATS_OK)
		if (!may_wait(o, s, code, &waiting, so.stream)) {
			disconnect_bus(&cn);
			return 1;
		}
	if (si != NULL) {
		/* one subject; or none, a stream that sources others */
		if (si->Config->SubjectsLen == 1)
			so.filter = subj = xstrdup(si->Config->Subjects[0]);
		else if (si->Config->SubjectsLen == 0)
			so.filter = subj = xstrdup(">");
		jsStreamInfo_Destroy(si);
		if (so.filter == NULL) {
			warnx("%s: stream %s has several subjects: give one "
			    "with --subject", o->shown, so.stream);
			disconnect_bus(&cn);
			return 1;
		}
	}
	while ((s = js_PullSubscribe(&sub, cn.js, so.filter, so.durable, NULL,
	    &jso, &code)) != NATS_OK)
		if (!may_wait(o, s, code, &waiting, so.stream)) {
			disconnect_bus(&cn);
			return 1;
		}
	for (;;) {
		natsMsgList list = { 0 };
		const char *h;
		s = natsSubscription_Fetch(&list, sub, so.batch, 1000, &code);
		if (st.s != NULL) {
			stats_set(st.s, st.waiting, waiting > 0);
			stats_tick(st.s, ts_now());
		}
		if (s == NATS_TIMEOUT) {
			idle += 1000;
			if (so.exit_idle_ms > 0 && idle >= so.exit_idle_ms)
				break;
			continue;
		}
		if (s != NATS_OK && (s == NATS_CONNECTION_CLOSED ||
		    s == NATS_NOT_PERMITTED || !passing(code))) {
			warnx("%s: %s", o->shown, why(o, natsStatus_GetText(s)));
			status = 1;
			break;
		}
		if (s != NATS_OK) {     /* a node down, a leader elected */
			if (!waiting++)
				warnx("%s: %s: waiting", o->shown,
				    natsStatus_GetText(s));
			sleep(1);
			continue;
		}
		if (waiting)
			warnx("%s: fetching again", o->shown);
		waiting = 0;
		idle = 0;
		if (st.s != NULL) {
			stats_set(st.s, st.waiting, 0);
			stats_add(st.s, st.messages, list.Count);
			stats_add(st.s, st.batches, 1);
		}
		if (natsMsgHeader_Get(list.Msgs[0], "Csv-Header", &h) != NATS_OK)
			h = NULL;
		if (h == NULL || (header != NULL && strcmp(h, header) != 0)) {
			warnx("%s: %s: %s", o->shown,
			    natsMsg_GetSubject(list.Msgs[0]), h == NULL ?
			    "a message without a Csv-Header" : "columns other "
			    "than the first message's: give each kind its "
			    "own --subject filter");
			for (int i = 0; i < list.Count; i++)
				natsMsg_Nak(list.Msgs[i], NULL);
			natsMsgList_Destroy(&list);
			status = 1;
			break;
		}
		if (header == NULL) {
			header = xstrdup(h);
			if (so.exec == NULL)
				printf("%s\n", header);
		}
		if (so.exec != NULL) {
			int rc = run_exec(so.exec, header, list.Msgs, list.Count);
			/* acknowledged once CMD has it all; the last one
			 * waits for the server, so none is left unsent */
			for (int i = 0; i < list.Count; i++)
				if (rc != 0)    /* again, after a while */
					natsMsg_NakWithDelay(list.Msgs[i],
					    NAK_DELAY_MS, NULL);
				else if (i + 1 < list.Count)
					natsMsg_Ack(list.Msgs[i], NULL);
				else
					natsMsg_AckSync(list.Msgs[i], NULL, NULL);
			if (rc != 0)
				warnx("%s: exited %d: %d messages not acknowledged"
				    " (they come again)", so.exec, rc, list.Count);
			if (rc != 0 && st.s != NULL)
				stats_add(st.s, st.refused, list.Count);
		} else {
			for (int i = 0; i < list.Count; i++)
				fwrite(natsMsg_GetData(list.Msgs[i]), 1,
				    (size_t)natsMsg_GetDataLength(list.Msgs[i]),
				    stdout);
			cli_check_write(stdout, "stdout");
			for (int i = 0; i < list.Count; i++)
				if (i + 1 < list.Count)
					natsMsg_Ack(list.Msgs[i], NULL);
				else
					natsMsg_AckSync(list.Msgs[i], NULL, NULL);
		}
		natsMsgList_Destroy(&list);
	}
	stats_close(st.s);
	free(header);
	free(subj);
	natsSubscription_Destroy(sub);
	disconnect_bus(&cn);
	return status;
}

/* ---- stream ---- */

/* A stream's sources: other streams it copies, on leaf nodes' JetStream
 * domains, fetched whenever their link is up. */
#define MAX_SOURCES 256

struct sources {
	jsStreamSource src[MAX_SOURCES], *ptr[MAX_SOURCES];
	jsExternalStream ext[MAX_SOURCES];
	char api[MAX_SOURCES][160], deliver[MAX_SOURCES][160];
};

/* --source NAME@DOMAIN[:FILTER],...: the stream NAME of the JetStream
 * domain DOMAIN (a site's leaf node), only subjects matching FILTER; its
 * messages come to deliver.DOMAIN.>, which the site's account may
 * publish to (scripts/nats/accounts.conf). list is cut up in place. */
static void
parse_sources(struct sources *s, char *list, jsStreamConfig *cfg)
{
	int n = 0;

	for (char *t = strtok(list, ","); t != NULL; t = strtok(NULL, ",")) {
		char *at = strchr(t, '@'), *colon;
		if (at == NULL || at == t || at[1] == '\0')
			cli_usage_error("--source: NAME@DOMAIN[:FILTER]: '%s'", t);
		if (n == MAX_SOURCES)
			cli_usage_error("--source: more than %d", MAX_SOURCES);
		*at++ = '\0';
		if ((colon = strchr(at, ':')) != NULL)
			*colon++ = '\0';
		snprintf(s->api[n], sizeof s->api[n], "$JS.%s.API", at);
		snprintf(s->deliver[n], sizeof s->deliver[n], "deliver.%s", at);
		s->ext[n].APIPrefix = s->api[n];
		s->ext[n].DeliverPrefix = s->deliver[n];
		s->src[n].Name = t;
		s->src[n].FilterSubject = colon;
		s->src[n].External = &s->ext[n];
		s->ptr[n] = &s->src[n];
		n++;
	}
	cfg->Sources = s->ptr;
	cfg->SourcesLen = n;
}

static int
same_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Does the stream the server has hold what was asked (its subjects and
 * sources in order, limits, replicas, retention)? A setup script run
 * again then changes nothing, as "tsstore init" does; the server itself
 * refuses a sourced stream's second create (it fills in fields of its
 * own), and another stream of that name with other settings is refused
 * by name. */
static int
same_stream(const jsStreamConfig *want, const jsStreamConfig *have)
{
	if (want->SubjectsLen != have->SubjectsLen ||
	    want->SourcesLen != have->SourcesLen ||
	    want->MaxAge != have->MaxAge ||
	    (want->MaxBytes > 0 ? want->MaxBytes : -1) != have->MaxBytes ||
	    (want->Replicas > 0 ? want->Replicas : 1) != have->Replicas ||
	    want->Retention != have->Retention)
		return 0;
	for (int i = 0; i < want->SubjectsLen; i++)
		if (!same_str(want->Subjects[i], have->Subjects[i]))
			return 0;
	for (int i = 0; i < want->SourcesLen; i++) {
		const jsStreamSource *w = want->Sources[i], *h = have->Sources[i];
		if (!same_str(w->Name, h->Name) ||
		    !same_str(w->FilterSubject, h->FilterSubject) ||
		    (h->External == NULL) != (w->External == NULL) ||
		    (w->External != NULL &&
		    !same_str(w->External->APIPrefix, h->External->APIPrefix)))
			return 0;
	}
	return 1;
}

/* stream add of a stream that exists: its info if it is the one asked
 * for, else NATS_ERR with code left at JSStreamNameExistErr. */
static natsStatus
stream_exists(jsStreamInfo **si, jsCtx *js, const jsStreamConfig *cfg,
    jsErrCode *code)
{
	natsStatus s = js_GetStreamInfo(si, js, cfg->Name, NULL, code);

	if (s != NATS_OK)
		return s;
	if (same_stream(cfg, (*si)->Config))
		return NATS_OK;
	jsStreamInfo_Destroy(*si);
	*si = NULL;
	*code = JSStreamNameExistErr;
	return NATS_ERR;
}

static int
cmd_stream(int argc, char **argv, struct common *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "stream", required_argument, NULL, 't' },
		{ "subjects", required_argument, NULL, 'S' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "work-queue", no_argument, NULL, 'q' },
		{ "source", required_argument, NULL, 'o' },
		{ "creds", required_argument, NULL, 'C' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char *what = argc > 1 ? argv[1] : "", *stream = NULL;
	const char *subjects[64];
	char *list = NULL, *sources = NULL;
	static struct sources src;
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode code = 0;
	struct conn cn = { 0 };
	natsStatus s;
	int c, n = 0, status = 0;

	jsStreamConfig_Init(&cfg);
	argv[1] = argv[0];
	while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 's': o->server = optarg; break;
		case 't': stream = optarg; break;
		case 'S': list = xstrdup(optarg); break;
		case 'a': cfg.MaxAge = duration_ms("--max-age", optarg) *
		    1000000; break;
		case 'B': cfg.MaxBytes = cli_bytes("--max-bytes", optarg); break;
		case 'r': cfg.Replicas = cli_long("--replicas", optarg, 1, 5);
			break;
		case 'q': cfg.Retention = js_WorkQueuePolicy; break;
		case 'o': sources = xstrdup(optarg); break;
		case 'C': o->creds = optarg; break;
		case 'A': o->ca = optarg; break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (strcmp(what, "add") != 0 && strcmp(what, "info") != 0 &&
	    strcmp(what, "rm") != 0)
		cli_usage_error("stream: add, info or rm");
	if (o->server == NULL || stream == NULL)
		cli_usage_error("stream: --server and --stream are needed");
	if (strcmp(what, "add") == 0 && list == NULL && sources == NULL)
		cli_usage_error("stream add: --subjects or --source are needed");
	for (char *t = list != NULL ? strtok(list, ",") : NULL; t != NULL &&
	    n < 64; t = strtok(NULL, ","))
		subjects[n++] = t;
	if (connect_bus(&cn, o, 0, NULL) < 0) {
		free(list);
		return 1;
	}
	cfg.Name = stream;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = n;
	if (sources != NULL)
		parse_sources(&src, sources, &cfg);
	if (strcmp(what, "add") == 0) {
		s = js_AddStream(&si, cn.js, &cfg, NULL, &code);
		if (s != NATS_OK && code == JSStreamNameExistErr)
			s = stream_exists(&si, cn.js, &cfg, &code);
	} else if (strcmp(what, "info") == 0)
		s = js_GetStreamInfo(&si, cn.js, stream, NULL, &code);
	else
		s = js_DeleteStream(cn.js, stream, NULL, &code);
	if (s != NATS_OK) {
		warnx("%s: stream %s: %s", o->shown, stream,
		    code == JSStreamNotFoundErr ? "no such stream" :
		    code == JSStreamNameExistErr ? "exists with other settings "
		    "(bus stream info shows them)" : why(o, last_error(s)));
		status = 1;
	} else if (si != NULL) {
		printf("stream,subjects,messages,bytes,first_seq,last_seq,"
		    "consumers,leader\n%s,\"", si->Config->Name);
		for (int i = 0; i < si->Config->SubjectsLen; i++)
			printf("%s%s", i ? "," : "", si->Config->Subjects[i]);
		printf("\",%llu,%llu,%llu,%llu,%lld",
		    (unsigned long long)si->State.Msgs,
		    (unsigned long long)si->State.Bytes,
		    (unsigned long long)si->State.FirstSeq,
		    (unsigned long long)si->State.LastSeq,
		    (long long)si->State.Consumers);
		/* the server that takes the stream's writes: the one to kill
		 * to see a cluster elect another */
		printf(",%s\n", si->Cluster != NULL && si->Cluster->Leader !=
		    NULL ? si->Cluster->Leader : "");
		cli_check_write(stdout, "stdout");
	}
	jsStreamInfo_Destroy(si);
	free(list);
	free(sources);
	disconnect_bus(&cn);
	return status;
}

int
main(int argc, char **argv)
{
	struct common o = { .mu = PTHREAD_MUTEX_INITIALIZER };
	const char *cmd;
	int status;

	cli_init(argv);
	if (argc < 2)
		cli_usage_error("no command (pub, sub, stream)");
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0)
		usage(0);
	if (strcmp(cmd, "--version") == 0)
		cli_version();
	argv[1] = argv[0];
	if (strcmp(cmd, "pub") == 0)
		status = cmd_pub(argc - 1, argv + 1, &o);
	else if (strcmp(cmd, "sub") == 0)
		status = cmd_sub(argc - 1, argv + 1, &o);
	else if (strcmp(cmd, "stream") == 0)
		status = cmd_stream(argc - 1, argv + 1, &o);
	else
		cli_usage_error("unknown command: '%s'", cmd);
	nats_Close();
	return cli_finish(status);
}
