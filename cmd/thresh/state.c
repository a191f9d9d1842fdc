#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "fsync.h"
#include "state.h"
#include "xalloc.h"

/* The columns; the last two (a COL/DUR rule's last value) may be absent
 * from a file an older thresh wrote. */
static const char *const columns[] = { "alert", "key", "state", "since",
	"pending_since", "pending_rows", "last_seen", "prev_ts", "prev_value" };
#define NCOLS (sizeof columns / sizeof columns[0])
#define NCOLS_NEEDED 7

static struct rule *
find_rule(struct rule *rules, int nrules, const char *alert)
{
	for (int i = 0; i < nrules; i++)
		if (strcmp(rules[i].alert, alert) == 0)
			return &rules[i];
	return NULL;
}

static int
get_time(struct csv_in *in, int col, ts_us *t)
{
	const char *f = csvin_field(in, (size_t)col);

	*t = 0;
	if (*f == '\0' || ts_parse(f, t) == 0)
		return 0;
	return csvin_field_error(in, (size_t)col, "not a time");
}

/* One line of the file into the track it describes. */
static int
load_line(struct csv_in *in, const int *col, struct rule *rules, int nrules,
    struct track_map *stale)
{
	const char *alert = csvin_field(in, (size_t)col[0]);
	const char *key = csvin_field(in, (size_t)col[1]);
	const char *what = csvin_field(in, (size_t)col[2]);
	struct rule *r = NULL;
	struct track *t;
	ts_us since, pending_since, last_seen;
	double rows;

	if (get_time(in, col[3], &since) < 0 ||
	    get_time(in, col[4], &pending_since) < 0 ||
	    get_time(in, col[6], &last_seen) < 0 ||
	    csvin_double(in, (size_t)col[5], &rows) < 0)
		return -1;
	if (strcmp(what, "firing") != 0 && strcmp(what, "pending") != 0 &&
	    strcmp(what, "ok") != 0)
		return csvin_field_error(in, (size_t)col[2],
		    "expected firing, pending or ok");
	if (strcmp(alert, "stale") == 0) {
		t = track_get(stale, key);
	} else if ((r = find_rule(rules, nrules, alert)) != NULL) {
		t = track_get(&r->tracks, key);
		t->rule = r;
	} else {
		warnx("%s: line %ld: no rule \"%s\" now: its state is dropped",
		    csvin_name(in), csvin_line(in), alert);
		return 0;
	}
	t->firing = strcmp(what, "firing") == 0;
	t->pending = strcmp(what, "pending") == 0;
	t->since = since;
	t->pending_since = pending_since;
	t->pending_rows = (long)rows;
	t->last_seen = last_seen;
	if (col[7] >= 0 && col[8] >= 0 && *csvin_field(in, (size_t)col[7])) {
		if (get_time(in, col[7], &t->prev_ts) < 0 ||
		    csvin_double(in, (size_t)col[8], &t->prev_v) < 0)
			return -1;
		t->have_prev = 1;
	}
	return 0;
}

int
state_load(const char *path, struct rule *rules, int nrules,
    struct track_map *stale)
{
	FILE *fp = fopen(path, "r");
	struct csv_in *in;
	int col[NCOLS], rc = 0;

	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;
		warn("%s", path);
		return -1;
	}
	in = csvin_new(fp, path);
	if (csvin_header(in) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < NCOLS; i++)
		if ((col[i] = csvin_col(in, columns[i])) < 0 &&
		    i < NCOLS_NEEDED) {
			warnx("%s: not a thresh state file: no column \"%s\"",
			    path, columns[i]);
			fclose(fp);
			csvin_free(in);
			return -1;
		}
	while (rc == 0 && (rc = csvin_read(in)) > 0)
		rc = load_line(in, col, rules, nrules, stale);
	if (rc < 0)
		warnx("%s", csvin_error(in));
	csvin_free(in);
	fclose(fp);
	return rc < 0 ? -1 : 0;
}


static void
write_time(struct csv_out *w, ts_us t, int set)
{
	char buf[TS_BUFSZ];

	csvout_str(w, set ? ts_format_unix(t, buf) : "");
}

static void
write_track(struct track *t, void *arg)
{
	struct csv_out *w = arg;
	const char *what = t->firing ? "firing" : t->pending ? "pending" : "ok";

	/* a rule's quiet key has nothing to remember, but where a change
	 * starts from */
	if (t->rule != NULL && !t->firing && !t->pending && !t->have_prev)
		return;
	csvout_str(w, t->rule != NULL ? t->rule->alert : "stale");
	csvout_str(w, t->key);
	csvout_str(w, what);
	write_time(w, t->since, t->firing && t->rule != NULL);
	write_time(w, t->pending_since, t->pending);
	csvout_long(w, t->pending ? t->pending_rows : 0);
	write_time(w, t->last_seen, t->rule == NULL);
	write_time(w, t->prev_ts, t->have_prev);
	if (t->have_prev) {     /* every digit: LC_NUMERIC stays "C" */
		char buf[32];
		snprintf(buf, sizeof buf, "%.17g", t->prev_v);
		csvout_str(w, buf);
	} else {
		csvout_str(w, "");
	}
	csvout_end(w);
}

int
state_save(const char *path, struct rule *rules, int nrules,
    struct track_map *stale)
{
	size_t n = strlen(path) + 8;
	char *tmp = xmalloc(n);
	struct csv_out w;
	FILE *fp;
	int ok;

	snprintf(tmp, n, "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		warn("%s", tmp);
		free(tmp);
		return -1;
	}
	csvout_init(&w, fp);
	for (size_t i = 0; i < NCOLS; i++)
		csvout_str(&w, columns[i]);
	csvout_end(&w);
	for (int i = 0; i < nrules; i++)
		track_map_each(&rules[i].tracks, write_track, &w);
	track_map_each(stale, write_track, &w);
	ok = fflush(fp) == 0 && !ferror(fp) && fsync(fileno(fp)) == 0;
	if (!ok)
		warn("%s", tmp);
	if (fclose(fp) != 0 && ok) {
		warn("%s", tmp);
		ok = 0;
	}
	if (ok && (rename(tmp, path) != 0 || fsync_parent(path) != 0)) {
		warn("%s", path);
		ok = 0;
	}
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}
