/*
 * tstime: timestamps as integer microseconds since the Unix epoch.
 *
 * Integers, not doubles, so that a time read and written again comes back
 * byte for byte (a double loses the sixth decimal near 1.7e9 s). Accepted
 * forms: Unix seconds with an optional fraction ("1764000000.5", "-3") and
 * RFC 3339 ("2026-11-24T10:00:00.5Z", "...+01:00"; 't', 'z' and a space for
 * 'T' too). Digits past the sixth decimal are rounded to the microsecond.
 */
#ifndef TSTIME_H
#define TSTIME_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t ts_us;

#define TS_US_PER_S INT64_C(1000000)
/* Longest text ts_format_*() writes, with its NUL. */
#define TS_BUFSZ 40

/* Parse a whole string; 0 on success, -1 if it is not a timestamp. */
int ts_parse(const char *s, ts_us *out);
/* The same for s[0..len), which need not be NUL-terminated. */
int ts_parse_n(const char *s, size_t len, ts_us *out);

/* "1764000000.500000": always six decimals. Returns buf. */
char *ts_format_unix(ts_us t, char buf[TS_BUFSZ]);
/* "2026-11-24T10:00:00.5Z": UTC, fraction only as long as needed. */
char *ts_format_rfc3339(ts_us t, char buf[TS_BUFSZ]);

/* RFC 3339 if iso is set, else Unix seconds: a program's --iso. */
char *ts_format(ts_us t, int iso, char buf[TS_BUFSZ]);

/* A duration: a number of seconds with an optional unit, "10", "2.5s",
 * "500ms", "90m" (minutes), "4h", "7d"; 0, or -1 if it is not one. */
int ts_parse_duration(const char *s, ts_us *out);

/* A moment for --from/--to: a timestamp as ts_parse() takes it, "now",
 * a duration before now ("-1h", "-7d") or after it ("+2h", for a
 * silence's end); 0, or -1 if it is none. */
int ts_parse_when(const char *s, ts_us now, ts_us *out);
/* The time now, from the system's real-time clock. */
ts_us ts_now(void);
/* Seconds from the monotonic clock, for intervals (rates, timeouts)
 * that a change of the wall clock must not stretch. */
double ts_elapsed(void);

/* Seconds as a double, for arithmetic that tolerates rounding. */
double ts_to_sec(ts_us t);
/* Nearest microsecond to a finite number of seconds. */
ts_us ts_from_sec(double s);

#endif
