/*
 * alertsend: deliver alert events to subscribers, at least once. See
 * alertsend(1). main() takes the common options and the command.
 */
#include <curl/curl.h>
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsend.h"
#include "cli.h"
#include "stats.h"

static void __attribute__((noreturn))
usage(int status)
{
	static const char synopsis[] =
	    "usage: alertsend [--db FILE] [--repeat DUR] [--group-wait DUR]"
	    " [--max-age DUR]\n"
	    "                 [--rate N/DUR] [--sendmail CMD] [--timeout DUR]\n"
	    "                 [--stats FILE [--stats-every DUR]] [file ...]\n"
	    "       alertsend [--db FILE] [--max-age DUR] [--rate N/DUR]"
	    " [--sendmail CMD]\n"
	    "                 [--timeout DUR] [--stats FILE [--stats-every DUR]]"
	    " run [--now]\n"
	    "       alertsend [--db FILE] sub add NAME --channel CHANNEL"
	    " --target TARGET\n"
	    "                 [--match EXPR ...] [--rate N/DUR]\n"
	    "                 [--secret-file FILE | --secret-env VAR]\n"
	    "       alertsend [--db FILE] sub list\n"
	    "       alertsend [--db FILE] sub rm NAME\n"
	    "       alertsend [--db FILE] [--sendmail CMD] sub test NAME\n"
	    "       alertsend [--db FILE] silence add --match EXPR ..."
	    " --until TIME\n"
	    "                 [--comment TEXT]\n"
	    "       alertsend [--db FILE] silence list\n"
	    "       alertsend [--db FILE] silence rm ID\n"
	    "       alertsend [--db FILE] log [--since TIME]\n";

	if (status != 0) {
		fputs(synopsis, stderr);
		exit(status);
	}
	fputs(synopsis, stdout);
	fputs("\n"
	    "Delivers alert events (ts,alert,severity,state,key,value,limit,message,\n"
	    "as thresh writes them) from each file or standard input (\"-\") to the\n"
	    "subscribers whose matches they pass: channels file, webhook, exec,\n"
	    "email, syslog. Subscribers and the outbox live in one SQLite database;\n"
	    "every event is committed before it is sent, so nothing read is lost.\n"
	    "\n"
	    "  --db FILE         the database (default $ALERTSEND_DB)\n"
	    "  --repeat DUR      the same alert and key firing again within DUR is\n"
	    "                    not sent again (default 4h)\n"
	    "  --group-wait DUR  events within DUR of the first go out as one\n"
	    "                    notification (default 30s)\n"
	    "  --max-age DUR     give up retrying DUR after the event (default 1d)\n"
	    "  --rate N/DUR      at most N notifications a subscriber in any DUR\n"
	    "  --sendmail CMD    the mail program (default /usr/sbin/sendmail -t -i)\n"
	    "  --timeout DUR     an exec, email or webhook delivery not done in DUR\n"
	    "                    is stopped and retried (default 10s)\n"
	    "  --stats FILE      health figures as series CSV to FILE (or fd:N):\n"
	    "                    events, sent, retried, failed, expired, pending,\n"
	    "                    named health/alertsend/HOST/...\n"
	    "  --stats-every DUR their period (default 10s)\n"
	    "  -h, --help        this help\n"
	    "      --version     the version\n"
	    "\n"
	    "Commands: run (retry what is due, from cron), sub (subscribers),\n"
	    "silence (mute matching alerts until a time), log (every delivery,\n"
	    "as CSV). See alertsend(1).\n", stdout);
	exit(cli_finish(0));
}

static int
intake_one(FILE *fp, const char *name, void *db)
{
	return intake(db, fp, name, 0) < 0 ? -1 : 0;
}

/* Events from the files (or stdin), then what is due. */
static int
take_events(const char *path, int argc, char **argv)
{
	struct db db;
	int status;

	db_open(&db, path);
	if (policy.stats != NULL)
		health_open();
	status = cli_each_input(argc, argv, intake_one, &db);
	health_close(&db);
	db_close(&db);
	return status;
}

static int
run(const char *path, int now)
{
	struct db db;
	int rc;

	db_open(&db, path);
	if (policy.stats != NULL)
		health_open();
	rc = now ? retry_now(&db) : 0;
	if (rc == 0)
		rc = deliver_due(&db);
	health_close(&db);
	db_close(&db);
	return rc < 0 ? 1 : 0;
}

/* The options before the command; returns the database's path. */
static const char *
parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "group-wait", required_argument, NULL, 'g' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "sendmail", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
		{ "stats", required_argument, NULL, 'S' },
		{ "stats-every", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 } };
	const char *path = getenv("ALERTSEND_DB");
	int o;

	/* "+": options stop at the command, which has its own */
	while ((o = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (o) {
		case 'd': path = optarg; break;
		case 'r':
			policy.repeat = ts_from_sec(cli_seconds("--repeat", optarg,
			    0, 366 * 86400.0));
			break;
		case 'a':
			policy.max_age = ts_from_sec(cli_seconds("--max-age",
			    optarg, 0, 366 * 86400.0));
			break;
		case 's': policy.sendmail = optarg; break;
		case 't':
			policy.timeout = cli_seconds("--timeout", optarg, 0.1,
			    3600);
			break;
		case 'R':
			policy.rate = rate_option(optarg);
			break;
		case 'g':
			policy.group_wait = ts_from_sec(cli_seconds("--group-wait",
			    optarg, 0, 86400));
			break;
		case 'S': policy.stats = optarg; break;
		case 'E': policy.stats_every = stats_period(optarg); break;
		case 'h': usage(0);
		case 'V': cli_version();
		default: cli_usage_hint();
		}
	}
	if (path == NULL || *path == '\0')
		cli_usage_error("no database: give --db FILE or set "
		    "ALERTSEND_DB");
	return path;
}

/* The commands, each returning the exit status. */
static int
do_sub(const char *path, int argc, char **argv)
{
	return cmd_sub(path, argc, argv) < 0;
}

static int
do_silence(const char *path, int argc, char **argv)
{
	return cmd_silence(path, argc, argv) < 0;
}

static int
do_log(const char *path, int argc, char **argv)
{
	optind = 0;
	return cmd_log(path, argc, argv);
}

static int
do_run(const char *path, int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--now") != 0))
		cli_usage_error("run: only --now");
	return run(path, argc == 2);
}

static const struct command {
	const char *name;
	int (*fn)(const char *path, int argc, char **argv);
} commands[] = {
	{ "sub", do_sub },
	{ "silence", do_silence },
	{ "log", do_log },
	{ "run", do_run },
};

int
main(int argc, char **argv)
{
	const char *path;

	cli_init(argv);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	path = parse_options(argc, argv);
	argc -= optind;
	argv += optind;
	for (size_t i = 0; argc > 0 && i < sizeof commands /
	    sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return cli_finish(commands[i].fn(path, argc, argv));
	/* no command: events from the files, or stdin */
	return cli_finish(take_events(path, argc, argv));
}
