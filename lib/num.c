#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

static size_t
digits(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

int
num_is_decimal(const char *s, size_t len)
{
	size_t i = 0, j;
	int any;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	j = digits(s, len, i);
	any = j > i;
	i = j;
	if (i < len && s[i] == '.') {
		j = digits(s, len, i + 1);
		any |= j > i + 1;
		i = j;
	}
	if (!any)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		j = digits(s, len, i);
		if (j == i)
			return 0;
		i = j;
	}
	return i == len;
}

int
num_parse(const char *s, size_t len, double *out)
{
	char buf[64], *copy = buf, *end;
	double v;
	int saved = errno, status = 0;

	if (!num_is_decimal(s, len))
		return NUM_SYNTAX;
	if (len >= sizeof buf && (copy = malloc(len + 1)) == NULL)
		return NUM_SYNTAX;
	memcpy(copy, s, len);
	copy[len] = '\0';
	errno = 0;
	v = strtod(copy, &end);
	/* ERANGE: too large, or so small it is 0 or has lost digits */
	if (end != copy + len)  /* a locale with a decimal comma: never */
		status = NUM_SYNTAX;
	else if (errno == ERANGE || !isfinite(v))
		status = NUM_RANGE;
	if (copy != buf)
		free(copy);
	errno = saved;
	if (status == 0)
		*out = v;
	return status;
}

const char *
num_error(int status)
{
	return status == NUM_RANGE ? "out of range (a number beyond 1e308, or "
	    "below 1e-308 but not 0)" : "not a number";
}
