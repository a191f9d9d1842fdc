/*
 * decval: a number kept as the decimal it was written as.
 *
 * "0.1" is stored as the digits 1 and one decimal, not as the double
 * nearest 0.1, so it comes back as "0.1"; "0.0120" comes back as "0.0120"
 * and "-0" as "-0". Text that does not fit (more significant digits than
 * 64 bits hold, about 19, more than 18 decimals, or an exponent past
 * that) is kept as the double strtod() gives, and written back as the shortest text that reads
 * as the same double. An exponent is applied: "1e-7" comes back as
 * "0.0000001", "2.5E3" as "2500".
 */
#ifndef DECVAL_H
#define DECVAL_H

#include <stddef.h>
#include <stdint.h>

#define DECVAL_MAX_DECIMALS 18
/* Longest text decval_format() writes, with its NUL. */
#define DECVAL_BUFSZ 48

enum {
	DECVAL_NEGZERO = 1,     /* "-0", "-0.00": digits 0, sign kept */
	DECVAL_DOUBLE = 2,      /* not a decimal: bits holds a double */
};

struct decval {
	int64_t digits;         /* the value times 10^decimals, or a double's bits */
	uint8_t decimals;       /* 0..DECVAL_MAX_DECIMALS */
	uint8_t flags;          /* DECVAL_* */
};

/* Parse s[0..len): [+-]digits[.digits][e[+-]digits] (".5" and "5." too),
 * the grammar of num.h. 0, NUM_SYNTAX (NaN, inf, hex, junk) or NUM_RANGE
 * (beyond what a double holds, as num_parse says). */
int decval_parse(const char *s, size_t len, struct decval *out);
/* The text as described above; returns its length. */
size_t decval_format(struct decval v, char buf[DECVAL_BUFSZ]);
/* The nearest double. */
double decval_double(struct decval v);
/* v as digits * 10^-decimals with decimals >= v's; 0, or -1 if it does
 * not fit in 64 bits or v is a double. */
int decval_rescale(struct decval v, int decimals, int64_t *digits);

#endif
