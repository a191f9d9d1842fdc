#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "csvio.h"
#include "stats.h"
#include "xalloc.h"

struct figure {
	char *series;
	enum stats_kind kind;
	double value;
	int set;                /* a gauge: set at least once */
};

struct stats {
	FILE *fp;
	const char *where;
	char *prefix;
	ts_us period, next;     /* next: the end of the current period */
	ts_us last;             /* the latest time seen */
	int started;
	struct figure fig[STATS_MAX];
	int nfig;
};

struct stats *
stats_open(const char *where, const char *program, const char *src,
    ts_us period)
{
	struct stats *s = xcalloc(1, sizeof *s);
	char host[256] = "localhost";
	size_t len;
	long fd;
	char *end;

	if (src == NULL) {
		gethostname(host, sizeof host - 1);
		host[strcspn(host, ".")] = '\0';
		src = host;
	}
	len = strlen(program) + strlen(src) + sizeof "health//";

	if (strncmp(where, "fd:", 3) == 0) {
		errno = 0;
		fd = strtol(where + 3, &end, 10);
		if (errno != 0 || *end != '\0' || end == where + 3 || fd < 0 ||
		    fd > 1024)
			errx(2, "--stats: not a file descriptor: '%s'", where);
		s->fp = fdopen((int)fd, "a");
	} else {
		s->fp = fopen(where, "a");
	}
	if (s->fp == NULL)
		err(1, "--stats: %s", where);
	/* a new file gets the header; one appended to keeps its own */
	if (ftell(s->fp) == 0 || (ftell(s->fp) < 0 && errno == ESPIPE))
		fputs("ts,series,value\n", s->fp);
	s->where = where;
	s->prefix = xmalloc(len);
	snprintf(s->prefix, len, "health/%s/%s", program, src);
	s->period = period > 0 ? period : 10 * TS_US_PER_S;
	return s;
}

ts_us
stats_period(const char *arg)
{
	return ts_from_sec(cli_seconds("--stats-every", arg, 0.001, 86400));
}

int
stats_figure(struct stats *s, const char *name, enum stats_kind kind)
{
	struct figure *f = &s->fig[s->nfig];
	size_t n = strlen(s->prefix) + strlen(name) + 2;

	if (s->nfig == STATS_MAX)
		errx(1, "stats: more than %d figures", STATS_MAX);
	f->series = xmalloc(n);
	snprintf(f->series, n, "%s/%s", s->prefix, name);
	f->kind = kind;
	return s->nfig++;
}

void
stats_add(struct stats *s, int figure, double n)
{
	s->fig[figure].value += n;
}

void
stats_set(struct stats *s, int figure, double v)
{
	s->fig[figure].value = v;
	s->fig[figure].set = 1;
}

static void
write_period(struct stats *s, ts_us t)
{
	struct csv_out w;

	csvout_init(&w, s->fp);
	for (int i = 0; i < s->nfig; i++) {
		struct figure *f = &s->fig[i];
		if (f->kind == STATS_GAUGE && !f->set)
			continue;
		csvout_time(&w, t, 0);
		csvout_str(&w, f->series);
		csvout_double(&w, f->value, 3);
		csvout_end(&w);
		if (f->kind == STATS_COUNT)
			f->value = 0;
	}
	/* each period as it ends: a reader downstream alerts on it now */
	fflush(s->fp);
	if (ferror(s->fp))
		err(1, "--stats: %s", s->where);
}

void
stats_tick(struct stats *s, ts_us now)
{
	if (!s->started) {
		s->started = 1;
		s->next = now + s->period;
		s->last = now;
		return;
	}
	if (now > s->last)
		s->last = now;
	/* a jump in the stream's time (a camera's clock set, a reconnect)
	 * writes one period, not every empty one in between */
	if (now - s->next > 100 * s->period)
		s->next = now;
	while (now >= s->next) {
		write_period(s, s->next);
		s->next += s->period;
	}
}

void
stats_close(struct stats *s)
{
	if (s == NULL)
		return;
	/* the partial period at the last time seen, not at its end to come
	 * (a row from the future would confuse a reader's clock) */
	if (s->started)
		write_period(s, s->last);
	fclose(s->fp);
	for (int i = 0; i < s->nfig; i++)
		free(s->fig[i].series);
	free(s->prefix);
	free(s);
}
