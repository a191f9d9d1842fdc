/*
 * thresh: alert rules over any CSV, one event per state change.
 * See thresh(1) and the rule syntax in toolchain-formats(5).
 */
#ifndef THRESH_H
#define THRESH_H

#include <stddef.h>

#include "csvio.h"
#include "strmap.h"
#include "tstime.h"

#define MAX_CONDS 16
#define MAX_KEY_COLS 8

enum cmp { CMP_GT, CMP_GE, CMP_LT, CMP_LE, CMP_EQ, CMP_NE, CMP_GLOB };

/* One "COL OP VALUE" of a rule's when. */
struct cond {
	char *col;
	int c_col;              /* input column, once the header is known */
	enum cmp op;
	char *text;             /* the value as written */
	double num;
	int is_num;
	int shared;             /* index among the distinct conditions */
};

struct rule;

/* One (rule, key): an independent alert. */
struct track {
	struct rule *rule;      /* NULL for --stale's per-key tracks */
	char *key;              /* "src=cam1,roi=pump", "" without key columns */
	int firing;
	ts_us since;            /* when it fired */
	int pending;            /* the raise condition holds, not yet for long */
	ts_us pending_since;
	long pending_rows;      /* observations it has held */
	ts_us last_seen;        /* --stale: the key's last row */
	/* COL/DUR rules: the key's last value, from which the next row's
	 * change is measured */
	int have_prev;
	ts_us prev_ts;
	double prev_v;
	/* The open observation: this key's rows with one timestamp. */
	int in_group, group_hit;
	ts_us group_ts;
	double worst;
	char worst_text[48];
	struct track *next_open;
};

/* Tracks by key: lib/strmap's table, holding struct track values. */
struct track_map {
	struct strmap map;
};

struct rule {
	char *alert, *severity, *column, *message;
	enum cmp op;            /* CMP_GT .. CMP_LE */
	double raise, clear;
	char *raise_text, *clear_text;
	ts_us for_time;         /* hold this long ... */
	long for_rows;          /* ... or for this many observations */
	char *key_cols[MAX_KEY_COLS];
	int nkeys;
	struct cond cond[MAX_CONDS];
	int nconds;
	const char *where;      /* "rules.csv: line 3", for messages */
	char *where_buf;

	int c_column, c_key[MAX_KEY_COLS];
	ts_us rate_per;         /* column "COL/DUR": COL's change per DUR */
	struct track_map tracks;
	int key_group;          /* index among the distinct key lists */
	struct track *last;     /* the track of the last row, a cache ... */
	long last_gen;          /* ... while its key group's key is this */
	long matched, valued;   /* rows its condition held for; with a value */
};

/* rules.c */
/* Rules from a rules CSV file; appends to *rules. Exits 1 on a bad rule
 * with the file's line. */
void rules_load(const char *path, struct rule **rules, int *nrules);
/* One rule given on the command line: a record of the rules CSV in the
 * column order of RULE_COLUMNS. Exits 2 on a bad rule. */
void rules_add_arg(const char *spec, int index, struct rule **rules,
    int *nrules);
#define RULE_COLUMNS "alert,severity,column,op,raise,clear,for,key,when,message"
/* Find every column a rule names in the input's header; -1 (with a
 * message) if one is missing. */
int rules_bind(struct rule *rules, int nrules, const struct csv_in *in);
/* Does a row's field satisfy the condition? */
int cond_holds(const struct cond *c, const char *field);
void rules_free(struct rule *rules, int nrules);
/* The event's message: the rule's template with its {fields} filled, or
 * "COLUMN VALUE OP LIMIT". */
void rule_message(const struct rule *r, const struct track *t, int firing,
    const char *value, char *out, size_t outsz);
const char *cmp_text(enum cmp op);
/* Does v pass "v OP limit"? */
int cmp_holds(enum cmp op, double v, double limit);

/* tracks.c */
void track_map_init(struct track_map *m);
struct track *track_find(struct track_map *m, const char *key);
struct track *track_get(struct track_map *m, const char *key);
void track_map_free(struct track_map *m);
/* Visit every track. */
void track_map_each(struct track_map *m, void (*fn)(struct track *, void *),
    void *arg);

#endif
