/*
 * num: the one reading of a number in the toolchain's CSV, so that every
 * program takes and refuses the same text: [+-]digits[.digits] or
 * [+-].digits, then an optional exponent e[+-]digits (E too). Nothing
 * else: no spaces, no hexadecimal (strtod reads "0x10" as 16), no "inf"
 * or "nan", and no value a double cannot hold (1e400, or 1e-400 that
 * would come back as 0).
 */
#ifndef NUM_H
#define NUM_H

#include <stddef.h>

enum {
	NUM_SYNTAX = -1,        /* not a number in the grammar above */
	NUM_RANGE = -2,         /* beyond what a double holds */
};

/* s[0..len) as a double in *out: 0, NUM_SYNTAX or NUM_RANGE. */
int num_parse(const char *s, size_t len, double *out);

/* Does s[0..len) follow the grammar (whatever its size)? */
int num_is_decimal(const char *s, size_t len);

/* What num_parse's status means, for a message. */
const char *num_error(int status);

#endif
