/*
 * thresh: alerts from any CSV, with hysteresis, persistence, per-key
 * state, stale keys and state kept across restarts. See thresh(1).
 *
 * The rows of one key that share a timestamp are one observation (the
 * peaks of one window, say); its value is the worst of them. An alert
 * fires as soon as an observation passes the raise level for long enough,
 * and clears when a whole observation is back past the clear level: so
 * the input's time moving on closes the observations still open.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "csvio.h"
#include "state.h"
#include "thresh.h"
#include "xalloc.h"

#define IDLE_POLL_MS 250
#define SAVE_EVERY_S 10

struct options {
	const char *time_col, *state_path;
	ts_us stale;            /* 0: off */
	int skip_bad, iso, check_only;
};

/*
 * Work shared between rules, done once per row: rules often test the same
 * conditions (pt=* unit=mm/s) and share key columns (src,roi), and the
 * next row usually has the key of the last one.
 */
struct key_group {
	const struct rule *proto;       /* its key columns */
	char *key, *next;               /* this row's key; a buffer */
	size_t cap;
	long row;                       /* built for this row */
	long gen;                       /* bumped when the key changes */
	struct track *stale;            /* --stale: its track, for gen */
	long stale_gen;
};

struct state {
	const struct options *opt;
	struct rule *rules;
	int nrules;
	struct csv_in *in;
	struct csv_out out;
	int c_time;
	ts_us row_ts;           /* the current row's time */
	ts_us clock;            /* the latest time in the input */
	ts_us prev_ts;          /* the last row's time */
	int have_clock;
	struct track *open;     /* tracks with an open observation */
	struct track_map stale; /* --stale: each key's last row */
	ts_us next_stale_scan;
	double clock_wall;      /* monotonic seconds when the clock moved */
	double last_save;
	char *key;              /* the key being built */
	size_t keycap;
	double *value;          /* each rule's value in the current row */
	int *applies;
	long rows;              /* rows read */
	double *col_value;      /* each input column's value ... */
	long *col_row;          /* ... as read in this row */
	struct key_group *groups;       /* distinct key column lists */
	int ngroups;
	int *cond_value;        /* each distinct condition's result ... */
	long *cond_row;         /* ... for this row */
	long events, skipped;
};

static volatile sig_atomic_t stop_signal;

static void
usage(FILE *fp, int status)
{
	fputs("usage: thresh (--rules FILE | --rule SPEC)... [--time COL] "
	    "[--stale DUR]\n"
	    "              [--state FILE] [--skip-bad] [--iso] [--check] "
	    "[input]\n"
	    "\n"
	    "Alerts from any CSV: one row per state change of each rule and "
	    "key,\n"
	    "ts,alert,severity,state,key,value,limit,message (state firing "
	    "or resolved).\n"
	    "\n"
	    "  --rules FILE   rules CSV with the columns\n"
	    "                 " RULE_COLUMNS "\n"
	    "  --rule SPEC    one rule: a record of those columns in that "
	    "order,\n"
	    "                 e.g. 'hot,warning,temp_c,>,80,75,30s,sensor'\n"
	    "  --time COL     the time column (default ts)\n"
	    "  --stale DUR    a key silent this long raises 'stale' until "
	    "it reports\n"
	    "  --state FILE   keep alert state in FILE across restarts\n"
	    "  --skip-bad     skip rows with a bad time or value, and count "
	    "them\n"
	    "  --iso          write times as RFC 3339\n"
	    "  --check        check the rules and exit\n"
	    "  -h, --help     this help\n"
	    "      --version  the version\n"
	    "\n"
	    "Rule syntax: toolchain-formats(5). Examples: thresh(1).\n", fp);
	exit(status);
}

static void
parse_args(int argc, char **argv, struct options *o, struct rule **rules,
    int *nrules)
{
	enum { O_RULES = 256, O_RULE, O_TIME, O_STALE, O_STATE, O_SKIP,
		O_ISO, O_CHECK, O_VERSION };
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, O_RULES },
		{ "rule", required_argument, NULL, O_RULE },
		{ "time", required_argument, NULL, O_TIME },
		{ "stale", required_argument, NULL, O_STALE },
		{ "state", required_argument, NULL, O_STATE },
		{ "skip-bad", no_argument, NULL, O_SKIP },
		{ "iso", no_argument, NULL, O_ISO },
		{ "check", no_argument, NULL, O_CHECK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c, nrule_args = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_RULES: rules_load(optarg, rules, nrules); break;
		case O_RULE:
			rules_add_arg(optarg, ++nrule_args, rules, nrules);
			break;
		case O_TIME: o->time_col = optarg; break;
		case O_STALE:
			o->stale = ts_from_sec(cli_seconds("--stale", optarg,
			    0.001, 365 * 86400.0));
			break;
		case O_STATE: o->state_path = optarg; break;
		case O_SKIP: o->skip_bad = 1; break;
		case O_ISO: o->iso = 1; break;
		case O_CHECK: o->check_only = 1; break;
		case 'h': usage(stdout, 0); break;
		case O_VERSION: cli_version(); break;
		default: cli_usage_hint();
		}
	}
	if (*nrules == 0)
		cli_usage_error("no rules: give --rules FILE or --rule SPEC");
	if (argc - optind > 1)
		cli_usage_error("one input at most");
}

/* ---- events ---- */

static void
emit(struct state *st, ts_us t, const char *alert, const char *severity,
    const char *what, const char *key, const char *value, const char *limit,
    const char *message)
{
	csvout_time(&st->out, t, st->opt->iso);
	csvout_str(&st->out, alert);
	csvout_str(&st->out, severity);
	csvout_str(&st->out, what);
	csvout_str(&st->out, key);
	csvout_str(&st->out, value);
	csvout_str(&st->out, limit);
	csvout_str(&st->out, message);
	csvout_end(&st->out);
	st->events++;
}

static void
emit_rule(struct state *st, struct track *t, ts_us at, int firing)
{
	struct rule *r = t->rule;
	const char *limit = firing ? r->raise_text : r->clear_text;
	char msg[1024];

	rule_message(r, t, firing, t->worst_text, msg, sizeof msg);
	emit(st, at, r->alert, r->severity, firing ? "firing" : "resolved",
	    t->key, t->worst_text, limit, msg);
}

/* ---- one rule's state machine ---- */

/* Is a worse than b, in the direction the rule raises? */
static int
worse(enum cmp op, double a, double b)
{
	return op <= CMP_GE ? a > b : a < b;
}

static int
held_long_enough(const struct rule *r, const struct track *t, ts_us now)
{
	if (r->for_rows > 0)
		return t->pending_rows >= r->for_rows;
	return now - t->pending_since >= r->for_time;
}

/* The observation is complete: clear the alert, or forget a persistence
 * count it broke. */
static void
close_observation(struct state *st, struct track *t)
{
	struct rule *r = t->rule;

	t->in_group = 0;
	if (t->firing) {
		if (!cmp_holds(r->op, t->worst, r->clear)) {
			t->firing = 0;
			emit_rule(st, t, t->group_ts, 0);
		}
	} else if (t->pending && !t->group_hit) {
		t->pending = 0;
	}
}

static void
close_all(struct state *st)
{
	struct track *t = st->open, *next;

	for (; t != NULL; t = next) {
		next = t->next_open;
		t->next_open = NULL;
		close_observation(st, t);
	}
	st->open = NULL;
}

/* The value as the input wrote it, for the event (cut if absurdly long). */
static void
set_worst_text(struct track *t, const char *text)
{
	size_t n = strnlen(text, sizeof t->worst_text - 1);

	memcpy(t->worst_text, text, n);
	t->worst_text[n] = '\0';
}

static void
observe(struct state *st, struct track *t, double v, const char *text)
{
	struct rule *r = t->rule;

	if (t->in_group && t->group_ts != st->row_ts)
		close_observation(st, t);       /* out of order: its own */
	if (!t->in_group) {
		t->in_group = 1;
		t->group_hit = 0;
		t->group_ts = st->row_ts;
		t->worst = v;
		set_worst_text(t, text);
		t->next_open = st->open;
		st->open = t;
	} else if (worse(r->op, v, t->worst)) {
		t->worst = v;
		set_worst_text(t, text);
	}
	if (t->firing || t->group_hit || !cmp_holds(r->op, t->worst,
	    r->raise))
		return;
	t->group_hit = 1;
	if (!t->pending) {
		t->pending = 1;
		t->pending_since = st->row_ts;
		t->pending_rows = 0;
	}
	t->pending_rows++;
	if (held_long_enough(r, t, st->row_ts)) {
		t->pending = 0;
		t->firing = 1;
		t->since = st->row_ts;
		emit_rule(st, t, st->row_ts, 1);
	}
}

/* A COL/DUR rule: the change of the key's value since its last row, per
 * DUR, is what is judged; a key's first row (or one no later than the
 * last) only sets where the next change starts. */
static void
observe_change(struct state *st, struct track *t, double v)
{
	char text[48];
	double rate;

	if (t->have_prev && st->row_ts <= t->prev_ts)
		return;
	if (!t->have_prev) {
		t->have_prev = 1;
		t->prev_ts = st->row_ts;
		t->prev_v = v;
		return;
	}
	rate = (v - t->prev_v) * ((double)t->rule->rate_per /
	    (double)(st->row_ts - t->prev_ts));
	t->prev_ts = st->row_ts;
	t->prev_v = v;
	snprintf(text, sizeof text, "%.6g", rate);
	observe(st, t, rate, text);
}

/* ---- stale keys ---- */

struct scan {
	struct state *st;
	ts_us now;
};

static void
stale_check(struct track *t, void *arg)
{
	struct scan *sc = arg;
	struct state *st = sc->st;
	ts_us limit = st->opt->stale;
	char value[32], limit_text[32], msg[96];

	if (t->firing || sc->now - t->last_seen <= limit)
		return;
	t->firing = 1;
	snprintf(value, sizeof value, "%.3f", ts_to_sec(sc->now - t->last_seen));
	snprintf(limit_text, sizeof limit_text, "%g", ts_to_sec(limit));
	snprintf(msg, sizeof msg, "no data for more than %ss", limit_text);
	emit(st, t->last_seen + limit, "stale", "warning", "firing", t->key,
	    value, limit_text, msg);
}

/* Every key silent for longer than --stale at time now fires. */
static void
stale_scan(struct state *st, ts_us now)
{
	struct scan sc = { st, now };

	track_map_each(&st->stale, stale_check, &sc);
	/* a tenth of the limit, so an alert is at most that late */
	st->next_stale_scan = now + (st->opt->stale + 9) / 10;
}

/* A row of the group's key came: the key is not stale, and if it was,
 * that is resolved. */
static void
stale_seen(struct state *st, struct key_group *g)
{
	struct track *t;
	char value[32], limit[32], msg[96];

	if (g->stale == NULL || g->stale_gen != g->gen) {
		g->stale = track_get(&st->stale, g->key);
		g->stale_gen = g->gen;
	}
	t = g->stale;
	if (t->firing) {
		t->firing = 0;
		snprintf(value, sizeof value, "%.3f",
		    ts_to_sec(st->row_ts - t->last_seen));
		snprintf(limit, sizeof limit, "%g", ts_to_sec(st->opt->stale));
		snprintf(msg, sizeof msg, "data again after %ss", value);
		emit(st, st->row_ts, "stale", "warning", "resolved", t->key,
		    value, limit, msg);
	}
	if (t->last_seen == 0 || st->row_ts > t->last_seen)
		t->last_seen = st->row_ts;
}

/* ---- rows ---- */


static int
same_key_cols(const struct rule *a, const struct rule *b)
{
	if (a->nkeys != b->nkeys)
		return 0;
	for (int k = 0; k < a->nkeys; k++)
		if (a->c_key[k] != b->c_key[k])
			return 0;
	return 1;
}

static int
same_cond(const struct cond *a, const struct cond *b)
{
	return a->c_col == b->c_col && a->op == b->op &&
	    strcmp(a->text, b->text) == 0;
}

/* Number the distinct conditions and key column lists. */
static void
share_work(struct state *st)
{
	const struct cond **uniq = NULL;
	int nuniq = 0;

	st->groups = xcalloc((size_t)st->nrules, sizeof *st->groups);
	for (int i = 0; i < st->nrules; i++) {
		struct rule *r = &st->rules[i];
		int g = 0;

		while (g < st->ngroups && !same_key_cols(st->groups[g].proto, r))
			g++;
		if (g == st->ngroups)
			st->groups[st->ngroups++].proto = r;
		r->key_group = g;
		for (int k = 0; k < r->nconds; k++) {
			int u = 0;

			while (u < nuniq && !same_cond(uniq[u], &r->cond[k]))
				u++;
			if (u == nuniq) {
				uniq = xreallocarray(uniq, (size_t)nuniq + 1,
				    sizeof *uniq);
				uniq[nuniq++] = &r->cond[k];
			}
			r->cond[k].shared = u;
		}
	}
	free(uniq);
	st->cond_value = xcalloc((size_t)nuniq + 1, sizeof *st->cond_value);
	st->cond_row = xcalloc((size_t)nuniq + 1, sizeof *st->cond_row);
}

static int
applies(struct state *st, const struct rule *r)
{
	for (int k = 0; k < r->nconds; k++) {
		const struct cond *c = &r->cond[k];
		int u = c->shared;

		if (st->cond_row[u] != st->rows) {
			st->cond_row[u] = st->rows;
			st->cond_value[u] = cond_holds(c,
			    csvin_field(st->in, (size_t)c->c_col));
		}
		if (!st->cond_value[u])
			return 0;
	}
	return 1;
}

static void
key_append(struct key_group *g, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > g->cap) {
		g->cap = (*len + n + 1) * 2;
		g->next = xreallocarray(g->next, g->cap, 1);
		g->key = xreallocarray(g->key, g->cap, 1);
	}
	memcpy(g->next + *len, s, n);
	*len += n;
}

/* The row's key in group g: "col=value,col=value" (quoted by the CSV
 * writer if a value holds a comma). */
static struct key_group *
row_key(struct state *st, int gi)
{
	struct key_group *g = &st->groups[gi];
	const struct rule *r = g->proto;
	size_t len = 0;
	char *swap;

	if (g->row == st->rows)
		return g;
	g->row = st->rows;
	for (int k = 0; k < r->nkeys; k++) {
		size_t col = (size_t)r->c_key[k];

		if (k > 0)
			key_append(g, &len, ",", 1);
		key_append(g, &len, r->key_cols[k], strlen(r->key_cols[k]));
		key_append(g, &len, "=", 1);
		key_append(g, &len, csvin_field(st->in, col),
		    csvin_field_len(st->in, col));
	}
	key_append(g, &len, "", 1);
	if (g->gen == 0 || strcmp(g->next, g->key) != 0) {
		swap = g->key;
		g->key = g->next;
		g->next = swap;
		g->gen++;
	}
	return g;
}

static struct track *
rule_track(struct rule *r, const struct key_group *g)
{
	if (r->last == NULL || r->last_gen != g->gen) {
		r->last = track_get(&r->tracks, g->key);
		r->last->rule = r;
		r->last_gen = g->gen;
	}
	return r->last;
}

/* Read the time and every value the row's rules test, before anything
 * changes: a bad row changes nothing. 0, or -1 with csvin_error(). */
static int
check_row(struct state *st)
{
	struct csv_in *in = st->in;
	const char *tf = csvin_field(in, (size_t)st->c_time);

	st->rows++;
	if (ts_parse(tf, &st->row_ts) < 0)
		return csvin_field_error(in, (size_t)st->c_time,
		    "not a time");
	for (int i = 0; i < st->nrules; i++) {
		struct rule *r = &st->rules[i];
		const char *f;

		st->applies[i] = applies(st, r);
		if (!st->applies[i])
			continue;
		r->matched++;
		f = csvin_field(in, (size_t)r->c_column);
		if (*f == '\0') {      /* no value: nothing to judge */
			st->applies[i] = 0;
			continue;
		}
		r->valued++;
		/* rules on one column read it once */
		if (st->col_row[r->c_column] == st->rows) {
			st->value[i] = st->col_value[r->c_column];
			continue;
		}
		if (csvin_double(in, (size_t)r->c_column, &st->value[i]) < 0)
			return -1;
		st->col_value[r->c_column] = st->value[i];
		st->col_row[r->c_column] = st->rows;
	}
	return 0;
}

static void
apply_row(struct state *st)
{
	/* a new time completes the observations still open */
	if (!st->have_clock || st->row_ts != st->prev_ts)
		close_all(st);
	if (!st->have_clock || st->row_ts > st->clock)
		st->clock = st->row_ts;
	st->have_clock = 1;
	st->prev_ts = st->row_ts;
	if (st->opt->stale) {
		st->clock_wall = ts_elapsed();
		for (int g = 0; g < st->ngroups; g++)
			stale_seen(st, row_key(st, g));
	}
	for (int i = 0; i < st->nrules; i++) {
		struct rule *r = &st->rules[i];
		struct track *t;

		if (!st->applies[i])
			continue;
		t = rule_track(r, row_key(st, r->key_group));
		if (r->rate_per > 0)
			observe_change(st, t, st->value[i]);
		else
			observe(st, t, st->value[i],
			    csvin_field(st->in, (size_t)r->c_column));
	}
	if (st->opt->stale && st->clock >= st->next_stale_scan)
		stale_scan(st, st->clock);
}

/* ---- the loop ---- */

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void
catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;     /* no SA_RESTART: wake the wait */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int
save_state(struct state *st)
{
	st->last_save = ts_elapsed();
	if (st->opt->state_path == NULL)
		return 0;
	return state_save(st->opt->state_path, st->rules, st->nrules,
	    &st->stale);
}

/* Events go out at once, then the state that follows from them is saved:
 * a crash in between sends an event again rather than never. */
static int
flush_events(struct state *st, long before)
{
	if (st->events != before) {
		fflush(stdout);
		cli_check_write(stdout, "stdout");
		return save_state(st);
	}
	/* the clock is read now and then, not for every row */
	if (st->opt->state_path != NULL && (st->rows & 255) == 0 &&
	    ts_elapsed() - st->last_save >= SAVE_EVERY_S)
		return save_state(st);
	return 0;
}

/* Wait for the next row; meanwhile a quiet input's keys may go stale.
 * 0 when a row (or the end) is ready, -1 on a stop signal. */
static int
wait_for_row(struct state *st)
{
	while (!csvin_wait(st->in, IDLE_POLL_MS)) {
		long before = st->events;

		if (stop_signal)
			return -1;
		if (st->opt->stale && st->have_clock)
			stale_scan(st, st->clock + ts_from_sec(ts_elapsed() -
			    st->clock_wall));
		if (flush_events(st, before) < 0)
			return -1;
	}
	return stop_signal ? -1 : 0;
}

static int
bad_row(struct state *st)
{
	if (!st->opt->skip_bad) {
		warnx("%s", csvin_error(st->in));
		return -1;
	}
	if (st->skipped++ < 5)
		warnx("%s (skipped)", csvin_error(st->in));
	return 0;
}

/* A rule that could not have fired on any row: its condition held for
 * none, or its column was empty wherever it did (a header and no event
 * would otherwise look like a healthy machine). Said once, at the end. */
static void
say_idle_rules(struct state *st)
{
	for (int i = 0; i < st->nrules; i++) {
		const struct rule *r = &st->rules[i];
		if (st->rows == 0 || r->valued > 0)
			continue;
		if (r->matched == 0)
			warnx("%s: rule \"%s\": its when condition held for "
			    "none of the %ld rows", r->where, r->alert, st->rows);
		else
			warnx("%s: rule \"%s\": column \"%s\" was empty in "
			    "all %ld rows its condition held for", r->where,
			    r->alert, r->column, r->matched);
	}
}

static int
run(struct state *st)
{
	int rc, status = 0;

	while ((st->opt->stale == 0 && st->opt->state_path == NULL) ||
	    wait_for_row(st) == 0) {
		long before = st->events;

		if ((rc = csvin_read(st->in)) <= 0) {
			if (rc < 0) {
				warnx("%s", csvin_error(st->in));
				status = 1;
			}
			break;
		}
		if (check_row(st) < 0) {
			if (bad_row(st) < 0) {
				status = 1;
				break;
			}
			continue;
		}
		apply_row(st);
		if (flush_events(st, before) < 0) {
			status = 1;
			break;
		}
	}
	/* The end of the input completes the open observations. */
	if (status == 0)
		close_all(st);
	fflush(stdout);
	cli_check_write(stdout, "stdout");
	if (save_state(st) < 0)
		status = 1;
	if (st->skipped > 0)
		warnx("%s: %ld bad rows skipped", csvin_name(st->in),
		    st->skipped);
	/* a rule is idle only over an input read to its end */
	if (status == 0 && !stop_signal)
		say_idle_rules(st);
	return status;
}

static int
start(struct state *st)
{
	const char *name = csvin_name(st->in);

	if (csvin_header(st->in) < 0) {
		/* stopped (Ctrl-C on the pipe) before the first line came:
		 * nothing was read, nothing to say */
		if (stop_signal)
			return 1;
		warnx("%s", csvin_error(st->in));
		return -1;
	}
	st->c_time = csvin_col(st->in, st->opt->time_col);
	if (st->c_time < 0) {
		warnx("%s: no time column \"%s\" (see --time)", name,
		    st->opt->time_col);
		return -1;
	}
	if (rules_bind(st->rules, st->nrules, st->in) < 0)
		return -1;
	st->col_value = xcalloc(csvin_ncols(st->in), sizeof *st->col_value);
	st->col_row = xcalloc(csvin_ncols(st->in), sizeof *st->col_row);
	share_work(st);
	if (st->opt->state_path != NULL &&
	    state_load(st->opt->state_path, st->rules, st->nrules,
	    &st->stale) < 0)
		return -1;
	csvout_init(&st->out, stdout);
	fputs("ts,alert,severity,state,key,value,limit,message\n", stdout);
	fflush(stdout);
	cli_check_write(stdout, "stdout");
	st->last_save = ts_elapsed();
	csvin_background(st->in);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o = { .time_col = "ts" };
	struct state st = { .opt = &o };
	const char *name = "stdin";
	FILE *fp = stdin;
	int status = 1, rc;

	cli_init(argv);
	parse_args(argc, argv, &o, &st.rules, &st.nrules);
	for (int i = 0; i < st.nrules; i++)
		track_map_init(&st.rules[i].tracks);
	if (o.check_only) {
		rules_free(st.rules, st.nrules);
		return cli_finish(0);
	}
	if (optind < argc && (fp = cli_open(argv[optind], &name)) == NULL) {
		rules_free(st.rules, st.nrules);
		return 1;
	}
	track_map_init(&st.stale);
	st.value = xcalloc((size_t)st.nrules, sizeof *st.value);
	st.applies = xcalloc((size_t)st.nrules, sizeof *st.applies);
	st.in = csvin_new(fp, name);
	if (o.state_path != NULL)
		catch_stop_signals();
	if ((rc = start(&st)) == 0)
		status = run(&st);
	else if (rc > 0)
		status = 0;
	csvin_free(st.in);
	cli_close(fp);
	rules_free(st.rules, st.nrules);
	track_map_free(&st.stale);
	free(st.value);
	free(st.applies);
	free(st.col_value);
	free(st.col_row);
	free(st.cond_value);
	free(st.cond_row);
	for (int g = 0; g < st.ngroups; g++) {
		free(st.groups[g].key);
		free(st.groups[g].next);
	}
	free(st.groups);
	free(st.key);
	return cli_finish(status);
}
