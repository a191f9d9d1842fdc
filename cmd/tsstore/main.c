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
	static const char synopsis[] =
	    "usage: tsstore init [--db FILE] [--max-size SIZE]\n"
	    "       tsstore ingest [--db FILE] [--wide [--series TEMPLATE]"
	    " [--values COLS]]\n"
	    "                      [--time COL] [--skip-bad] [--batch N]"
	    " [--commit-every DUR]\n"
	    "                      [-v] [--stats FILE [--stats-every DUR]]"
	    " [file ...]\n"
	    "       tsstore query [--db FILE] [--series GLOB ...] [--from TIME]"
	    " [--to TIME]\n"
	    "                     [--where KEY=VALUE ...] [--step DUR [--agg LIST]]\n"
	    "                     [--wide] [--iso]\n"
	    "       tsstore series [--db FILE] [--series GLOB ...]"
	    " [--where KEY=VALUE ...]\n"
	    "                      [--iso]\n"
	    "       tsstore tag [--db FILE] [file ...]\n"
	    "       tsstore rollup [--db FILE] --series GLOB --step DUR\n"
	    "                      (--agg LIST | --forget)\n"
	    "       tsstore rollup [--db FILE] --list\n"
	    "       tsstore rollup [--db FILE] [-v]\n"
	    "       tsstore retain [--db FILE] --series GLOB (--keep DUR |"
	    " --forget)\n"
	    "       tsstore retain [--db FILE] --list\n"
	    "       tsstore retain [--db FILE] [--now TIME] [-v]\n"
	    "       tsstore archive [--db FILE] --dir DIR --before TIME"
	    " [--series GLOB ...]\n"
	    "                       [-v]\n"
	    "       tsstore restore [--db FILE] --dir DIR [-v] [file ...]\n"
	    "       tsstore backup [--db FILE] DEST\n"
	    "       tsstore check [--db FILE]\n"
	    "       tsstore ship --from EDGE --to CONTROL --site NAME"
	    " [--batch N]\n"
	    "                    [--max-rate SIZE] [-v]\n";

	if (status != 0) {
		fputs(synopsis, stderr);
		exit(status);
	}
	fputs(synopsis, stdout);
	fputs("\n"
	    "Time series in a store: a SQLite file on the edge, PostgreSQL in the\n"
	    "control room. Points come in as series CSV (ts,series,value), as\n"
	    "motionpts, spectrum and crowdagg write it, and go out the same way.\n"
	    "\n"
	    "  init     make a store (--max-size caps a SQLite one)\n"
	    "  ingest   store the points of each file or standard input (\"-\")\n"
	    "  query    points, or per-step aggregates (--step, --agg), as CSV\n"
	    "  series   the series with their points, times, size and tags\n"
	    "  tag      tags from CSV: a series column, then one column a tag\n"
	    "  rollup   keep per-step aggregates of matching series (SERIES@STEP)\n"
	    "  retain   keep matching series for a time; apply the policies\n"
	    "  archive  move old points to gzip'd CSV with a SHA-256 manifest\n"
	    "  restore  load archived files back\n"
	    "  backup   a consistent copy of a SQLite store, while it is written\n"
	    "  check    the store's own check and every chunk's checksum\n"
	    "  ship     an edge store's new chunks into the control room's store\n"
	    "\n"
	    "  --db FILE         the store (default $TSSTORE_DB)\n"
	    "  --busy-timeout DUR  how long a write waits for another (default 60s)\n"
	    "  --wide            ingest: any CSV with a time column, a series a\n"
	    "                    value column; query: one column a series\n"
	    "  --series TEMPLATE ingest --wide: the series' names, {COLUMN} a row's\n"
	    "                    field, {col} the value column (default {col})\n"
	    "  --values COLS     ingest --wide: the value columns\n"
	    "  --time COL        ingest: the time column (default ts)\n"
	    "  --skip-bad        ingest: skip bad rows instead of stopping\n"
	    "  --batch N         ingest: points a transaction (default 500000);\n"
	    "                    ship: chunks a transaction (default 256)\n"
	    "  --commit-every DUR  ingest: the longest a point waits (default 5s)\n"
	    "  --stats FILE      ingest: health figures as series CSV to FILE (or\n"
	    "                    fd:N): rows, points, bad_rows, commits, pending,\n"
	    "                    lag_s, named health/tsstore/HOST/...\n"
	    "  --stats-every DUR ingest: their period (default 10s)\n"
	    "  --series GLOB     query, series, rollup, retain, archive: the series\n"
	    "  --where KEY=GLOB  query, series: series with a tag that matches\n"
	    "  --from TIME       query: from TIME (included); ship: the edge store\n"
	    "  --to TIME         query: to TIME (left out); ship: the control store\n"
	    "  --step DUR        query: per-step aggregates; rollup: the step\n"
	    "  --agg LIST        mean,min,max,first,last,count,sum,p95\n"
	    "  --iso             query, series: times as RFC 3339\n"
	    "  --site NAME       ship: the edge's name (series become NAME/...)\n"
	    "  --max-rate SIZE   ship: bytes a second at most (k, M)\n"
	    "\n"
	    "--db (and ship's --to) takes a SQLite file or a PostgreSQL"
	    " connection\n"
	    "string "
	    "(postgresql://HOST/DB or libpq keywords)\n"
	    "common options: --db FILE (default $TSSTORE_DB),"
	    " --busy-timeout DUR\n"
	    "(default 60s)\n"
	    "  -h, --help        this help\n"
	    "      --version     the version\n"
	    "See tsstore(1).\n", stdout);
	exit(cli_finish(0));
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
