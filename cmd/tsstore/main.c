/*
 * tsstore: a compact time-series store on SQLite for edge hosts.
 * See tsstore(1). main() picks the command; each command parses its own
 * options (and the common ones: --db, --busy-timeout).
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tsstore.h"

#define DEFAULT_BUSY_MS 60000

void
usage(int status)
{
	FILE *fp = status == 0 ? stdout : stderr;

	fputs("usage: tsstore init [--db FILE] [--max-size SIZE]\n"
	    "       tsstore ingest [--db FILE] [--wide [--series TEMPLATE]"
	    " [--values COLS]]\n"
	    "                      [--time COL] [--skip-bad] [--batch N]"
	    " [--commit-every DUR]\n"
	    "                      [-v] [file ...]\n"
	    "       tsstore query [--db FILE] [--series GLOB ...] [--from TIME]"
	    " [--to TIME]\n"
	    "                     [--where KEY=VALUE ...] [--step DUR [--agg LIST]]"
	    " [--wide] [--iso]\n"
	    "       tsstore series [--db FILE] [--series GLOB ...]"
	    " [--where KEY=VALUE ...] [--iso]\n"
	    "       tsstore tag [--db FILE] [file ...]\n"
	    "       tsstore rollup [--db FILE] --series GLOB --step DUR"
	    " (--agg LIST | --forget)\n"
	    "       tsstore rollup [--db FILE] --list\n"
	    "       tsstore rollup [--db FILE] [-v]\n"
	    "       tsstore retain [--db FILE] --series GLOB (--keep DUR |"
	    " --forget)\n"
	    "       tsstore retain [--db FILE] --list\n"
	    "       tsstore retain [--db FILE] [--now TIME] [-v]\n"
	    "       tsstore archive [--db FILE] --dir DIR --before TIME"
	    " [--series GLOB ...] [-v]\n"
	    "       tsstore restore [--db FILE] --dir DIR [-v] [file ...]\n"
	    "       tsstore backup [--db FILE] DEST\n"
	    "       tsstore check [--db FILE]\n"
	    "       tsstore ship --from EDGE --to CONTROL --site NAME"
	    " [--batch N] [--max-rate SIZE] [-v]\n"
	    "--db (and ship's --to) takes a SQLite file or a PostgreSQL"
	    " connection string\n"
	    "(postgresql://HOST/DB or libpq keywords)\n"
	    "common options: --db FILE (default $TSSTORE_DB),"
	    " --busy-timeout DUR (default 60s)\n", fp);
	exit(status);
}

int
common_option(struct common *c, int opt, const char *arg)
{
	switch (opt) {
	case 'd':
		c->db = arg;
		return 1;
	case 'B':
		c->busy_ms = (int)(cli_seconds("--busy-timeout", arg, 0,
		    86400) * 1000);
		return 1;
	case 'h':
		usage(0);
	case '?':
		cli_usage_hint();
	}
	return 0;
}

struct store *
common_open(const struct common *c, enum store_mode mode)
{
	char err[600];
	const char *db = c->db != NULL ? c->db : getenv("TSSTORE_DB");
	struct store *st;

	if (db == NULL || *db == '\0')
		cli_usage_error("no store: give --db FILE or set TSSTORE_DB");
	st = store_open(db, mode, c->busy_ms > 0 ? c->busy_ms :
	    DEFAULT_BUSY_MS, err, sizeof err);
	if (st == NULL)
		errx(1, "%s", err);
	return st;
}

static const struct {
	const char *name;
	int (*run)(int, char **);
} commands[] = {
	{ "init", cmd_init },
	{ "ingest", cmd_ingest },
	{ "query", cmd_query },
	{ "series", cmd_series },
	{ "check", cmd_check },
	{ "tag", cmd_tag },
	{ "backup", cmd_backup },
	{ "retain", cmd_retain },
	{ "rollup", cmd_rollup },
	{ "archive", cmd_archive },
	{ "restore", cmd_restore },
	{ "ship", cmd_ship },
};

int
main(int argc, char **argv)
{
	cli_init(argv);
	if (argc < 2)
		cli_usage_error("no command (init, ingest, query, series, "
		    "tag, rollup, retain, archive, restore, backup, "
		    "check, ship)");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(0);
	if (strcmp(argv[1], "--version") == 0)
		cli_version();
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			/* getopt names argv[0] in its messages: the program */
			argv[1] = argv[0];
			return cli_finish(commands[i].run(argc - 1, argv + 1));
		}
	cli_usage_error("unknown command: '%s'", argv[1]);
}
