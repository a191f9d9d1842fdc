/* tsstore: what the commands share. See tsstore(1). */
#ifndef TSSTORE_H
#define TSSTORE_H

#include <stdio.h>

#include "store.h"

/* Options every command takes. */
struct common {
	const char *db;         /* --db, or $TSSTORE_DB */
	int busy_ms;            /* --busy-timeout */
};

/* getopt_long entries and their handling, for each command's parser. */
#define COMMON_LONGOPTS \
	{ "db", required_argument, NULL, 'd' }, \
	{ "busy-timeout", required_argument, NULL, 'B' }, \
	{ "help", no_argument, NULL, 'h' }

/* Handle a common option; 1 if it was one. */
int common_option(struct common *c, int opt, const char *arg);
/* The store named by --db, opened or made; exits 1 with a message if it
 * cannot be. */
struct store *common_open(const struct common *c, enum store_mode mode);

/* Does name match one of the globs (or are there none)? */
int series_selected(char *const *globs, int nglobs, const char *name);

/* Tags: "key=value;key=value" in key order (malloc'd; NULL on a store
 * error); whether series id has tags matching every "key=glob" (1, 0, or
 * -1 on a store error); --where's argument checked. */
char *series_tags(struct store *st, long long id);
int series_where(struct store *st, long long id, char *const *where, int n);
const char *where_option(const char *arg);

/* Series CSV from fp into st, as tsstore ingest does with its defaults. */
int ingest_series_csv(struct store *st, FILE *fp, const char *name,
    int verbose);

int cmd_init(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_retain(int argc, char **argv);
int cmd_archive(int argc, char **argv);
int cmd_rollup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_series(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_ship(int argc, char **argv);

/* Print the usage of the whole program (or one command) and exit. */
void usage(int status) __attribute__((noreturn));

#endif
