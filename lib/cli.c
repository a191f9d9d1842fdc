#include "cli.h"
#include "tstime.h"
#include "y4m.h"

#include <err.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#ifndef TOOLCHAIN_VERSION
#define TOOLCHAIN_VERSION "unknown"
#endif

extern char *program_invocation_short_name;

/* cli_finish has flushed and closed stdout, or cli_check_write has
 * said what went wrong with it */
static int stdout_done;

/* At any exit that did not go through cli_finish (usage(0) and --help,
 * errx after output): what could not be written is said and the status
 * is 1, not 0 ("prog --help > /dev/full" said nothing). A reader that
 * went away (EPIPE) is no error, as in cli_check_write. */
static void
flush_stdout_at_exit(void)
{
	int failed;

	if (stdout_done)
		return;
	failed = fflush(stdout) == EOF;
	if (!failed && !ferror(stdout))
		return;
	if (failed && errno == EPIPE)
		return;
	if (failed)
		warn("stdout");
	else
		warnx("stdout: write error");
	_exit(1);
}

void
cli_init(char **argv)
{
	argv[0] = program_invocation_short_name;
	setlocale(LC_CTYPE, "");
	signal(SIGPIPE, SIG_IGN);
	atexit(flush_stdout_at_exit);
}

void
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	cli_usage_hint();
}

void
cli_usage_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n",
	    program_invocation_short_name);
	exit(EXIT_USAGE);
}

void
cli_version(void)
{
	printf("%s (toolchain) %s\n", program_invocation_short_name,
	    TOOLCHAIN_VERSION);
	exit(cli_finish(0));
}

void
cli_check_write(FILE *fp, const char *what)
{
	if (!ferror(fp))
		return;
	if (fp == stdout)
		stdout_done = 1;        /* said here: not again at exit */
	if (errno == EPIPE)
		exit(0);
	err(1, "%s", what);
}

char *
cli_visible(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p &&
	    n + 5 < size; p++)
		if (*p == '\r')
			n += (size_t)snprintf(buf + n, size - n, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *p);
		else
			buf[n++] = (char)*p;
	buf[n] = '\0';
	return buf;
}

int
cli_finish(int status)
{
	/* fflush first: fclose's errno is unreliable for buffered data. */
	stdout_done = 1;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		warn("stdout");
		return 1;
	}
	if (fclose(stdout) == EOF) {
		warn("stdout");
		return 1;
	}
	return status;
}

double
cli_double(const char *opt, const char *arg, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno == ERANGE || !isfinite(v))
		cli_usage_error("%s: not a number: '%s'", opt, arg);
	if (v < lo || v > hi)
		cli_usage_error("%s: out of range [%g, %g]: '%s'", opt, lo, hi,
		    arg);
	return v;
}

double
cli_seconds(const char *opt, const char *arg, double lo, double hi)
{
	ts_us d;
	double v;

	if (ts_parse_duration(arg, &d) < 0)
		cli_usage_error("%s: not a duration (10, 2.5s, 500ms, 90m, "
		    "4h): '%s'", opt, arg);
	v = ts_to_sec(d);
	if (v < lo || v > hi)
		cli_usage_error("%s: out of range [%gs, %gs]: '%s'", opt, lo, hi,
		    arg);
	return v;
}

long
cli_long(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno == ERANGE)
		cli_usage_error("%s: not an integer: '%s'", opt, arg);
	if (v < lo || v > hi)
		cli_usage_error("%s: out of range [%ld, %ld]: '%s'", opt, lo,
		    hi, arg);
	return v;
}

long long
cli_bytes(const char *opt, const char *arg)
{
	static const char units[] = "kMGT";
	char *end;
	double v;
	const char *u;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || !isfinite(v) || v < 0 || *arg == '-' || *arg == ' ')
		cli_usage_error("%s: not a size (4096, 200k, 5M, 2G): '%s'",
		    opt, arg);
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
			cli_usage_error("%s: not a size (4096, 200k, 5M, 2G): "
			    "'%s'", opt, arg);
		for (long i = 0; i <= u - units; i++)
			v *= 1024;
	}
	if (v > 9e18)
		cli_usage_error("%s: too large: '%s'", opt, arg);
	return (long long)v;
}

const char *
cli_src(const char *arg)
{
	if (!y4m_valid_src(arg))
		cli_usage_error("--src: must be 1 to %d characters without "
		    "spaces: '%s'", Y4M_SRC_MAX - 1, arg);
	return arg;
}

void
cli_ints(const char *opt, const char *arg, char sep, int count, int *out)
{
	const char *p = arg;
	char *end = NULL;
	long v;
	int i;

	for (i = 0; i < count; i++) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno == ERANGE || v < 0 || v > 1 << 20)
			break;
		out[i] = (int)v;
		if (i + 1 < count && *end != sep)
			break;
		p = end + 1;
	}
	if (i < count || end == NULL || *end != '\0')
		cli_usage_error("%s: expected %d non-negative integers "
		    "separated by '%c': '%s'", opt, count, sep, arg);
}

FILE *
cli_open(const char *path, const char **name)
{
	FILE *fp;

	if (strcmp(path, "-") == 0) {
		*name = "stdin";
		return stdin;
	}
	*name = path;
	if ((fp = fopen(path, "r")) == NULL)
		warn("%s", path);
	return fp;
}

void
cli_close(FILE *fp)
{
	if (fp != NULL && fp != stdin)
		fclose(fp);
}

int
cli_each_input(int n, char **names,
    int (*read)(FILE *fp, const char *name, void *arg), void *arg)
{
	static char *dash[] = { "-" };
	int status = 0, rc = 0;

	if (n == 0) {
		n = 1;
		names = dash;
	}
	for (int i = 0; i < n && rc != -2 && rc != -3; i++) {
		const char *name;
		FILE *fp = cli_open(names[i], &name);

		if (fp == NULL) {
			status = 1;
			continue;
		}
		if ((rc = read(fp, name, arg)) != 0 && rc != -3)
			status = 1;
		cli_close(fp);
	}
	return status;
}

void
cli_progress_init(struct cli_progress *p, int input_fd)
{
	struct stat sb;

	*p = (struct cli_progress){ .on = isatty(STDERR_FILENO) &&
		(input_fd < 0 || (fstat(input_fd, &sb) == 0 &&
		S_ISREG(sb.st_mode))), .started = ts_elapsed(), .shown = -1 };
}

void
cli_progress(struct cli_progress *p, int force, const char *fmt, ...)
{
	double now = ts_elapsed();
	va_list ap;

	if (!p->on || (now - p->shown < 0.5 && !force))
		return;
	p->shown = now;
	fprintf(stderr, "\r%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);        /* the rest of a longer line before */
	p->drawn = 1;
}

char *
cli_time_left(struct cli_progress *p, double done, double total, char *buf,
    size_t size)
{
	double spent = ts_elapsed() - p->started, left;

	buf[0] = '\0';
	if (done <= 0 || total <= done || spent < 1)
		return buf;
	left = spent * (total - done) / done;
	if (left >= 60)
		snprintf(buf, size, ", %.0f min %02.0f s left", floor(left / 60),
		    floor(fmod(left, 60)));
	else
		snprintf(buf, size, ", %.0f s left", ceil(left));
	return buf;
}

void
cli_progress_end(struct cli_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
}
