/*
 * trend drift: slow growth (wear and tear) and new spectral peaks, as
 * alert events.
 *
 * Each key's values are averaged per --every (12 hours by default), which
 * takes the noise of single readings down; the first --baseline of them
 * (30 days) learn the key's normal level and spread. After it, a one-sided
 * CUSUM (Page, 1954) adds up how far each average lies above normal, less
 * a slack of k spreads (--slack, 0.5, plus the baseline mean's own
 * uncertainty), and fires when the sum passes h spreads (--threshold, 6):
 * a level that creeps up is caught once it has crept far enough for long
 * enough, while noise alone stays quiet. It resolves when the sum is back
 * to zero. The message says how far over the baseline the level is, and
 * since when it has been rising (where the sum last left zero).
 *
 * How fast it rises is the Theil-Sen slope of the averages of the last
 * --window (30 days), with its 95% interval: said in the message, and
 * with --limit (levels, or percentages over the baseline: the severity
 * zones) an alert "wear_limit" fires when the rise is clear (the
 * interval above zero) and the line reaches the next limit within
 * --lead (14 days), saying in how long; it resolves when the rise is no
 * longer clear or the limit is more than twice --lead away.
 *
 * From peaks CSV (spectrum's), a key is src/roi/pt/axis, its value the
 * amplitude of its strongest peak (rank 1); and a peak of any rank with
 * snr_db of at least --snr at a frequency that none of the baseline's
 * peaks had (within --tol) fires "new_peak" once.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "csvio.h"
#include "fsync.h"
#include "strmap.h"
#include "trend.h"
#include "xalloc.h"


#define MAX_LIMITS 8
#define MAX_FIT 120             /* averages a slope is fitted on, at most */

struct drift_opts {
	ts_us every, baseline;
	double snr, tol;
	double k, h;            /* CUSUM's slack and threshold, in spreads */
	ts_us window, lead;
	int nlimit;
	double limit[MAX_LIMITS];       /* ascending */
	int pct[MAX_LIMITS];            /* a percentage over the baseline */
};

struct key {
	char *name;
	ts_us bucket;           /* the bucket being summed */
	double sum, sumsq;
	long count;
	double within;          /* baseline: the buckets' spread, summed */
	long nwithin;
	ts_us last_t;
	ts_us seen_to;          /* the last row the run before saw */
	/* the averages so far */
	double *avg;
	ts_us *at;
	size_t n, cap;
	ts_us first;
	int learned;
	size_t nbase;           /* averages in the baseline */
	ts_us since;            /* the average before the sum left zero */
	ts_us prev;             /* the last average's time */
	double mu, sigma, cusum;
	int firing;
	int limit_firing;       /* wear_limit: its limit + 1; 0: not */
	/* peaks: the baseline's frequencies, and new ones said */
	double *freqs;
	size_t nfreq, capfreq;
	double *news;
	size_t nnew, capnew;
};

struct drift {
	const struct drift_opts *o;
	struct csv_out out;
	struct strmap keys;
};

static void
push(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		*cap = *cap * 2 + 16;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*n)++] = x;
}

static void
event(struct drift *d, ts_us t, const char *alert, const char *state,
    const char *key, double value, double limit, const char *message)
{
	csvout_time(&d->out, t, 0);
	csvout_str(&d->out, alert);
	csvout_str(&d->out, "warning");
	csvout_str(&d->out, state);
	csvout_str(&d->out, key);
	csvout_double(&d->out, value, 6);
	csvout_double(&d->out, limit, 6);
	csvout_str(&d->out, message);
	csvout_end(&d->out);
	cli_check_write(stdout, "stdout");
}

/* The baseline's level and spread, from its averages. */
static void
learn(struct key *k)
{
	double s = 0, ss = 0;

	for (size_t i = 0; i < k->n; i++)
		s += k->avg[i];
	k->mu = s / (double)k->n;
	for (size_t i = 0; i < k->n; i++)
		ss += (k->avg[i] - k->mu) * (k->avg[i] - k->mu);
	k->sigma = k->n > 1 ? sqrt(ss / (double)(k->n - 1)) : 0;
	/* thirty averages can spread less than their readings promise: no
	 * less than a mean's standard error, from the spread within them */
	if (k->nwithin > 0 && k->sigma < sqrt(k->within / (double)k->nwithin))
		k->sigma = sqrt(k->within / (double)k->nwithin);
	/* a spread of nothing (a constant) would make any change infinite */
	if (k->sigma < 1e-9 * fabs(k->mu) + 1e-12)
		k->sigma = 1e-9 * fabs(k->mu) + 1e-12;
	k->nbase = k->n;
	k->learned = 1;
}

/* Keep average x at t: the baseline's, then those of the last
 * --window. */
static void
keep(struct drift *d, struct key *k, double x, ts_us t)
{
	size_t old = 0;

	if (k->learned) {
		while (old < k->n && k->at[old] <= t - d->o->window)
			old++;
		memmove(k->avg, k->avg + old, (k->n - old) * sizeof *k->avg);
		memmove(k->at, k->at + old, (k->n - old) * sizeof *k->at);
		k->n -= old;
	}
	if (k->n == k->cap) {
		k->cap = k->cap * 2 + 32;
		k->avg = xreallocarray(k->avg, k->cap, sizeof *k->avg);
		k->at = xreallocarray(k->at, k->cap, sizeof *k->at);
	}
	k->avg[k->n] = x;
	k->at[k->n++] = t;
}

/* The slope of k's averages in the window, per day, and the line's level
 * at the last of them; -1 if there are too few (6). When the CUSUM has
 * found where a rise began, only the averages since then: a line
 * across the bend would take the flat days for part of the rise. More
 * than MAX_FIT are averaged in runs first: the cost grows as the
 * square. */
static int
rise(const struct key *k, struct slope *sl, double *now)
{
	double x[MAX_FIT], y[MAX_FIT];
	size_t m = 0, from = 0, per;

	if (k->firing)
		while (from < k->n && k->at[from] < k->since)
			from++;
	if (k->n - from < 6)
		from = 0;
	if (k->n - from < 6)
		return -1;
	per = (k->n - from + MAX_FIT - 1) / MAX_FIT;
	for (size_t i = from; i < k->n; i += per, m++) {
		size_t e = i + per < k->n ? i + per : k->n;
		x[m] = y[m] = 0;
		for (size_t j = i; j < e; j++) {
			x[m] += (double)(k->at[j] - k->at[k->n - 1]) / 86400e6;
			y[m] += k->avg[j];
		}
		x[m] /= (double)(e - i);
		y[m] /= (double)(e - i);
	}
	if (theil_sen(x, y, m, sl) < 0)
		return -1;
	*now = sl->intercept;   /* x is 0 at the last average */
	return 0;
}

/* ", rising 0.67%/day (95%: 0.41 to 0.93)": the rise as a share of the
 * baseline a day; "" if it cannot be told. */
static const char *
rise_text(const struct key *k, const struct slope *sl, char *buf, size_t len)
{
	double u = 100 / fabs(k->mu);

	snprintf(buf, len, ", %s %.2f%%/day (95%%: %.2f to %.2f)",
	    sl->slope >= 0 ? "rising" : "falling", fabs(sl->slope) * u,
	    sl->lo * u, sl->hi * u);
	return buf;
}

/* --limit: the limits' levels for key k. */
static double
limit_of(const struct drift *d, const struct key *k, int i)
{
	return d->o->pct[i] ? k->mu * (1 + d->o->limit[i] / 100) :
	    d->o->limit[i];
}

static void
limit_label(const struct drift *d, const struct key *k, int i, char *buf,
    size_t len)
{
	if (d->o->pct[i])
		snprintf(buf, len, "%.6g (%g%% over baseline)",
		    limit_of(d, k, i), d->o->limit[i]);
	else
		snprintf(buf, len, "%.6g", limit_of(d, k, i));
}

/* In how many days (from the last average) the line of slope s through
 * sl's middle reaches level: with s the bounds of the slope, how early or
 * late the limit may be reached (pivoting about the middle widens the
 * band where it is known least, at the ends); 0 if it may be there
 * already. */
static double
reach(const struct slope *sl, double level, double s)
{
	double ymid = sl->intercept + sl->slope * sl->xmid;

	return fmax(0, sl->xmid + (level - ymid) / s);
}

/* wear_limit: fire when the rise is clear (its interval above zero) and
 * the line reaches the next limit within --lead; resolve when it no
 * longer rises at all, or that limit, not yet reached, is more than
 * twice --lead away: between the two, no flapping. A level that reaches
 * the limit stays firing while it rises (thresh alarms on levels). */
static void
check_limits(struct drift *d, struct key *k, ts_us t)
{
	struct slope sl;
	double now, lead = (double)d->o->lead / 86400e6, days;
	char msg[512], rt[128], lim[96];
	int z = 0, clear;

	if (d->o->nlimit == 0 || rise(k, &sl, &now) < 0)
		return;
	clear = sl.lo > 0;
	if (k->limit_firing > 0) {      /* the limit it fired for, + 1 */
		z = k->limit_firing - 1;
		days = (limit_of(d, k, z) - now) / sl.slope;
		if (sl.slope > 0 && days <= 2 * lead)
			return;
		snprintf(msg, sizeof msg, "%s at %.6g: no longer rising "
		    "towards a limit", k->name, now);
		event(d, t, "wear_limit", "resolved", k->name, now,
		    limit_of(d, k, z), msg);
		k->limit_firing = 0;
		return;
	}
	while (z < d->o->nlimit && limit_of(d, k, z) <= now)
		z++;            /* the zone the level is in */
	if (!clear)
		return;
	rise_text(k, &sl, rt, sizeof rt);
	if (z == d->o->nlimit) {
		z--;
		limit_label(d, k, z, lim, sizeof lim);
		snprintf(msg, sizeof msg, "%s at %.6g%s: past its last limit, "
		    "%s", k->name, now, rt, lim);
	} else {
		days = (limit_of(d, k, z) - now) / sl.slope;
		if (days > lead)
			return;
		limit_label(d, k, z, lim, sizeof lim);
		snprintf(msg, sizeof msg, "%s at %.6g%s: reaches %s in about "
		    "%.1f days (95%%: %.1f to %.1f)", k->name, now, rt, lim,
		    days, reach(&sl, limit_of(d, k, z), sl.hi),
		    reach(&sl, limit_of(d, k, z), sl.lo));
	}
	event(d, t, "wear_limit", "firing", k->name, now, limit_of(d, k, z),
	    msg);
	k->limit_firing = z + 1;
}

/* One more average for key k, ending at t. */
static void
average(struct drift *d, struct key *k, double x, ts_us t)
{
	char msg[512], buf[TS_BUFSZ], rt[128] = "";
	struct slope sl;
	double growth, now;
	ts_us since;

	keep(d, k, x, t);
	if (!k->learned) {              /* the baseline's averages */
		k->prev = t;
		if (t - k->first >= d->o->baseline - d->o->every)
			learn(k);
		return;
	}
	if (k->cusum == 0)
		k->since = k->prev;     /* where a rise would start */
	k->prev = t;
	k->cusum = fmax(0, k->cusum + (x - k->mu) / k->sigma - d->o->k -
	    1 / sqrt((double)k->nbase));
	if (!k->firing && k->cusum > d->o->h) {
		/* since the sum last left zero: when the rise began, about */
		since = k->since;
		growth = (x - k->mu) / fabs(k->mu) * 100;
		k->firing = 1;          /* rise() fits from since on */
		if (rise(k, &sl, &now) == 0 && sl.lo > 0)  /* told if clear */
			rise_text(k, &sl, rt, sizeof rt);
		snprintf(msg, sizeof msg, "%s is %.1f%% over its baseline "
		    "(%.6g), rising since %s (%.1f days)%s", k->name, growth,
		    k->mu, ts_format_rfc3339(since, buf),
		    (double)(t - since) / 86400e6, rt);
		event(d, t, "wear", "firing", k->name, x, k->mu, msg);
	} else if (k->firing && k->cusum == 0) {
		snprintf(msg, sizeof msg, "%s is back to its baseline (%.6g)",
		    k->name, k->mu);
		event(d, t, "wear", "resolved", k->name, x, k->mu, msg);
		k->firing = 0;
	}
	check_limits(d, k, t);
}

static struct key *
key_of(struct drift *d, const char *name)
{
	void **slot = strmap_slot(&d->keys, name);
	struct key *k = *slot;

	if (k == NULL) {
		k = *slot = xcalloc(1, sizeof *k);
		k->name = xstrdup(name);
		k->bucket = INT64_MIN;
		k->first = k->last_t = k->seen_to = INT64_MIN;
	}
	return k;
}

/* A value of key at t: summed into its bucket; a bucket that ends is
 * one average. */
static void
value(struct drift *d, struct key *k, ts_us t, double v)
{
	ts_us b = t - ((t % d->o->every) + d->o->every) % d->o->every;

	if (b != k->bucket && k->count > 0) {
		double mean = k->sum / (double)k->count;
		/* the variance of this average, from its readings' spread */
		if (!k->learned && k->count > 1) {
			k->within += (k->sumsq - k->count * mean * mean) /
			    (double)(k->count - 1) / (double)k->count;
			k->nwithin++;
		}
		average(d, k, mean, k->last_t);
	}
	if (b != k->bucket) {
		k->bucket = b;
		k->sum = k->sumsq = 0;
		k->count = 0;
	}
	k->sum += v;
	k->sumsq += v * v;
	k->count++;
	k->last_t = t;
}

/* A peak of key at t: in the baseline, its frequency is learnt; after
 * it, one that is new and clear enough is said once. */
static void
peak(struct drift *d, struct key *k, ts_us t, double freq, double snr)
{
	double tol;
	char msg[256];

	if (snr < d->o->snr)
		return;
	if (t - k->first < d->o->baseline) {
		push(&k->freqs, &k->nfreq, &k->capfreq, freq);
		return;
	}
	tol = fmax(d->o->tol * freq, 0.05);
	for (size_t i = 0; i < k->nfreq; i++)
		if (fabs(k->freqs[i] - freq) <= tol)
			return;
	for (size_t i = 0; i < k->nnew; i++)
		if (fabs(k->news[i] - freq) <= tol)
			return;
	push(&k->news, &k->nnew, &k->capnew, freq);
	snprintf(msg, sizeof msg, "%s: a peak at %.3f Hz (%.1f dB) that its "
	    "baseline did not have", k->name, freq, snr);
	event(d, t, "new_peak", "firing", k->name, freq, d->o->snr, msg);
}

static void
finish_key(const char *name, void *v, void *arg)
{
	struct drift *d = arg;
	struct key *k = v;

	if (k->count > 0)
		average(d, k, k->sum / (double)k->count, k->last_t);
	k->count = 0;
}

static void
free_key(void *v)
{
	struct key *k = v;

	free(k->name);
	free(k->avg);
	free(k->at);
	free(k->freqs);
	free(k->news);
	free(k);
}

/* Is t new for key k (after its last row, kept in --state from the run
 * before)? A row that is not is passed over quietly: a nightly run over
 * the last 60 days reads again what the night before has seen. The
 * first row starts the key's baseline. */
static int
seen_before(struct drift *d, struct key *k, ts_us t)
{
	if (k->first == INT64_MIN)
		k->first = t;
	return t > k->seen_to;
}

/* The columns of a peaks row, or of a series row. */
struct columns {
	int ts, series, value;                          /* series CSV */
	int src, roi, pt, axis, rank, freq, amp, snr;   /* peaks CSV */
};

static int
read_rows(struct drift *d, struct csv_in *in, const struct columns *c,
    int peaks)
{
	char name[1024];
	int rc;

	while ((rc = csvin_read(in)) > 0) {
		ts_us t;
		double v, f = 0, snr = 0;
		struct key *k;
		if (ts_parse(csvin_field(in, (size_t)c->ts), &t) < 0)
			return csvin_field_error(in, (size_t)c->ts, "not a time");
		if (!peaks) {
			if (csvin_double(in, (size_t)c->value, &v) < 0)
				return -1;
			k = key_of(d, csvin_field(in, (size_t)c->series));
			if (seen_before(d, k, t))
				value(d, k, t, v);
			continue;
		}
		snprintf(name, sizeof name, "src=%s,roi=%s,pt=%s,axis=%s",
		    csvin_field(in, (size_t)c->src),
		    csvin_field(in, (size_t)c->roi),
		    csvin_field(in, (size_t)c->pt),
		    csvin_field(in, (size_t)c->axis));
		if (csvin_double(in, (size_t)c->amp, &v) < 0 ||
		    csvin_double(in, (size_t)c->freq, &f) < 0 ||
		    csvin_double(in, (size_t)c->snr, &snr) < 0)
			return -1;
		k = key_of(d, name);
		if (!seen_before(d, k, t))
			continue;
		if (strcmp(csvin_field(in, (size_t)c->rank), "1") == 0)
			value(d, k, t, v);
		peak(d, k, t, f, snr);
	}
	return rc;
}

/* ---- --state: what a run leaves for the next ---- */

static const char *const state_cols[] = { "key", "first", "learned", "mu",
	"sigma", "nbase", "cusum", "firing", "since", "prev", "bucket", "sum",
	"sumsq", "count", "last_t", "within", "nwithin", "averages", "freqs",
	"news", "limit_firing" };
#define NSTATE (sizeof state_cols / sizeof state_cols[0])
#define NSTATE_NEEDED (NSTATE - 1)  /* a state from before --limit */

static void
put_num(struct csv_out *w, double v)
{
	char buf[40];

	snprintf(buf, sizeof buf, "%.17g", v);
	csvout_str(w, buf);
}

static void
put_list(struct csv_out *w, const double *v, const ts_us *t, size_t n)
{
	size_t len = 0, cap = 64;
	char *buf = xmalloc(cap);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char one[64];
		int k = t != NULL ? snprintf(one, sizeof one, "%s%lld:%.17g",
		    i ? ";" : "", (long long)t[i], v[i]) :
		    snprintf(one, sizeof one, "%s%.17g", i ? ";" : "", v[i]);
		if (len + (size_t)k + 1 > cap) {
			cap = (len + (size_t)k + 1) * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		memcpy(buf + len, one, (size_t)k + 1);
		len += (size_t)k;
	}
	csvout_str(w, buf);
	free(buf);
}

static void
save_key(const char *name, void *v, void *arg)
{
	struct csv_out *w = arg;
	struct key *k = v;

	csvout_str(w, k->name);
	csvout_long(w, k->first);
	csvout_long(w, k->learned);
	put_num(w, k->mu);
	put_num(w, k->sigma);
	csvout_long(w, (long long)k->nbase);
	put_num(w, k->cusum);
	csvout_long(w, k->firing);
	csvout_long(w, k->since);
	csvout_long(w, k->prev);
	csvout_long(w, k->bucket);
	put_num(w, k->sum);
	put_num(w, k->sumsq);
	csvout_long(w, k->count);
	csvout_long(w, k->last_t);
	put_num(w, k->within);
	csvout_long(w, k->nwithin);
	put_list(w, k->avg, k->at, k->n);
	put_list(w, k->freqs, NULL, k->nfreq);
	put_list(w, k->news, NULL, k->nnew);
	csvout_long(w, k->limit_firing);
	csvout_end(w);
}

/* Written whole beside it, synced, renamed over it: a crash leaves the
 * old state or the new, never half. */
static int
state_save(struct drift *d, const char *path)
{
	char tmp[4096];
	struct csv_out w;
	FILE *fp;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		warn("%s", tmp);
		return -1;
	}
	csvout_init(&w, fp);
	csvout_row(&w, NSTATE, state_cols);
	strmap_each(&d->keys, save_key, &w);
	if (fflush(fp) != 0 || ferror(fp) || fsync_path(tmp) < 0) {
		warn("%s", tmp);
		fclose(fp);
		unlink(tmp);
		return -1;
	}
	fclose(fp);
	if (rename(tmp, path) < 0 || fsync_parent(path) < 0) {
		warn("%s", path);
		return -1;
	}
	return 0;
}

static void
get_list(const char *text, double **v, ts_us **t, size_t *n, size_t *cap)
{
	const char *p = text;

	while (*p != '\0') {
		char *end;
		ts_us at = 0;
		double x;
		if (t != NULL) {
			at = strtoll(p, &end, 10);
			p = *end == ':' ? end + 1 : end;
		}
		x = strtod(p, &end);
		if (end == p)
			break;
		if (*n == *cap) {
			*cap = *cap * 2 + 32;
			*v = xreallocarray(*v, *cap, sizeof **v);
			if (t != NULL)
				*t = xreallocarray(*t, *cap, sizeof **t);
		}
		(*v)[*n] = x;
		if (t != NULL)
			(*t)[*n] = at;
		(*n)++;
		p = *end == ';' ? end + 1 : end;
	}
}

/* The state the run before left; none is a first run. */
static int
state_load(struct drift *d, const char *path)
{
	FILE *fp = fopen(path, "r");
	struct csv_in *in;
	int col[NSTATE], rc;

	if (fp == NULL)
		return errno == ENOENT ? 0 : (warn("%s", path), -1);
	in = csvin_new(fp, path);
	rc = csvin_header(in);
	for (size_t i = 0; rc == 0 && i < NSTATE; i++)
		if ((col[i] = csvin_col(in, state_cols[i])) < 0 &&
		    i < NSTATE_NEEDED) {
			warnx("%s: no column \"%s\": not trend drift's state",
			    path, state_cols[i]);
			rc = -2;
		}
	while (rc == 0 && (rc = csvin_read(in)) > 0) {
#define F(i) csvin_field(in, (size_t)col[i])
		struct key *k = key_of(d, F(0));
		k->first = strtoll(F(1), NULL, 10);
		k->learned = atoi(F(2));
		k->mu = strtod(F(3), NULL);
		k->sigma = strtod(F(4), NULL);
		k->nbase = (size_t)strtoull(F(5), NULL, 10);
		k->cusum = strtod(F(6), NULL);
		k->firing = atoi(F(7));
		k->since = strtoll(F(8), NULL, 10);
		k->prev = strtoll(F(9), NULL, 10);
		k->bucket = strtoll(F(10), NULL, 10);
		k->sum = strtod(F(11), NULL);
		k->sumsq = strtod(F(12), NULL);
		k->count = strtol(F(13), NULL, 10);
		k->last_t = k->seen_to = strtoll(F(14), NULL, 10);
		k->within = strtod(F(15), NULL);
		k->nwithin = strtol(F(16), NULL, 10);
		get_list(F(17), &k->avg, &k->at, &k->n, &k->cap);
		get_list(F(18), &k->freqs, NULL, &k->nfreq, &k->capfreq);
		get_list(F(19), &k->news, NULL, &k->nnew, &k->capnew);
		k->limit_firing = col[20] >= 0 ? atoi(F(20)) : 0;
#undef F
		rc = 0;
	}
	if (rc == -1)
		warnx("%s", csvin_error(in));
	csvin_free(in);
	fclose(fp);
	return rc < 0 ? -1 : 0;
}

/* --limit L,...: levels, or percentages over the baseline ("50%"), in
 * ascending order; not both kinds (their order would differ by key). */
static void
parse_limits(struct drift_opts *o, const char *arg)
{
	char *copy = xstrdup(arg), *tok, *save = NULL;

	o->nlimit = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);
		int pct = len > 0 && tok[len - 1] == '%';
		if (o->nlimit == MAX_LIMITS)
			cli_usage_error("--limit: %d limits at most: '%s'",
			    MAX_LIMITS, arg);
		if (pct)
			tok[len - 1] = '\0';
		if (o->nlimit > 0 && pct != o->pct[0])
			cli_usage_error("--limit: levels or percentages, not "
			    "both: '%s'", arg);
		o->pct[o->nlimit] = pct;
		o->limit[o->nlimit] = cli_double("--limit", tok,
		    pct ? 0.001 : -1e300, 1e300);
		if (o->nlimit > 0 &&
		    o->limit[o->nlimit] <= o->limit[o->nlimit - 1])
			cli_usage_error("--limit: not in ascending order: '%s'",
			    arg);
		o->nlimit++;
	}
	free(copy);
	if (o->nlimit == 0)
		cli_usage_error("--limit: no limit: '%s'", arg);
}

int
cmd_drift(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "every", required_argument, NULL, 'e' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "snr", required_argument, NULL, 's' },
		{ "tol", required_argument, NULL, 't' },
		{ "slack", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 'S' },
		{ "threshold", required_argument, NULL, 'H' },
		{ "window", required_argument, NULL, 'w' },
		{ "limit", required_argument, NULL, 'l' },
		{ "lead", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	static const char *const header[] = { "ts", "alert", "severity",
		"state", "key", "value", "limit", "message" };
	struct drift_opts o = { 43200000000LL, 30 * 86400000000LL, 10, 0.02,
		0.5, 6, 30 * 86400000000LL, 14 * 86400000000LL, 0, { 0 },
		{ 0 } };
	struct drift d = { .o = &o };
	struct columns c;
	const char *name = "stdin", *state = NULL;
	FILE *fp = stdin;
	struct csv_in *in;
	int opt, rc, peaks;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e': o.every = ts_from_sec(cli_seconds("--every", optarg, 1e-3, 1e9)); break;
		case 'b': o.baseline = ts_from_sec(cli_seconds("--baseline", optarg, 1e-3, 1e9)); break;
		case 's': o.snr = cli_double("--snr", optarg, -1000, 1000); break;
		case 't': o.tol = cli_double("--tol", optarg, 0, 0.5); break;
		case 'k': o.k = cli_double("--slack", optarg, 0, 10); break;
		case 'S': state = optarg; break;
		case 'H': o.h = cli_double("--threshold", optarg, 0.1, 100); break;
		case 'w': o.window = ts_from_sec(cli_seconds("--window", optarg, 1e-3, 1e9)); break;
		case 'l': parse_limits(&o, optarg); break;
		case 'L': o.lead = ts_from_sec(cli_seconds("--lead", optarg, 1e-3, 1e9)); break;
		case 'h': usage(0);
		default: cli_usage_hint();
		}
	}
	if (argc - optind > 1)
		cli_usage_error("one input at most");
	if (optind < argc && (fp = cli_open(argv[optind], &name)) == NULL)
		return 1;
	in = csvin_new(fp, name);
	if (csvin_header(in) < 0)
		errx(1, "%s", csvin_error(in));
	c = (struct columns){ csvin_col(in, "ts"), csvin_col(in, "series"),
		csvin_col(in, "value"), csvin_col(in, "src"),
		csvin_col(in, "roi"), csvin_col(in, "pt"),
		csvin_col(in, "axis"), csvin_col(in, "rank"),
		csvin_col(in, "freq_hz"), csvin_col(in, "amp"),
		csvin_col(in, "snr_db") };
	peaks = c.freq >= 0 || c.amp >= 0;
	if (c.ts < 0)
		errx(1, "%s: no column \"ts\"", name);
	if (!peaks && (c.series < 0 || c.value < 0))
		errx(1, "%s: no column \"%s\" (series CSV has ts,series,value;"
		    " peaks CSV ts,src,roi,pt,axis,rank,freq_hz,amp,...,snr_db)",
		    name, c.series < 0 ? "series" : "value");
	if (peaks && (c.src < 0 || c.roi < 0 || c.pt < 0 || c.axis < 0 ||
	    c.rank < 0 || c.freq < 0 || c.amp < 0 || c.snr < 0))
		errx(1, "%s: peaks CSV needs ts,src,roi,pt,axis,rank,freq_hz,"
		    "amp,snr_db", name);
	strmap_init(&d.keys);
	if (state != NULL && state_load(&d, state) < 0)
		exit(1);
	csvout_init(&d.out, stdout);
	csvout_row(&d.out, 8, header);
	rc = read_rows(&d, in, &c, peaks);
	if (rc < 0)
		warnx("%s", csvin_error(in));
	else if (state == NULL)         /* the last, partial average */
		strmap_each(&d.keys, finish_key, &d);
	else                            /* goes on in the next run */
		rc = state_save(&d, state);

	strmap_free(&d.keys, free_key);
	csvin_free(in);
	cli_close(fp);
	return rc < 0 ? 1 : 0;
}
