/*
 * cli: what every program of the toolchain does the same way at its edges.
 *
 * Messages go through err(3)/warnx(3), which print "prog: what" on stderr,
 * so callers only add the place: warnx("%s: line %ld: ...", name, line).
 * Exit codes: 0 success, 1 runtime failure, 2 usage error (EXIT_USAGE).
 * A reader that went away (EPIPE) ends the program quietly with status 0;
 * any other write error is fatal.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#define EXIT_USAGE 2

/* Locale for text only (numbers stay in "C"), SIGPIPE ignored so EPIPE
 * arrives as an error we can handle, and argv[0] shortened to the program's
 * name so that getopt's messages look like ours whatever the path. */
void cli_init(char **argv);

/* "prog: MSG" and a hint to --help, then exit 2. */
void cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Only the hint to --help, then exit 2: for getopt, which has already
 * said what was wrong. */
void cli_usage_hint(void) __attribute__((noreturn));

/* "prog (toolchain) VERSION" on stdout, exit 0. */
void cli_version(void) __attribute__((noreturn));

/* After a failed write to fp: exit 0 quietly on EPIPE, else fail naming
 * what. Returns only if fp has no error. */
void cli_check_write(FILE *fp, const char *what);

/* s with control characters made visible ("\\r", "\\x1b") in buf of
 * size bytes (4 * strlen(s) + 1 always suffice; longer text is cut): for
 * a message or a terminal, where a CR or an ESC would hide or do
 * something. Returns buf. */
char *cli_visible(const char *s, char *buf, size_t size);

/* Flush and close stdout, failing loudly on a write error (so that
 * "prog > /dev/full" does not succeed silently). Returns status, or 1 if
 * stdout failed. */
int cli_finish(int status);

/* Option arguments: parse or exit 2 with "prog: --opt: reason: 'arg'". */
double cli_double(const char *opt, const char *arg, double lo, double hi);
/* A duration ("10", "2.5s", "500ms", "90m", "4h") in seconds, in range. */
double cli_seconds(const char *opt, const char *arg, double lo, double hi);
long cli_long(const char *opt, const char *arg, long lo, long hi);
/* A size in bytes: "4096", "200k", "5M", "2G", "1T" (powers of 1024). */
long long cli_bytes(const char *opt, const char *arg);
/* --src: a source id fit for a Y4M header and CSV (no spaces or control
 * characters, under Y4M_SRC_MAX bytes); returns arg or exits 2. */
const char *cli_src(const char *arg);
/* "a,b,c,d" (count numbers separated by sep) into out; exits 2 if not. */
void cli_ints(const char *opt, const char *arg, char sep, int count,
    int *out);

#endif
