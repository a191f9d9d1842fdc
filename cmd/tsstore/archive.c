/*
 * archive and restore: the cold tier.
 *
 * archive moves the points before a cutoff into one gzip'd series CSV in
 * a directory, and records its SHA-256 in the directory's MANIFEST.sha256
 * (the format sha256sum(1) writes and checks). Order matters for safety:
 * the file is written, synced and renamed into place, and its checksum
 * recorded, before the points leave the store, all inside one write
 * transaction, so a point is never in neither place. restore checks each
 * file against the manifest and loads it like any series CSV (so loading
 * twice stores nothing twice).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "csvio.h"
#include "cursor.h"
#include "digest.h"
#include "fsync.h"
#include "gzfile.h"
#include "tsstore.h"
#include "writer.h"
#include "xalloc.h"

#define MANIFEST "MANIFEST.sha256"
#define DAY_US (INT64_C(86400) * TS_US_PER_S)

struct archive_opts {
	const char *dir;
	char **globs;
	int nglobs;
	ts_us before;
	int verbose;
};

struct selected {
	long long *id;
	char **name;
	size_t n, cap;
	const struct archive_opts *o;
};

static int
select_old(const struct series_info *si, void *arg)
{
	struct selected *s = arg;

	if (si->points == 0 || si->first >= s->o->before ||
	    !series_selected(s->o->globs, s->o->nglobs, si->name))
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap * 2 + 16;
		s->id = xreallocarray(s->id, s->cap, sizeof *s->id);
		s->name = xreallocarray(s->name, s->cap, sizeof *s->name);
	}
	s->id[s->n] = si->id;
	s->name[s->n++] = xstrdup(si->name);
	return 0;
}

/* The file name after the last slash. */
static const char *
base_name(const char *path)
{
	const char *base = path;

	for (const char *p = path; *p != '\0'; p++)
		if (*p == '/')
			base = p + 1;
	return base;
}

/* The points of the selected series before the cutoff, as series CSV. */
static long long
write_points(struct store *st, const struct selected *sel, ts_us before,
    FILE *fp)
{
	struct csv_out out;
	long long count = 0;
	char tbuf[TS_BUFSZ], vbuf[DECVAL_BUFSZ];

	csvout_init(&out, fp);
	csvout_str(&out, "ts");
	csvout_str(&out, "series");
	csvout_str(&out, "value");
	csvout_end(&out);
	for (size_t i = 0; i < sel->n; i++) {
		struct cursor c;
		struct tspoint p;
		int rc;
		cursor_init(&c, st, sel->id[i], INT64_MIN, before);
		while ((rc = cursor_next(&c, &p)) > 0) {
			csvout_str(&out, ts_format_unix(p.t, tbuf));
			csvout_str(&out, sel->name[i]);
			decval_format(p.v, vbuf);
			csvout_str(&out, vbuf);
			csvout_end(&out);
			count++;
		}
		cursor_free(&c);
		if (rc < 0)
			return -1;
	}
	return count;
}

/* A name for the archive not yet taken: STORE-CUTOFF[-N].csv.gz, STORE
 * the SQLite file's name or the PostgreSQL database's. */
static char *
archive_name(const char *dir, const struct store *st, ts_us before)
{
	char stamp[TS_BUFSZ], base[256], *path = NULL;
	const char *b = st->label != NULL ? st->label : base_name(st->name);
	size_t len = strcspn(b, ".");
	struct stat sb;
	int k = 1, n;

	ts_format_rfc3339(before, stamp);
	for (char *p = stamp; *p; p++)
		if (*p == ':')
			*p = '-';       /* a file name any system takes */
	snprintf(base, sizeof base, "%.*s-%s", (int)(len > 100 ? 100 : len),
	    b, stamp);
	do {
		free(path);
		n = k == 1 ? asprintf(&path, "%s/%s.csv.gz", dir, base) :
		    asprintf(&path, "%s/%s-%d.csv.gz", dir, base, k);
		if (n < 0)
			errx(1, "out of memory");
		k++;
	} while (stat(path, &sb) == 0);
	return path;
}

static int
append_manifest(const char *dir, const char *path, const char *hex)
{
	char *mpath;
	const char *name = base_name(path);
	FILE *fp;
	int rc = 0;

	if (asprintf(&mpath, "%s/%s", dir, MANIFEST) < 0)
		errx(1, "out of memory");
	if ((fp = fopen(mpath, "a")) == NULL ||
	    fprintf(fp, "%s  %s\n", hex, name) < 0 || fflush(fp) != 0 ||
	    fsync(fileno(fp)) != 0) {
		warn("%s", mpath);
		rc = -1;
	}
	if (fp != NULL && fclose(fp) != 0 && rc == 0) {
		warn("%s", mpath);
		rc = -1;
	}
	free(mpath);
	return rc;
}

/* Write the archive file, synced and in place, and record it. */
static char *
write_archive(struct store *st, const struct archive_opts *o,
    const struct selected *sel, long long *count)
{
	char *path = archive_name(o->dir, st, o->before), *tmp, hex[65];
	FILE *fp;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		errx(1, "out of memory");
	if ((fp = gzfile_open(tmp, "w")) == NULL) {
		warn("%s", tmp);
		goto fail;
	}
	*count = write_points(st, sel, o->before, fp);
	if (*count < 0)
		warnx("%s", st->err);
	if (fclose(fp) != 0 && *count >= 0) {
		warn("%s", tmp);
		*count = -1;
	}
	if (*count < 0)
		goto fail;
	if (fsync_path(tmp) < 0 || rename(tmp, path) < 0 ||
	    fsync_parent(path) < 0) {
		warn("%s", path);
		goto fail;
	}
	if (sha256_file(path, hex) < 0) {
		warn("%s", path);
		goto fail;
	}
	if (append_manifest(o->dir, path, hex) < 0)
		goto fail;
	free(tmp);
	return path;
fail:
	unlink(tmp);
	free(tmp);
	free(path);
	return NULL;
}

static int
archive(struct store *st, const struct archive_opts *o)
{
	struct selected sel = { .o = o };
	long long count = 0, removed;
	char *path = NULL;
	int rc;

	/* the write lock from the first read to the last delete: a point
	 * that arrives meanwhile waits, and is never deleted unarchived */
	if ((rc = st->ops->begin(st)) < 0 ||
	    (rc = st->ops->series_each(st, select_old, &sel)) < 0) {
		warnx("%s", st->err);
	} else if (sel.n > 0 &&
	    (path = write_archive(st, o, &sel, &count)) == NULL) {
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && path != NULL && i < sel.n; i++)
		if ((rc = store_delete_before(st, sel.id[i], o->before,
		    &removed)) < 0)
			warnx("%s", st->err);
	if (rc == 0 && (rc = st->ops->commit(st)) < 0)
		warnx("%s", st->err);
	if (rc < 0) {
		st->ops->rollback(st);
		if (path != NULL)
			warnx("%s: written, but its points are still in the "
			    "store too (restore would add nothing)", path);
	} else if (o->verbose && path != NULL) {
		warnx("archive: %s: %lld points of %zu series", path, count,
		    sel.n);
	} else if (o->verbose) {
		warnx("archive: no points before the cutoff");
	}
	for (size_t i = 0; i < sel.n; i++)
		free(sel.name[i]);
	free(sel.name);
	free(sel.id);
	free(path);
	return rc;
}

int
cmd_archive(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "dir", required_argument, NULL, 'D' },
		{ "before", required_argument, NULL, 'b' },
		{ "series", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 } };
	struct common c = { 0 };
	struct archive_opts o = { .before = INT64_MIN };
	struct store *st;
	struct stat sb;
	int opt, rc;

	o.globs = xcalloc((size_t)argc, sizeof *o.globs);
	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (common_option(&c, opt, optarg))
			continue;
		switch (opt) {
		case 'D': o.dir = optarg; break;
		case 's': o.globs[o.nglobs++] = optarg; break;
		case 'v': o.verbose = 1; break;
		case 'b':
			if (ts_parse_when(optarg, ts_now(), &o.before) < 0)
				cli_usage_error("--before: not a time (Unix "
				    "seconds, RFC 3339, -DURATION): '%s'",
				    optarg);
			/* "-90d" from cron: the start of that day, UTC, so
			 * that archives split on whole days */
			if (optarg[0] == '-')
				o.before -= ((o.before % DAY_US) + DAY_US) %
				    DAY_US;
			break;
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument: '%s'", argv[optind]);
	if (o.dir == NULL || o.before == INT64_MIN)
		cli_usage_error("archive needs --dir DIR and --before TIME");
	if (stat(o.dir, &sb) < 0)
		err(1, "%s", o.dir);
	if (!S_ISDIR(sb.st_mode))
		errx(1, "%s: not a directory", o.dir);
	st = common_open(&c, STORE_OPEN);
	rc = archive(st, &o);
	st->ops->close(st);
	free(o.globs);
	return rc < 0 ? 1 : 0;
}

/* The manifest: name -> checksum. A line that is not one refuses it all. */
struct manifest {
	char **name;
	char (*hex)[65];
	size_t n, cap;
};

static int
is_hex64(const char *s)
{
	for (int i = 0; i < SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
read_manifest(const char *dir, struct manifest *m)
{
	char *path, *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	FILE *fp;
	int rc = 0;

	if (asprintf(&path, "%s/%s", dir, MANIFEST) < 0)
		errx(1, "out of memory");
	if ((fp = fopen(path, "r")) == NULL) {
		warn("%s", path);
		free(path);
		return -1;
	}
	while (rc == 0 && (len = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		/* "HEX  NAME" or "HEX *NAME", a plain name */
		if (len < SHA256_HEX_LEN + 3 || !is_hex64(line) ||
		    line[SHA256_HEX_LEN] != ' ' ||
		    (line[SHA256_HEX_LEN + 1] != ' ' &&
		    line[SHA256_HEX_LEN + 1] != '*') ||
		    strchr(line + SHA256_HEX_LEN + 2, '/') != NULL) {
			warnx("%s: line %ld: not a checksum line (damaged?)",
			    path, lineno);
			rc = -1;
			break;
		}
		if (m->n == m->cap) {
			m->cap = m->cap * 2 + 16;
			m->name = xreallocarray(m->name, m->cap, sizeof *m->name);
			m->hex = xreallocarray(m->hex, m->cap, sizeof *m->hex);
		}
		memcpy(m->hex[m->n], line, SHA256_HEX_LEN);
		m->hex[m->n][SHA256_HEX_LEN] = '\0';
		m->name[m->n++] = xstrdup(line + SHA256_HEX_LEN + 2);
	}
	if (rc == 0 && ferror(fp)) {
		warn("%s", path);
		rc = -1;
	}
	fclose(fp);
	free(line);
	free(path);
	return rc;
}

/* Check one archive against the manifest and load it. */
static int
restore_one(struct store *st, const char *dir, const struct manifest *m,
    const char *name, int verbose)
{
	const char *base = base_name(name);
	const char *want = NULL;
	char *path, hex[65];
	FILE *fp;
	int rc = -1;

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->name[i], base) == 0)
			want = m->hex[i];       /* the last entry counts */
	if (asprintf(&path, "%s/%s", dir, base) < 0)
		errx(1, "out of memory");
	if (want == NULL)
		warnx("%s: not in %s/%s: not restored", path, dir, MANIFEST);
	else if (sha256_file(path, hex) < 0)
		warn("%s", path);
	else if (strcmp(hex, want) != 0)
		warnx("%s: SHA-256 differs from %s (damaged or changed): not "
		    "restored", path, MANIFEST);
	else if ((fp = gzfile_open(path, "r")) == NULL)
		warn("%s", path);
	else {
		rc = ingest_series_csv(st, fp, path, verbose);
		fclose(fp);
	}
	free(path);
	return rc;
}

int
cmd_restore(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS,
		{ "dir", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 } };
	struct common c = { 0 };
	struct manifest m = { 0 };
	const char *dir = NULL;
	struct store *st;
	int opt, verbose = 0, status = 0;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (common_option(&c, opt, optarg))
			continue;
		if (opt == 'D')
			dir = optarg;
		else if (opt == 'v')
			verbose = 1;
	}
	if (dir == NULL)
		cli_usage_error("restore needs --dir DIR");
	if (read_manifest(dir, &m) < 0)
		return 1;
	st = common_open(&c, STORE_CREATE);
	if (optind == argc)     /* every file the manifest names, once */
		for (size_t i = 0; i < m.n; i++) {
			int seen = 0;
			for (size_t j = i + 1; j < m.n; j++)
				seen |= strcmp(m.name[i], m.name[j]) == 0;
			if (!seen && restore_one(st, dir, &m, m.name[i],
			    verbose) < 0)
				status = 1;
		}
	for (int i = optind; i < argc; i++)
		if (restore_one(st, dir, &m, argv[i], verbose) < 0)
			status = 1;
	st->ops->close(st);
	for (size_t i = 0; i < m.n; i++)
		free(m.name[i]);
	free(m.name);
	free(m.hex);
	return status;
}
