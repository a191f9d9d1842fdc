#include "csvio.h"
#include "num.h"
#include "xalloc.h"

#include <csv.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INBUF 65536

struct csv_bg;
struct csv_in;
static void bg_free(struct csv_in *r);

struct csv_in {
	FILE *fp;
	const char *name;
	struct csv_parser parser;
	char in[INBUF];
	size_t inpos, inlen;
	int eof;
	long line;          /* newlines consumed */
	long rec_line;      /* where the current record began */
	int rec_started;    /* bytes of the current record have been fed */
	int rec_done;
	int rec_overrun;    /* a second record ended inside one feed */
	int line_has_nul;   /* the bytes being fed hold a NUL */
	long nul_field;     /* 1 + index of a field holding a NUL, or 0 */

	char *buf;          /* current record: fields, each NUL-terminated */
	size_t len, cap;
	size_t *off;        /* start of each field in buf */
	size_t nf, offcap;
	/* A parsing thread keeps the records of a batch in buf and off, one
	 * after another: the current record starts here. 0 otherwise. */
	size_t base_len, base_nf;

	char *hbuf;         /* header, same layout */
	size_t *hoff;
	size_t nh;

	char err[512];

	struct csv_bg *bg;  /* records come from a parsing thread */
	/* Set in that thread's parser: called before a read that would
	 * block, with the thread's state. */
	void (*before_wait)(struct csv_bg *);
	struct csv_bg *thread;
};

/*
 * libcsv grows its field buffer through these, by a fixed block at a time:
 * linear growth, which copies a long field over and over wherever realloc
 * cannot grow in place (always, under AddressSanitizer and valgrind). So
 * each block carries its capacity in front and grows by doubling; and
 * refusing to pass CSVIN_MAX_RECORD makes csv_parse() fail with CSV_ENOMEM
 * instead of eating all memory.
 */
#define CAP_HEADER sizeof(max_align_t)

static void *
doubling_realloc(void *p, size_t n)
{
	size_t cap = p != NULL ? *(size_t *)((char *)p - CAP_HEADER) : 0;
	char *block;

	if (n > CSVIN_MAX_RECORD)
		return NULL;
	if (p != NULL && n <= cap)
		return p;
	cap = cap ? cap : 4096;
	while (cap < n)
		cap *= 2;
	if (cap > CSVIN_MAX_RECORD)
		cap = CSVIN_MAX_RECORD;
	block = realloc(p != NULL ? (char *)p - CAP_HEADER : NULL,
	    CAP_HEADER + cap);
	if (block == NULL)
		return NULL;
	*(size_t *)block = cap;
	return block + CAP_HEADER;
}

static void
doubling_free(void *p)
{
	if (p != NULL)
		free((char *)p - CAP_HEADER);
}

/* RFC 4180: spaces are part of the field, so nothing is a "space". */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void
set_error(struct csv_in *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof r->err, "%s: line %ld: ", r->name,
	    r->rec_line);
	if (n < 0 || (size_t)n >= sizeof r->err)
		return;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
on_field(void *s, size_t n, void *data)
{
	struct csv_in *r = data;

	if (r->rec_done) {
		r->rec_overrun = 1;
		return;
	}
	if (r->line_has_nul && memchr(s, '\0', n) != NULL &&
	    r->nul_field == 0)
		r->nul_field = (long)(r->nf - r->base_nf) + 1;
	if (r->len - r->base_len + n + 1 > CSVIN_MAX_RECORD) {
		r->rec_overrun = 2;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		while (r->len + n + 1 > r->cap)
			r->cap = r->cap ? r->cap * 2 : 4096;
		r->buf = xreallocarray(r->buf, r->cap, 1);
	}
	if (r->nf == r->offcap) {
		r->offcap = r->offcap ? r->offcap * 2 : 16;
		r->off = xreallocarray(r->off, r->offcap, sizeof *r->off);
	}
	r->off[r->nf++] = r->len;
	if (n > 0)
		memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len++] = '\0';
}

static void
on_record(int c, void *data)
{
	struct csv_in *r = data;

	(void)c;
	if (r->rec_done)
		r->rec_overrun = 1;
	r->rec_done = 1;
}

struct csv_in *
csvin_new(FILE *fp, const char *name)
{
	struct csv_in *r = xcalloc(1, sizeof *r);

	r->fp = fp;
	r->name = name;
	if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		errx(1, "csv: cannot initialise the parser");
	csv_set_realloc_func(&r->parser, doubling_realloc);
	csv_set_free_func(&r->parser, doubling_free);
	csv_set_space_func(&r->parser, no_space);
	return r;
}

void
csvin_free(struct csv_in *r)
{
	if (r == NULL)
		return;
	if (r->bg != NULL)
		bg_free(r);
	csv_free(&r->parser);
	free(r->buf);
	free(r->off);
	free(r->hbuf);
	free(r->hoff);
	free(r);
}

static int
parse_error(struct csv_in *r)
{
	switch (csv_error(&r->parser)) {
	case CSV_ENOMEM:
	case CSV_ETOOBIG:
		set_error(r, "field longer than %u bytes", CSVIN_MAX_RECORD);
		break;
	default:
		set_error(r, "malformed quoting (a quote inside an unquoted "
		    "field, or text after a closing quote)");
		break;
	}
	return -1;
}

/* Would a read of fd block now? */
static int
would_block(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

/*
 * Fill the input buffer; 0 at end of input, -1 on a read error. A stream
 * with a descriptor is read with read(2), which returns what a pipe holds
 * rather than waiting, as fread(3) does, for the whole buffer: a live pipe
 * of a few records a second must not sit in the buffer.
 */
static int
refill(struct csv_in *r)
{
	int fd = fileno(r->fp);
	ssize_t n;

	r->inpos = 0;
	if (fd < 0) {
		r->inlen = fread(r->in, 1, sizeof r->in, r->fp);
		n = ferror(r->fp) ? -1 : (ssize_t)r->inlen;
	} else {
		if (r->thread != NULL && would_block(fd))
			r->before_wait(r->thread);
		/* The only place the thread may be cancelled: its reads. */
		if (r->thread != NULL)
			pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		do
			n = read(fd, r->in, sizeof r->in);
		while (n < 0 && errno == EINTR);
		if (r->thread != NULL)
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		r->inlen = n > 0 ? (size_t)n : 0;
	}
	if (n > 0)
		return 1;
	if (n < 0) {
		snprintf(r->err, sizeof r->err, "%s: read error: %s", r->name,
		    strerror(errno));
		return -1;
	}
	r->eof = 1;
	return 0;
}

static int
finish(struct csv_in *r)
{
	if (csv_fini(&r->parser, on_field, on_record, r) != 0) {
		set_error(r, "unterminated quoted field at end of input");
		return -1;
	}
	return r->rec_done;
}

/* Is s[0..n) an empty line, which libcsv skips between records? */
static int
blank_line(const char *s, size_t n)
{
	return (n == 1 && s[0] == '\n') ||
	    (n == 2 && s[0] == '\r' && s[1] == '\n');
}

/*
 * Feed libcsv up to one line at a time, so that it ends at most one record
 * per call: a record ends on a newline, and we stop feeding as soon as one
 * has. Returns 1 with a record, 0 at end of input, -1 on error.
 */
static int
next_record(struct csv_in *r)
{
	r->len = r->base_len;
	r->nf = r->base_nf;
	r->rec_done = r->rec_overrun = r->rec_started = 0;
	r->nul_field = 0;
	r->rec_line = r->line + 1;
	while (!r->rec_done) {
		const char *p, *nl;
		size_t n;
		int rc;

		if (r->inpos == r->inlen) {
			if (r->eof)
				return 0;
			rc = refill(r);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return finish(r);
		}
		p = r->in + r->inpos;
		nl = memchr(p, '\n', r->inlen - r->inpos);
		n = nl ? (size_t)(nl - p) + 1 : r->inlen - r->inpos;
		if (!r->rec_started) {
			r->rec_line = r->line + 1;
			r->rec_started = !blank_line(p, n);
		}
		/* One look per line, not per field, for the rare NUL. */
		r->line_has_nul = memchr(p, '\0', n) != NULL;
		/* libcsv asks about every byte whether it is a space, through
		 * a call, unless it is left to trim spaces itself; on a line
		 * with no space or tab there is nothing to trim. */
		csv_set_space_func(&r->parser, memchr(p, ' ', n) != NULL ||
		    memchr(p, '\t', n) != NULL ? no_space : NULL);
		if (csv_parse(&r->parser, p, n, on_field, on_record, r) != n)
			return parse_error(r);
		r->inpos += n;
		if (nl != NULL)
			r->line++;
	}
	return 1;
}

static int
check_record(struct csv_in *r)
{
	if (r->rec_overrun == 2) {
		set_error(r, "record longer than %u bytes", CSVIN_MAX_RECORD);
		return -1;
	}
	if (r->rec_overrun) {
		set_error(r, "carriage return without a line feed "
		    "(only CRLF or LF line ends are accepted)");
		return -1;
	}
	if (r->nul_field) {
		set_error(r, "field %ld contains a NUL byte", r->nul_field);
		return -1;
	}
	return 0;
}

int
csvin_header(struct csv_in *r)
{
	int rc = next_record(r);

	if (rc == 0) {
		snprintf(r->err, sizeof r->err, "%s: empty input: no header "
		    "line", r->name);
		return -1;
	}
	if (rc < 0 || check_record(r) < 0)
		return -1;
	/* A UTF-8 byte order mark, as spreadsheets write, is not a name. */
	if (r->len >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) {
		memmove(r->buf, r->buf + 3, r->len - 3);
		r->len -= 3;
		for (size_t i = 1; i < r->nf; i++)
			r->off[i] -= 3;
	}
	for (size_t i = 0; i < r->nf; i++) {
		const char *name = r->buf + r->off[i];
		if (*name == '\0') {
			set_error(r, "header: column %zu has no name", i + 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, r->buf + r->off[j]) == 0) {
				set_error(r, "header: duplicate column \"%s\"",
				    name);
				return -1;
			}
	}
	/* Keep the header; the record buffers are reused for data. */
	r->hbuf = r->buf;
	r->hoff = r->off;
	r->nh = r->nf;
	r->buf = NULL;
	r->off = NULL;
	r->cap = r->offcap = 0;
	return 0;
}

static int bg_read(struct csv_in *r);

int
csvin_read(struct csv_in *r)
{
	int rc;

	if (r->bg != NULL)
		return bg_read(r);
	rc = next_record(r);

	if (rc <= 0)
		return rc;
	if (check_record(r) < 0)
		return -1;
	if (r->nf - r->base_nf != r->nh) {
		set_error(r, "%zu fields, but the header has %zu",
		    r->nf - r->base_nf, r->nh);
		return -1;
	}
	return 1;
}

/*
 * Parsing on a second thread. libcsv goes through the input a byte at a
 * time and is most of the cost of reading, so a program that does real
 * work per record (spectrum's transforms, thresh's rules) runs that work
 * on one core while the other parses. The thread fills batches of records
 * (their fields back to back, as in a record buffer) and hands them over
 * through a small ring; a batch also goes over early when the input has
 * nothing more to give for now, so a slow live pipe is not held back.
 */
#define NBATCH 4
#define BATCH_RECORDS 4096
#define BATCH_BYTES (256u << 10)

struct batch_rec {
	size_t off;         /* its first field's entry in off[] */
	size_t nf;
	size_t end;         /* where its last field ends in bytes[] */
	long line;
};

/* The records' fields and offsets are the parser's own buffers, handed
 * over whole: the batch and the parser swap buffers, nothing is copied. */
struct batch {
	char *bytes;
	size_t cap;
	size_t *off;        /* offsets into bytes[] */
	size_t offcap;
	struct batch_rec *rec;
	size_t nrec, reccap;
	int ended;          /* input ends after these records ... */
	int final;          /* ... with this csvin_read() result (0 or -1) */
	char err[512];
};

struct csv_bg {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch batch[NBATCH];
	unsigned long filled, taken;    /* batches handed over and used up */
	int stop;
	/* Each side's own fields on its own cache line: the reader moves
	 * on a record at a time, and sharing a line with the thread would
	 * bounce it between the cores at that rate. */
	_Alignas(64) struct csv_in *src; /* the parser the thread drives */
	struct batch *fill;             /* the thread's current batch */
	_Alignas(64) struct batch *use; /* the reader's, or NULL */
	size_t next;                    /* its next record */
};

static void
batch_reset(struct batch *b)
{
	b->nrec = 0;
	b->ended = b->final = 0;
	b->err[0] = '\0';
}

/* The record the parser just read joins the batch. */
static void
batch_add(struct batch *b, struct csv_in *src)
{
	struct batch_rec *rec;

	if (b->nrec == b->reccap) {
		b->reccap = b->reccap ? b->reccap * 2 : 256;
		b->rec = xreallocarray(b->rec, b->reccap, sizeof *b->rec);
	}
	rec = &b->rec[b->nrec++];
	rec->off = src->base_nf;
	rec->nf = src->nf - src->base_nf;
	rec->end = src->len;
	rec->line = src->rec_line;
	src->base_len = src->len;
	src->base_nf = src->nf;
}

#define SWAP(type, a, b) do { type t_ = (a); (a) = (b); (b) = t_; } while (0)

/* The batch takes the parser's buffers, the parser the batch's old ones,
 * with the part of a record it is in the middle of. */
static void
batch_take_buffers(struct batch *b, struct csv_in *src)
{
	size_t tail = src->len - src->base_len;
	size_t tailnf = src->nf - src->base_nf;

	SWAP(char *, b->bytes, src->buf);
	SWAP(size_t, b->cap, src->cap);
	SWAP(size_t *, b->off, src->off);
	SWAP(size_t, b->offcap, src->offcap);
	if (src->cap < tail + 1) {
		src->cap = tail + 4096;
		src->buf = xreallocarray(src->buf, src->cap, 1);
	}
	if (src->offcap < tailnf + 16) {
		src->offcap = tailnf + 16;
		src->off = xreallocarray(src->off, src->offcap,
		    sizeof *src->off);
	}
	if (tail > 0)   /* b->bytes may be NULL when nothing was read */
		memcpy(src->buf, b->bytes + src->base_len, tail);
	for (size_t i = 0; i < tailnf; i++)
		src->off[i] = b->off[src->base_nf + i] - src->base_len;
	src->len = tail;
	src->nf = tailnf;
	src->base_len = src->base_nf = 0;
}

/* Hand the current batch over and wait for a free one; returns nonzero
 * when the reader is closing. Called unlocked. */
static int
bg_hand_over(struct csv_bg *bg)
{
	int stop;

	batch_take_buffers(bg->fill, bg->src);
	pthread_mutex_lock(&bg->mu);
	bg->filled++;
	pthread_cond_broadcast(&bg->cv);
	while (bg->filled - bg->taken == NBATCH && !bg->stop)
		pthread_cond_wait(&bg->cv, &bg->mu);
	stop = bg->stop;
	bg->fill = &bg->batch[bg->filled % NBATCH];
	pthread_mutex_unlock(&bg->mu);
	if (!stop)
		batch_reset(bg->fill);
	return stop;
}

/* The input would block: pass on what is parsed so far. */
static void
bg_before_wait(struct csv_bg *bg)
{
	if (bg->fill->nrec > 0)
		bg_hand_over(bg);
}

static void *
bg_main(void *arg)
{
	struct csv_bg *bg = arg;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		int rc = csvin_read(bg->src);
		/* before_wait may have handed over and moved to a new batch */
		struct batch *b = bg->fill;

		if (rc <= 0) {
			b->ended = 1;
			b->final = rc;
			memcpy(b->err, bg->src->err, sizeof b->err);
			bg_hand_over(bg);
			break;
		}
		batch_add(b, bg->src);
		if ((b->nrec >= BATCH_RECORDS ||
		    bg->src->len >= BATCH_BYTES) &&
		    bg_hand_over(bg))
			break;
	}
	return NULL;
}

void
csvin_background(struct csv_in *r)
{
	struct csv_bg *bg;
	sigset_t all, old;

	if (r->bg != NULL || r->eof)
		return;
	bg = xcalloc(1, sizeof *bg);
	/* The thread takes over the parser; r keeps the header. */
	bg->src = xmalloc(sizeof *bg->src);
	*bg->src = *r;
	bg->src->hbuf = NULL;
	bg->src->hoff = NULL;
	bg->src->thread = bg;
	bg->src->before_wait = bg_before_wait;
	/* the parser's buffers went with it */
	if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		errx(1, "csv: cannot initialise the parser");
	r->buf = NULL;
	r->off = NULL;
	r->cap = r->offcap = 0;
	r->len = r->nf = 0;
	r->bg = bg;
	bg->fill = &bg->batch[0];
	pthread_mutex_init(&bg->mu, NULL);
	pthread_cond_init(&bg->cv, NULL);
	/* Signals are the program's business, on its own thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&bg->thread, NULL, bg_main, bg) != 0)
		errx(1, "cannot start a thread to read %s", r->name);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Is a record (or the end) ready? Waits at most timeout_ms; with the
 * lock held. A used-up batch goes back to the thread first. */
static int
bg_ready(struct csv_bg *bg, int timeout_ms)
{
	struct timespec until;

	if (bg->use != NULL) {
		if (bg->next < bg->use->nrec || bg->use->ended)
			return 1;
		bg->taken++;
		bg->use = NULL;
		pthread_cond_broadcast(&bg->cv);
	}
	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
	}
	while (bg->filled == bg->taken) {
		if (timeout_ms < 0)
			pthread_cond_wait(&bg->cv, &bg->mu);
		else if (pthread_cond_timedwait(&bg->cv, &bg->mu, &until) ==
		    ETIMEDOUT)
			return bg->filled != bg->taken;
	}
	return 1;
}

int
csvin_wait(struct csv_in *r, int timeout_ms)
{
	int ready;

	if (r->bg == NULL)
		return 1;
	/* the reader's own batch has more: no need for the lock */
	if (r->bg->use != NULL && r->bg->next < r->bg->use->nrec)
		return 1;
	pthread_mutex_lock(&r->bg->mu);
	ready = bg_ready(r->bg, timeout_ms);
	pthread_mutex_unlock(&r->bg->mu);
	return ready;
}

static int
bg_read(struct csv_in *r)
{
	struct csv_bg *bg = r->bg;
	struct batch *b;
	struct batch_rec *rec;

	b = bg->use;
	if (b == NULL || (bg->next == b->nrec && !b->ended)) {
		pthread_mutex_lock(&bg->mu);
		bg_ready(bg, -1);
		if (bg->use == NULL) {
			bg->use = &bg->batch[bg->taken % NBATCH];
			bg->next = 0;
		}
		pthread_mutex_unlock(&bg->mu);
		b = bg->use;
	}
	if (bg->next == b->nrec) {     /* then the batch ended the input */
		memcpy(r->err, b->err, sizeof r->err);
		return b->final;
	}
	rec = &b->rec[bg->next++];
	r->buf = b->bytes;
	r->off = b->off + rec->off;
	r->nf = rec->nf;
	r->len = rec->end;
	r->rec_line = rec->line;
	return 1;
}

static void
bg_free(struct csv_in *r)
{
	struct csv_bg *bg = r->bg;

	pthread_mutex_lock(&bg->mu);
	bg->stop = 1;
	pthread_cond_broadcast(&bg->cv);
	pthread_mutex_unlock(&bg->mu);
	/* It may be blocked reading a pipe that never ends. */
	pthread_cancel(bg->thread);
	pthread_join(bg->thread, NULL);
	pthread_mutex_destroy(&bg->mu);
	pthread_cond_destroy(&bg->cv);
	for (int i = 0; i < NBATCH; i++) {
		free(bg->batch[i].bytes);
		free(bg->batch[i].off);
		free(bg->batch[i].rec);
	}
	csvin_free(bg->src);
	/* r's record pointed into a batch */
	r->buf = NULL;
	r->off = NULL;
	r->bg = NULL;
	free(bg);
}

size_t
csvin_ncols(const struct csv_in *r)
{
	return r->nh;
}

const char *
csvin_colname(const struct csv_in *r, size_t col)
{
	return col < r->nh ? r->hbuf + r->hoff[col] : "";
}

int
csvin_col(const struct csv_in *r, const char *name)
{
	for (size_t i = 0; i < r->nh; i++)
		if (strcmp(r->hbuf + r->hoff[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
csvin_field(const struct csv_in *r, size_t col)
{
	return col < r->nf ? r->buf + r->off[col] : "";
}

size_t
csvin_field_len(const struct csv_in *r, size_t col)
{
	if (col >= r->nf)
		return 0;
	if (col + 1 < r->nf)
		return r->off[col + 1] - r->off[col] - 1;
	return r->len - r->off[col] - 1;
}

int
csvin_double(struct csv_in *r, size_t col, double *out)
{
	int status = num_parse(csvin_field(r, col), csvin_field_len(r, col),
	    out);

	return status == 0 ? 0 : csvin_field_error(r, col, num_error(status));
}

const char *
csvin_name(const struct csv_in *r)
{
	return r->name;
}

long
csvin_line(const struct csv_in *r)
{
	return r->rec_line;
}

const char *
csvin_error(const struct csv_in *r)
{
	return r->err;
}

/* The field's text for a message: at most 40 bytes, controls escaped. */
static void
quote_for_message(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 40) {
			o += (size_t)snprintf(out + o, outsz - o, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int
csvin_field_error(struct csv_in *r, size_t col, const char *reason)
{
	char text[200];

	quote_for_message(csvin_field(r, col), csvin_field_len(r, col), text,
	    sizeof text);
	set_error(r, "column \"%s\": %s: \"%s\"", csvin_colname(r, col),
	    reason, text);
	return -1;
}

void
csvout_init(struct csv_out *w, FILE *fp)
{
	w->fp = fp;
	w->nfields = 0;
}

static int
needs_quotes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return 0;
}

void
csvout_field(struct csv_out *w, const char *s, size_t len)
{
	if (w->nfields++ > 0)
		putc(',', w->fp);
	if (needs_quotes(s, len))
		csv_fwrite(w->fp, s, len);
	else
		fwrite(s, 1, len, w->fp);
}

void
csvout_str(struct csv_out *w, const char *s)
{
	csvout_field(w, s, strlen(s));
}

/* 10^0 .. 10^9: the decimals the fast path of csvout_double() handles. */
static const int64_t pow10_table[] = { 1, 10, 100, 1000, 10000, 100000,
	1000000, 10000000, 100000000, 1000000000 };

/*
 * v with d decimals, from the integer round(|v| * 10^d): the same text as
 * printf's "%.*f" (checked by a unit test) at a fraction of its cost;
 * programs write millions of these. Returns the length, or -1 when v is
 * too large or too near a rounding tie, which are left to printf.
 */
static int
format_fixed(char *buf, double v, int d)
{
	char digits[32];
	double scaled = fabs(v) * (double)pow10_table[d];
	int64_t n;
	int len = 0, nd = 0;

	if (!(scaled < 9007199254740992.0))
		return -1;
	/* Near a tie the product's own rounding (half an ulp) may decide
	 * which way to go: leave those to printf, which rounds exactly. */
	if (fabs(scaled - floor(scaled) - 0.5) <= scaled * 2.3e-16 + 1e-300)
		return -1;
	n = llround(scaled);
	if (v < 0 && n != 0)       /* "-0.000" says no more than "0.000" */
		buf[len++] = '-';
	do {
		digits[nd++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 || nd <= d);
	while (nd > d)
		buf[len++] = digits[--nd];
	if (d > 0)
		buf[len++] = '.';
	while (nd > 0)
		buf[len++] = digits[--nd];
	buf[len] = '\0';
	return len;
}

void
csvout_double(struct csv_out *w, double v, int decimals)
{
	char buf[400];
	int n = -1;

	if (decimals >= 0 && decimals <= 9 && isfinite(v))
		n = format_fixed(buf, v, decimals);
	if (n < 0) {
		n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
		if (buf[0] == '-' && strspn(buf + 1, "0.") == (size_t)n - 1)
			memmove(buf, buf + 1, (size_t)n);
	}
	csvout_field(w, buf, (size_t)n);
}

void
csvout_time(struct csv_out *w, ts_us t, int iso)
{
	char buf[TS_BUFSZ];

	csvout_str(w, ts_format(t, iso, buf));
}

void
csvout_long(struct csv_out *w, long long v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", v);
	csvout_str(w, buf);
}

void
csvout_end(struct csv_out *w)
{
	putc('\n', w->fp);
	w->nfields = 0;
}

void
csvout_row(struct csv_out *w, size_t n, const char *const *fields)
{
	for (size_t i = 0; i < n; i++)
		csvout_str(w, fields[i]);
	csvout_end(w);
}

void
csvout_record(struct csv_out *w, const struct csv_in *r, int end)
{
	for (size_t i = 0; i < r->nf; i++)
		csvout_field(w, csvin_field(r, i), csvin_field_len(r, i));
	if (end)
		csvout_end(w);
}

void
csvout_header(struct csv_out *w, const struct csv_in *r, int end)
{
	for (size_t i = 0; i < r->nh; i++)
		csvout_str(w, csvin_colname(r, i));
	if (end)
		csvout_end(w);
}
