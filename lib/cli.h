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

/* An input named on the command line, for reading: "-" is standard
 * input, called "stdin" in messages (*name); NULL after saying why it
 * cannot be opened. cli_close() closes it unless it is stdin. */
FILE *cli_open(const char *path, const char **name);
void cli_close(FILE *fp);

/* Each input in turn, as cat(1) reads them: the n names (none: standard
 * input), each through cli_open; one that cannot be opened is said and
 * passed over. read() returns 0, -1 for an input that failed (said
 * already: the next one is read), -2 to stop after a failure, or -3 to
 * stop where it is with nothing failed (asked to by a signal). 0 if
 * every input opened was read well, else 1. */
int cli_each_input(int n, char **names,
    int (*read)(FILE *fp, const char *name, void *arg), void *arg);

/* Progress for a person watching: one line on stderr, rewritten at most
 * twice a second, only when stderr is a terminal (never into a log or a
 * test's output) and the program reads a file, not a pipe: in "frames
 * f.mp4 | motionpts | spectrum" only frames, at the head, draws the line
 * (three would write over each other). input_fd: the input's descriptor,
 * or -1 for an input opened by name elsewhere (libav). A zeroed struct
 * shows nothing. */
struct cli_progress {
	int on, drawn;
	double shown, started;  /* ts_elapsed() */
};
void cli_progress_init(struct cli_progress *p, int input_fd);
/* The line, "prog: " and the text, when it is due (force: now). */
void cli_progress(struct cli_progress *p, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "3 min 20 s left" (or "") for done of total after the time so far. */
char *cli_time_left(struct cli_progress *p, double done, double total,
    char *buf, size_t size);
/* End the line, if one was drawn. */
void cli_progress_end(struct cli_progress *p);

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
