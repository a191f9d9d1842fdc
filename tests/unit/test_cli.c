#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "tap.h"

/* Run fn in a child with stderr silenced; its exit status, or -1. */
static int
exit_status_of(void (*fn)(void))
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void bad_double(void) { cli_double("--x", "1.5abc", 0, 10); }
static void nan_double(void) { cli_double("--x", "nan", 0, 10); }
static void big_double(void) { cli_double("--x", "11", 0, 10); }
static void bad_long(void) { cli_long("--n", "12x", 0, 100); }
static void short_ints(void) { int v[4]; cli_ints("--crop", "1,2,3", ',', 4, v); }
static void long_ints(void) { int v[2]; cli_ints("--s", "1x2x3", 'x', 2, v); }
static void neg_ints(void) { int v[2]; cli_ints("--s", "-1x2", 'x', 2, v); }
static void usage(void) { cli_usage_error("wrong"); }

int
main(void)
{
	int v[4];

	ok(cli_double("--x", "2.5", 0, 10) == 2.5, "a number in range");
	ok(cli_long("--n", "42", 0, 100) == 42, "an integer in range");
	cli_ints("--crop", "1,2,30,40", ',', 4, v);
	ok(v[0] == 1 && v[1] == 2 && v[2] == 30 && v[3] == 40, "four integers");
	cli_ints("--scale", "640x480", 'x', 2, v);
	ok(v[0] == 640 && v[1] == 480, "a size");

	ok(exit_status_of(bad_double) == EXIT_USAGE, "trailing junk: exit 2");
	ok(exit_status_of(nan_double) == EXIT_USAGE, "nan: exit 2");
	ok(exit_status_of(big_double) == EXIT_USAGE, "out of range: exit 2");
	ok(exit_status_of(bad_long) == EXIT_USAGE, "not an integer: exit 2");
	ok(exit_status_of(short_ints) == EXIT_USAGE, "too few: exit 2");
	ok(exit_status_of(long_ints) == EXIT_USAGE, "too many: exit 2");
	ok(exit_status_of(neg_ints) == EXIT_USAGE, "negative: exit 2");
	ok(exit_status_of(usage) == EXIT_USAGE, "usage error: exit 2");
	return tap_done();
}
