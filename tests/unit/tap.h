/*
 * tap: the least a unit test needs. Each check prints a TAP line
 * ("ok N - what" or "not ok N - what"); tests/run counts them.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static void __attribute__((format(printf, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int p_ = g_ != NULL && strcmp(g_, w_) == 0; \
	tap_ok(p_, __FILE__, __LINE__, __VA_ARGS__); \
	if (!p_) printf("#   got:  \"%s\"\n#   want: \"%s\"\n", \
	    g_ ? g_ : "(null)", w_); \
} while (0)
/* Does the text contain the substring? For error messages. */
#define has_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int p_ = g_ != NULL && strstr(g_, w_) != NULL; \
	tap_ok(p_, __FILE__, __LINE__, __VA_ARGS__); \
	if (!p_) printf("#   got:  \"%s\"\n#   want substring: \"%s\"\n", \
	    g_ ? g_ : "(null)", w_); \
} while (0)

static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}

#endif
