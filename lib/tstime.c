#include "tstime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Largest magnitude accepted: year 9999 in seconds, well inside int64 us. */
#define TS_MAX_SEC INT64_C(253402300799)

struct cursor {
	const char *p, *end;
};

static int
peek(const struct cursor *c)
{
	return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int
accept_char(struct cursor *c, int ch)
{
	if (peek(c) != ch)
		return 0;
	c->p++;
	return 1;
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* Exactly n digits into *out. */
static int
fixed_digits(struct cursor *c, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(peek(c)))
			return -1;
		v = v * 10 + (*c->p++ - '0');
	}
	*out = v;
	return 0;
}

/* ".ddd": microseconds, rounded half up from the seventh digit. A dot must
 * be followed by a digit. */
static int
fraction_us(struct cursor *c, int64_t *us)
{
	int64_t v = 0;
	int n = 0, round = 0;

	*us = 0;
	if (!accept_char(c, '.'))
		return 0;
	if (!is_digit(peek(c)))
		return -1;
	while (is_digit(peek(c))) {
		int d = *c->p++ - '0';
		if (n < 6)
			v = v * 10 + d;
		else if (n == 6)
			round = d >= 5;
		n++;
	}
	for (; n < 6; n++)
		v *= 10;
	*us = v + round;
	return 0;
}

static int
parse_unix(struct cursor *c, ts_us *out)
{
	int neg = accept_char(c, '-');
	int64_t sec = 0, us;
	const char *frac;
	int ndig = 0;

	if (!neg)
		accept_char(c, '+');
	while (is_digit(peek(c))) {
		sec = sec * 10 + (*c->p++ - '0');
		if (sec > TS_MAX_SEC)
			return -1;
		ndig++;
	}
	frac = c->p;
	if (fraction_us(c, &us) < 0 || c->p != c->end)
		return -1;
	if (ndig == 0 && c->p == frac)
		return -1;
	*out = (sec * TS_US_PER_S + us) * (neg ? -1 : 1);
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mdays[m - 1] + (m == 2 && leap);
}

/* "Z" or "+hh:mm"/"-hh:mm" into seconds east of UTC. */
static int
zone_offset(struct cursor *c, int64_t *off)
{
	int sign, hh, mm;

	if (accept_char(c, 'Z') || accept_char(c, 'z')) {
		*off = 0;
		return 0;
	}
	if (accept_char(c, '+'))
		sign = 1;
	else if (accept_char(c, '-'))
		sign = -1;
	else
		return -1;
	if (fixed_digits(c, 2, &hh) < 0 || !accept_char(c, ':') ||
	    fixed_digits(c, 2, &mm) < 0 || hh > 23 || mm > 59)
		return -1;
	*off = sign * (hh * 3600 + mm * 60);
	return 0;
}

static int
parse_rfc3339(struct cursor *c, ts_us *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, s;
	int64_t us, off;
	time_t t;

	if (fixed_digits(c, 4, &y) < 0 || !accept_char(c, '-') ||
	    fixed_digits(c, 2, &mo) < 0 || !accept_char(c, '-') ||
	    fixed_digits(c, 2, &d) < 0)
		return -1;
	if (!accept_char(c, 'T') && !accept_char(c, 't') &&
	    !accept_char(c, ' '))
		return -1;
	if (fixed_digits(c, 2, &h) < 0 || !accept_char(c, ':') ||
	    fixed_digits(c, 2, &mi) < 0 || !accept_char(c, ':') ||
	    fixed_digits(c, 2, &s) < 0 || fraction_us(c, &us) < 0 ||
	    zone_offset(c, &off) < 0 || c->p != c->end)
		return -1;
	/* A leap second (s == 60) is accepted and folds into the next one. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || s > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	*out = ((int64_t)t - off) * TS_US_PER_S + us;
	return 0;
}

int
ts_parse_n(const char *s, size_t len, ts_us *out)
{
	struct cursor c = { s, s + len };

	if (len == 0)
		return -1;
	/* RFC 3339 starts with four digits and a dash; nothing else does. */
	if (len >= 5 && s[4] == '-' && is_digit((unsigned char)s[0]))
		return parse_rfc3339(&c, out);
	return parse_unix(&c, out);
}

int
ts_parse(const char *s, ts_us *out)
{
	return ts_parse_n(s, strlen(s), out);
}

/* Floor division, so that -0.5 s is second -1 plus 500000 us. */
static void
split(ts_us t, int64_t *sec, int64_t *us)
{
	*sec = t / TS_US_PER_S;
	*us = t % TS_US_PER_S;
	if (*us < 0) {
		*us += TS_US_PER_S;
		(*sec)--;
	}
}

char *
ts_format_unix(ts_us t, char buf[TS_BUFSZ])
{
	int64_t sec, us;

	if (t < 0) {
		/* Sign and magnitude: "-0.500000", never "-1.500000". */
		int64_t m = -t;
		snprintf(buf, TS_BUFSZ, "-%lld.%06lld",
		    (long long)(m / TS_US_PER_S), (long long)(m % TS_US_PER_S));
		return buf;
	}
	split(t, &sec, &us);
	snprintf(buf, TS_BUFSZ, "%lld.%06lld", (long long)sec, (long long)us);
	return buf;
}

char *
ts_format_rfc3339(ts_us t, char buf[TS_BUFSZ])
{
	int64_t sec, us;
	struct tm tm;
	time_t tt;
	size_t n;

	split(t, &sec, &us);
	tt = (time_t)sec;
	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, TS_BUFSZ, "invalid");
		return buf;
	}
	/* Not strftime's %Y, which drops the leading zeros of years < 1000. */
	n = (size_t)snprintf(buf, TS_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (us != 0) {
		int len = snprintf(buf + n, TS_BUFSZ - n, ".%06lld",
		    (long long)us);
		n += (size_t)len;
		while (buf[n - 1] == '0')
			n--;
	}
	snprintf(buf + n, TS_BUFSZ - n, "Z");
	return buf;
}

double
ts_to_sec(ts_us t)
{
	return (double)t / 1e6;
}

ts_us
ts_from_sec(double s)
{
	return (ts_us)llround(s * 1e6);
}

int
ts_parse_duration(const char *s, ts_us *out)
{
	static const struct { const char *unit; double us; } units[] = {
		{ "", 1e6 }, { "s", 1e6 }, { "ms", 1e3 }, { "us", 1 },
		{ "m", 60e6 }, { "min", 60e6 }, { "h", 3600e6 },
		{ "d", 86400e6 },
	};
	char *end;
	double v;

	if (*s == '\0' || *s == '+' || *s == '-' || *s == ' ')
		return -1;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (v * units[i].us > 9.2e18)
				return -1;
			*out = (ts_us)llround(v * units[i].us);
			return 0;
		}
	return -1;
}

int
ts_parse_when(const char *s, ts_us now, ts_us *out)
{
	ts_us ago;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] == '-' && ts_parse_duration(s + 1, &ago) == 0) {
		*out = now - ago;
		return 0;
	}
	if (s[0] == '+' && ts_parse_duration(s + 1, &ago) == 0) {
		*out = now + ago;
		return 0;
	}
	return ts_parse(s, out);
}

ts_us
ts_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (ts_us)t.tv_sec * TS_US_PER_S + t.tv_nsec / 1000;
}

double
ts_elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

char *
ts_format(ts_us t, int iso, char buf[TS_BUFSZ])
{
	return iso ? ts_format_rfc3339(t, buf) : ts_format_unix(t, buf);
}
