#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decval.h"
#include "num.h"

static const double pow10_exact[DECVAL_MAX_DECIMALS + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Text that is a number but too long or too small for 18 digits. */
static int
parse_as_double(const char *s, size_t len, struct decval *out)
{
	double d;
	int status = num_parse(s, len, &d);

	if (status < 0)
		return status;  /* 1e-400 is not 0: the same in every program */
	memcpy(&out->digits, &d, sizeof d);
	out->decimals = 0;
	out->flags = DECVAL_DOUBLE;
	return 0;
}

/* The exponent after 'e', saturated far beyond any use. */
static int
parse_exponent(const char *s, size_t len, size_t *i, long *exp)
{
	int neg = 0;
	long e = 0;

	if (*i < len && (s[*i] == '+' || s[*i] == '-'))
		neg = s[(*i)++] == '-';
	if (*i >= len || !is_digit(s[*i]))
		return -1;
	for (; *i < len && is_digit(s[*i]); (*i)++)
		if (e < 100000)
			e = e * 10 + (s[*i] - '0');
	*exp = neg ? -e : e;
	return 0;
}

int
decval_parse(const char *s, size_t len, struct decval *out)
{
	size_t i = 0;
	int neg = 0, point = 0, any = 0, overflow = 0;
	long frac = 0, exp = 0, dec;
	int64_t m = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < len; i++) {
		if (is_digit(s[i])) {
			any = 1;
			frac += point;
			if (m == 0 && s[i] == '0')
				continue;       /* leading zeros carry nothing */
			/* as many digits as 64 bits hold: 19 at most */
			if (overflow || __builtin_mul_overflow(m, 10, &m) ||
			    __builtin_add_overflow(m, s[i] - '0', &m))
				overflow = 1;
		} else if (s[i] == '.' && !point) {
			point = 1;
		} else {
			break;
		}
	}
	if (!any)
		return NUM_SYNTAX;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (parse_exponent(s, len, &i, &exp) < 0)
			return -1;
	}
	if (i != len)
		return -1;
	if (overflow)
		return parse_as_double(s, len, out);
	dec = frac - exp;
	if (m == 0)
		dec = dec < 0 ? 0 : dec > DECVAL_MAX_DECIMALS ?
		    DECVAL_MAX_DECIMALS : dec;
	for (; dec < 0; dec++)
		if (__builtin_mul_overflow(m, 10, &m))
			return parse_as_double(s, len, out);
	if (dec > DECVAL_MAX_DECIMALS)
		return parse_as_double(s, len, out);
	out->digits = neg ? -m : m;
	out->decimals = (uint8_t)dec;
	out->flags = neg && m == 0 ? DECVAL_NEGZERO : 0;
	return 0;
}

static size_t
format_double(double d, char buf[DECVAL_BUFSZ])
{
	int n = 0;

	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(buf, DECVAL_BUFSZ, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return (size_t)n;
}

size_t
decval_format(struct decval v, char buf[DECVAL_BUFSZ])
{
	char digits[24];
	uint64_t u;
	size_t n = 0, nd = 0, len = 0;

	if (v.flags & DECVAL_DOUBLE)
		return format_double(decval_double(v), buf);
	u = v.digits < 0 ? -(uint64_t)v.digits : (uint64_t)v.digits;
	do
		digits[nd++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	while (nd < (size_t)v.decimals + 1)
		digits[nd++] = '0';
	if (v.digits < 0 || (v.flags & DECVAL_NEGZERO))
		buf[len++] = '-';
	for (n = nd; n > 0; n--) {
		if (n == v.decimals && v.decimals > 0)
			buf[len++] = '.';
		buf[len++] = digits[n - 1];
	}
	buf[len] = '\0';
	return len;
}

double
decval_double(struct decval v)
{
	double d;

	if (v.flags & DECVAL_DOUBLE) {
		memcpy(&d, &v.digits, sizeof d);
		return d;
	}
	if (v.flags & DECVAL_NEGZERO)
		return -0.0;
	/* both exact below 2^53, so one correctly rounded division */
	if (v.digits > -(INT64_C(1) << 53) && v.digits < (INT64_C(1) << 53))
		return (double)v.digits / pow10_exact[v.decimals];
	{
		char buf[DECVAL_BUFSZ];
		decval_format(v, buf);
		return strtod(buf, NULL);       /* correctly rounded */
	}
}

int
decval_rescale(struct decval v, int decimals, int64_t *digits)
{
	int64_t m = v.digits;

	if ((v.flags & DECVAL_DOUBLE) || decimals < v.decimals ||
	    decimals > DECVAL_MAX_DECIMALS)
		return -1;
	for (int k = v.decimals; k < decimals; k++)
		if (__builtin_mul_overflow(m, 10, &m))
			return -1;
	*digits = m;
	return 0;
}
