/*
 * The Theil-Sen slope (Sen, 1968): the median of the slopes between
 * every two points, which a third of the points gone wild cannot move,
 * with its distribution-free confidence interval from Kendall's S.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trend.h"
#include "xalloc.h"

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The r-th smallest (r from 1, fractional ranks interpolated) of the
 * sorted v[0..n). */
static double
ranked(const double *v, size_t n, double r)
{
	size_t i;

	if (r <= 1)
		return v[0];
	if (r >= (double)n)
		return v[n - 1];
	i = (size_t)floor(r);
	return v[i - 1] + (r - (double)i) * (v[i] - v[i - 1]);
}

int
theil_sen(const double *x, const double *y, size_t n, struct slope *out)
{
	size_t np = n * (n - 1) / 2, k = 0;
	double *s, c, *r;

	if (n < 3)
		return -1;
	s = xreallocarray(NULL, np, sizeof *s);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (x[j] != x[i])
				s[k++] = (y[j] - y[i]) / (x[j] - x[i]);
	if (k < 3) {
		free(s);
		return -1;
	}
	qsort(s, k, sizeof *s, by_value);
	out->slope = ranked(s, k, (double)(k + 1) / 2);
	/* 95%: the slopes of rank (N -+ C) / 2 (+1), C = 1.96 sd(S), with
	 * var(S) = n(n-1)(2n+5)/18 for n points without ties */
	c = 1.959964 * sqrt((double)n * (double)(n - 1) * (2.0 * n + 5) / 18);
	out->lo = ranked(s, k, ((double)k - c) / 2);
	out->hi = ranked(s, k, ((double)k + c) / 2 + 1);
	free(s);
	/* the line through the median of y - slope x, and its middle */
	r = xreallocarray(NULL, n, sizeof *r);
	for (size_t i = 0; i < n; i++)
		r[i] = y[i] - out->slope * x[i];
	qsort(r, n, sizeof *r, by_value);
	out->intercept = ranked(r, n, (double)(n + 1) / 2);
	memcpy(r, x, n * sizeof *r);
	qsort(r, n, sizeof *r, by_value);
	out->xmid = ranked(r, n, (double)(n + 1) / 2);
	free(r);
	out->n = n;
	return 0;
}
