/*
 * rules: the rules CSV (and --rule, one record of it) into struct rule.
 * The syntax is in toolchain-formats(5); every error names the rule's
 * file and line, or the --rule it came from.
 */
#include <csv.h>
#include <err.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "num.h"
#include "thresh.h"
#include "xalloc.h"

static const char *const rule_columns[] = { "alert", "severity", "column",
	"op", "raise", "clear", "for", "key", "when", "message" };
#define NRULECOLS (sizeof rule_columns / sizeof rule_columns[0])
#define NREQUIRED 5     /* alert .. raise */

static const char *const severities[] = { "info", "warning", "critical" };

/* A rule being read: its place, and how a bad one ends the program. */
struct rule_src {
	const char *where;
	int status;             /* 1 for a file, 2 for --rule */
};

static void __attribute__((format(printf, 2, 3), noreturn))
bad_rule(const struct rule_src *src, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	warnx("%s: %s", src->where, msg);
	if (src->status == EXIT_USAGE)
		cli_usage_hint();
	exit(src->status);
}

static int
parse_number(const char *s, double *out)
{
	return num_parse(s, strlen(s), out) == 0 ? 0 : -1;
}

const char *
cmp_text(enum cmp op)
{
	static const char *const text[] = { ">", ">=", "<", "<=", "=", "!=",
		"~" };
	return text[op];
}

int
cmp_holds(enum cmp op, double v, double limit)
{
	switch (op) {
	case CMP_GT: return v > limit;
	case CMP_GE: return v >= limit;
	case CMP_LT: return v < limit;
	case CMP_LE: return v <= limit;
	case CMP_EQ: return v == limit;
	case CMP_NE: return v != limit;
	default: return 0;
	}
}

/* The operator at the start of s, its length in *len; -1 if none. */
static int
parse_cmp(const char *s, size_t *len)
{
	/* two-character operators first */
	static const struct { const char *text; enum cmp op; } ops[] = {
		{ ">=", CMP_GE }, { "<=", CMP_LE }, { "!=", CMP_NE },
		{ ">", CMP_GT }, { "<", CMP_LT }, { "=", CMP_EQ },
		{ "~", CMP_GLOB } };

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		*len = strlen(ops[i].text);
		if (strncmp(s, ops[i].text, *len) == 0)
			return (int)ops[i].op;
	}
	return -1;
}

/* One "COL OP VALUE" of when. */
static void
parse_cond(const struct rule_src *src, const char *term, struct cond *c)
{
	size_t at = strcspn(term, "<>=!~"), oplen;
	int op = parse_cmp(term + at, &oplen);

	size_t run = strspn(term + at, "<>=!~");

	if (at == 0 || op < 0)
		bad_rule(src, "when: expected COLUMN OP VALUE (OP one of = != "
		    "< <= > >= ~): \"%s\"", term);
	/* "v=>3" or "v==9" would be "=" with the value ">3": a rule that
	 * never fires */
	if (run != oplen)
		bad_rule(src, "when: unknown operator \"%.*s\" (one of = != < "
		    "<= > >= ~): \"%s\"", (int)run, term + at, term);
	c->col = xstrdup(term);
	c->col[at] = '\0';
	c->op = (enum cmp)op;
	c->text = xstrdup(term + at + oplen);
	c->is_num = parse_number(c->text, &c->num) == 0;
	if (c->op <= CMP_LE && !c->is_num)
		bad_rule(src, "when: \"%s\": %s needs a number", term,
		    cmp_text(c->op));
}

static void
parse_when(const struct rule_src *src, const char *text, struct rule *r)
{
	char *copy = xstrdup(text), *save = NULL;

	for (char *t = strtok_r(copy, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save)) {
		if (r->nconds == MAX_CONDS)
			bad_rule(src, "when: more than %d conditions",
			    MAX_CONDS);
		parse_cond(src, t, &r->cond[r->nconds++]);
	}
	free(copy);
}

static void
parse_key(const struct rule_src *src, const char *text, struct rule *r)
{
	char *copy = xstrdup(text), *save = NULL;

	for (char *t = strtok_r(copy, ", \t", &save); t != NULL;
	    t = strtok_r(NULL, ", \t", &save)) {
		if (r->nkeys == MAX_KEY_COLS)
			bad_rule(src, "key: more than %d columns",
			    MAX_KEY_COLS);
		r->key_cols[r->nkeys++] = xstrdup(t);
	}
	free(copy);
}

/* for: "" or "0" (at once), a duration ("30s", "5m"; a bare number is
 * seconds), or a number of observations ("3 rows"). */
static void
parse_for(const struct rule_src *src, const char *text, struct rule *r)
{
	char *end;
	long n;

	if (*text == '\0')
		return;
	errno = 0;
	n = strtol(text, &end, 10);
	end += strspn(end, " ");
	if (end != text && errno == 0 && n > 0 &&
	    (strcmp(end, "rows") == 0 || strcmp(end, "row") == 0)) {
		r->for_rows = n;
		return;
	}
	if (ts_parse_duration(text, &r->for_time) < 0 || r->for_time < 0)
		bad_rule(src, "for: expected a duration (30s, 5m) or a count "
		    "(3 rows): \"%s\"", text);
}

static void
check_name(const struct rule_src *src, const char *alert)
{
	if (*alert == '\0')
		bad_rule(src, "alert: a rule needs a name");
	if (strspn(alert, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.:-") != strlen(alert))
		bad_rule(src, "alert: only letters, digits and _.:- in a "
		    "name: \"%s\"", alert);
	if (strcmp(alert, "stale") == 0)
		bad_rule(src, "alert: \"stale\" is the name --stale uses");
}

static void
check_severity(const struct rule_src *src, const char *sev)
{
	for (size_t i = 0; i < sizeof severities / sizeof severities[0]; i++)
		if (strcmp(sev, severities[i]) == 0)
			return;
	bad_rule(src, "severity: expected info, warning or critical: \"%s\"",
	    sev);
}

/* The levels: numbers, the clear level on the safe side of the raise
 * level (or equal), so that an alert cannot be firing and clear at once. */
static void
parse_levels(const struct rule_src *src, const char *raise,
    const char *clear, struct rule *r)
{
	if (parse_number(raise, &r->raise) < 0)
		bad_rule(src, "raise: not a number: \"%s\"", raise);
	if (*clear == '\0')
		clear = raise;
	if (parse_number(clear, &r->clear) < 0)
		bad_rule(src, "clear: not a number: \"%s\"", clear);
	r->raise_text = xstrdup(raise);
	r->clear_text = xstrdup(clear);
	if ((r->op <= CMP_GE && r->clear > r->raise) ||
	    (r->op >= CMP_LT && r->clear < r->raise))
		bad_rule(src, "clear: %s is past the raise level %s: an alert "
		    "would clear while still raised", clear, raise);
}

static void
parse_op(const struct rule_src *src, const char *text, struct rule *r)
{
	size_t len;
	int op = parse_cmp(text, &len);

	if (op < 0 || op > CMP_LE || text[len] != '\0')
		bad_rule(src, "op: expected >, >=, < or <=: \"%s\"", text);
	r->op = (enum cmp)op;
}

/* The fields a message may name besides the key columns. */
static const char *const message_fields[] = { "alert", "severity", "state",
	"key", "value", "limit", "column", "op" };
#define NMSGFIELDS (sizeof message_fields / sizeof message_fields[0])

/* Index of the field a "{name}" names: message_fields, then key columns
 * (NMSGFIELDS + k); -1 if none. */
static int
message_field(const struct rule *r, const char *name, size_t len)
{
	for (size_t i = 0; i < NMSGFIELDS; i++)
		if (strlen(message_fields[i]) == len &&
		    strncmp(message_fields[i], name, len) == 0)
			return (int)i;
	for (int k = 0; k < r->nkeys; k++)
		if (strlen(r->key_cols[k]) == len &&
		    strncmp(r->key_cols[k], name, len) == 0)
			return (int)NMSGFIELDS + k;
	return -1;
}

static void
check_message(const struct rule_src *src, const struct rule *r)
{
	for (const char *p = r->message; (p = strchr(p, '{')) != NULL; p++) {
		size_t len = strcspn(p + 1, "}");

		if (p[1 + len] != '}')
			bad_rule(src, "message: \"{\" without \"}\"");
		if (message_field(r, p + 1, len) < 0)
			bad_rule(src, "message: {%.*s}: not alert, severity, "
			    "state, key, value, limit, column, op or a key "
			    "column", (int)len, p + 1);
	}
}

/* In a key "c1=v1,c2=v2" from p on: the start of "NAME=" after a comma. */
static const char *
find_key_col(const char *p, const char *name)
{
	size_t n = strlen(name);

	while ((p = strchr(p, ',')) != NULL) {
		p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return p;
	}
	return NULL;
}

/* Key column k's value in the key: values are the row's own text, so
 * they may hold ',' or '=': go by the column names, which come in order. */
static void
key_value(const struct rule *r, const char *key, int k, const char **v,
    size_t *len)
{
	const char *p = key, *end;

	for (int i = 0; i <= k && p != NULL; i++)
		if (i > 0)
			p = find_key_col(p, r->key_cols[i]);
	if (p == NULL) {        /* not a key this rule built */
		*v = "";
		*len = 0;
		return;
	}
	p += strlen(r->key_cols[k]) + 1;
	end = k + 1 < r->nkeys ? find_key_col(p, r->key_cols[k + 1]) : NULL;
	*v = p;
	*len = end != NULL ? (size_t)(end - 1 - p) : strlen(p);
}

static enum cmp
negate(enum cmp op)
{
	static const enum cmp neg[] = { CMP_LE, CMP_LT, CMP_GE, CMP_GT };
	return neg[op];
}

void
rule_message(const struct rule *r, const struct track *t, int firing,
    const char *value, char *out, size_t outsz)
{
	const char *limit = firing ? r->raise_text : r->clear_text;
	const char *p = r->message;
	size_t o = 0;

	if (p == NULL) {
		snprintf(out, outsz, "%s %s %s %s", r->column, value,
		    cmp_text(firing ? r->op : negate(r->op)), limit);
		return;
	}
	out[0] = '\0';
	while (*p != '\0' && o + 1 < outsz) {
		const char *v = p;
		size_t len = 1, n = 0;
		int f = -1;

		if (*p == '{') {
			n = strcspn(p + 1, "}");
			f = message_field(r, p + 1, n);
		}
		switch (f) {
		case -1: break;
		case 0: v = r->alert; break;
		case 1: v = r->severity; break;
		case 2: v = firing ? "firing" : "resolved"; break;
		case 3: v = t->key; break;
		case 4: v = value; break;
		case 5: v = limit; break;
		case 6: v = r->column; break;
		case 7: v = cmp_text(firing ? r->op : negate(r->op)); break;
		default:
			key_value(r, t->key, f - (int)NMSGFIELDS, &v, &len);
			break;
		}
		if (f >= 0 && f < (int)NMSGFIELDS)
			len = strlen(v);
		if (len > outsz - 1 - o)
			len = outsz - 1 - o;
		memcpy(out + o, v, len);
		o += len;
		p += f >= 0 ? n + 2 : 1;
	}
	out[o] = '\0';
}

/* A rule from its fields, by rule column name; missing ones are "". */
static void
rule_from_fields(const struct rule_src *src, const char *const *value,
    struct rule *r)
{
	memset(r, 0, sizeof *r);
	r->where_buf = xstrdup(src->where);
	r->where = r->where_buf;
	for (size_t i = 0; i < NREQUIRED; i++)
		if (*value[i] == '\0')
			bad_rule(src, "%s: required", rule_columns[i]);
	check_name(src, value[0]);
	r->alert = xstrdup(value[0]);
	check_severity(src, value[1]);
	r->severity = xstrdup(value[1]);
	r->column = xstrdup(value[2]);
	parse_op(src, value[3], r);
	parse_levels(src, value[4], value[5], r);
	parse_for(src, value[6], r);
	parse_key(src, value[7], r);
	parse_when(src, value[8], r);
	r->message = *value[9] ? xstrdup(value[9]) : NULL;
	if (r->message != NULL)
		check_message(src, r);
}

static struct rule *
append(struct rule **rules, int *nrules, const struct rule_src *src,
    const char *alert)
{
	for (int i = 0; i < *nrules; i++)
		if (strcmp((*rules)[i].alert, alert) == 0)
			bad_rule(src, "alert: \"%s\" is already defined at %s",
			    alert, (*rules)[i].where);
	*rules = xreallocarray(*rules, (size_t)*nrules + 1, sizeof **rules);
	return &(*rules)[(*nrules)++];
}

void
rules_load(const char *path, struct rule **rules, int *nrules)
{
	FILE *fp = fopen(path, "r");
	struct csv_in *in;
	int col[NRULECOLS];
	char where[600];
	struct rule_src src = { where, 1 };
	int rc;

	if (fp == NULL)
		err(1, "%s", path);
	in = csvin_new(fp, path);
	if (csvin_header(in) < 0)
		errx(1, "%s", csvin_error(in));
	snprintf(where, sizeof where, "%s: line 1", path);
	for (size_t i = 0; i < csvin_ncols(in); i++) {
		size_t j = 0;
		while (j < NRULECOLS &&
		    strcmp(csvin_colname(in, i), rule_columns[j]) != 0)
			j++;
		if (j == NRULECOLS)
			bad_rule(&src, "unknown column \"%s\" (a rules file "
			    "has %s)", csvin_colname(in, i), RULE_COLUMNS);
	}
	for (size_t i = 0; i < NRULECOLS; i++) {
		col[i] = csvin_col(in, rule_columns[i]);
		if (col[i] < 0 && i < NREQUIRED)
			bad_rule(&src, "no column \"%s\" (a rules file has "
			    "%s)", rule_columns[i], RULE_COLUMNS);
	}
	while ((rc = csvin_read(in)) > 0) {
		const char *value[NRULECOLS];
		struct rule tmp;

		snprintf(where, sizeof where, "%s: line %ld", path,
		    csvin_line(in));
		for (size_t i = 0; i < NRULECOLS; i++)
			value[i] = col[i] >= 0 ? csvin_field(in, (size_t)col[i])
			    : "";
		rule_from_fields(&src, value, &tmp);
		*append(rules, nrules, &src, tmp.alert) = tmp;
	}
	if (rc < 0)
		errx(1, "%s", csvin_error(in));
	csvin_free(in);
	fclose(fp);
}

/* --rule: libcsv splits the record; fields go to rule_columns in order. */
struct split {
	char *field[NRULECOLS];
	size_t n;
	int too_many;
};

static void
on_split_field(void *s, size_t len, void *data)
{
	struct split *sp = data;
	char *f;

	if (sp->n == NRULECOLS) {
		sp->too_many = 1;
		return;
	}
	f = xmalloc(len + 1);
	memcpy(f, s, len);
	f[len] = '\0';
	sp->field[sp->n++] = f;
}

void
rules_add_arg(const char *spec, int index, struct rule **rules, int *nrules)
{
	struct csv_parser p;
	struct split sp = { { NULL }, 0, 0 };
	const char *value[NRULECOLS];
	char where[64];
	struct rule_src src = { where, EXIT_USAGE };
	struct rule tmp;
	size_t len = strlen(spec);

	snprintf(where, sizeof where, "--rule %d", index);
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		errx(1, "csv: cannot initialise the parser");
	if (strpbrk(spec, "\r\n") != NULL ||
	    csv_parse(&p, spec, len, on_split_field, NULL, &sp) != len ||
	    csv_fini(&p, on_split_field, NULL, &sp) != 0)
		bad_rule(&src, "not one CSV record: \"%s\"", spec);
	csv_free(&p);
	if (sp.too_many)
		bad_rule(&src, "more than %zu fields (%s)", NRULECOLS,
		    RULE_COLUMNS);
	for (size_t i = 0; i < NRULECOLS; i++)
		value[i] = i < sp.n ? sp.field[i] : "";
	rule_from_fields(&src, value, &tmp);
	*append(rules, nrules, &src, tmp.alert) = tmp;
	for (size_t i = 0; i < sp.n; i++)
		free(sp.field[i]);
}

static int
bind_col(const struct csv_in *in, const struct rule *r, const char *what,
    const char *col)
{
	int c = csvin_col(in, col);

	if (c < 0)
		warnx("%s: %s: no column \"%s\" in %s", r->where, what, col,
		    csvin_name(in));
	return c;
}

/*
 * The rule's column; "COL/DUR" that is not a column of its own is COL's
 * change per DUR ("level/1h": how fast a tank's level moves, per hour).
 */
static int
bind_value_col(const struct csv_in *in, struct rule *r)
{
	const char *slash = strrchr(r->column, '/');
	int c = csvin_col(in, r->column);

	r->rate_per = 0;
	if (c >= 0 || slash == NULL)
		return bind_col(in, r, "column", r->column);
	if (ts_parse_duration(slash + 1, &r->rate_per) < 0 ||
	    r->rate_per <= 0) {
		r->rate_per = 0;
		return bind_col(in, r, "column", r->column);
	}
	{
		char *name = xstrdup(r->column);
		name[slash - r->column] = '\0';
		c = csvin_col(in, name);
		free(name);
	}
	if (c >= 0)
		return c;
	warnx("%s: column: no column \"%.*s\" in %s (for %s: its change per "
	    "%s)", r->where, (int)(slash - r->column), r->column,
	    csvin_name(in), r->column, slash + 1);
	return -1;
}

int
rules_bind(struct rule *rules, int nrules, const struct csv_in *in)
{
	int bad = 0;

	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];

		if ((r->c_column = bind_value_col(in, r)) < 0)
			bad = 1;
		for (int k = 0; k < r->nkeys; k++)
			if ((r->c_key[k] = bind_col(in, r, "key",
			    r->key_cols[k])) < 0)
				bad = 1;
		for (int k = 0; k < r->nconds; k++)
			if ((r->cond[k].c_col = bind_col(in, r, "when",
			    r->cond[k].col)) < 0)
				bad = 1;
	}
	return bad ? -1 : 0;
}

int
cond_holds(const struct cond *c, const char *field)
{
	double v;

	switch (c->op) {
	case CMP_GLOB:
		return fnmatch(c->text, field, 0) == 0;
	case CMP_EQ:
	case CMP_NE:
		/* numbers by value ("7" = "7.0"), anything else as text */
		if (c->is_num && parse_number(field, &v) == 0)
			return cmp_holds(c->op, v, c->num);
		return (strcmp(field, c->text) == 0) == (c->op == CMP_EQ);
	default:
		/* a row whose field is no number is not in the rule's range */
		return parse_number(field, &v) == 0 &&
		    cmp_holds(c->op, v, c->num);
	}
}

void
rules_free(struct rule *rules, int nrules)
{
	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];

		free(r->alert);
		free(r->severity);
		free(r->column);
		free(r->message);
		free(r->raise_text);
		free(r->clear_text);
		free(r->where_buf);
		for (int k = 0; k < r->nkeys; k++)
			free(r->key_cols[k]);
		for (int k = 0; k < r->nconds; k++) {
			free(r->cond[k].col);
			free(r->cond[k].text);
		}
		track_map_free(&r->tracks);
	}
	free(rules);
}
