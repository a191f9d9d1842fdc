/* assign: least-cost pairing against every pairing tried by hand. */
#include <stdlib.h>

#include "assign.h"
#include "tap.h"

#define MAXN 6

/* The largest number of allowed pairs, and the least cost among pairings
 * of that many. */
static void
best_of(const double *c, int n, int m, double forbid, int i, unsigned used,
    int pairs, double sum, int *most, double *least)
{
	if (i == n) {
		if (pairs > *most || (pairs == *most && sum < *least)) {
			*most = pairs;
			*least = sum;
		}
		return;
	}
	best_of(c, n, m, forbid, i + 1, used, pairs, sum, most, least);
	for (int j = 0; j < m; j++)
		if (!(used & (1u << j)) && c[i * m + j] < forbid)
			best_of(c, n, m, forbid, i + 1, used | (1u << j),
			    pairs + 1, sum + c[i * m + j], most, least);
}

static void
random_cases(void)
{
	int bad = 0, tried = 0;

	srand(7);
	for (int t = 0; t < 3000; t++) {
		int n = rand() % MAXN + 1, m = rand() % MAXN + 1, out[MAXN];
		int most = 0, got, seen = 0, valid = 1;
		double c[MAXN * MAXN], least = 0, sum = 0;
		double forbid = t % 3 == 0 ? 1e9 : 0.6;
		for (int k = 0; k < n * m; k++)
			c[k] = (double)(rand() % 1000) / 1000;
		best_of(c, n, m, forbid, 0, 0, 0, 0, &most, &least);
		got = assign_min(c, n, m, forbid, out);
		for (int i = 0; i < n; i++) {
			if (out[i] < 0)
				continue;
			if (out[i] >= m || (seen & (1 << out[i])) ||
			    c[i * m + out[i]] >= forbid)
				valid = 0;
			seen |= 1 << out[i];
			sum += c[i * m + out[i]];
		}
		tried++;
		if (!valid || got != most || sum > least + 1e-9)
			bad++;
	}
	ok(bad == 0, "3000 random costs up to 6x6, a third with forbidden "
	    "pairs: the most pairs at the least cost every time (%d of %d "
	    "wrong)", bad, tried);
}

/* Greedy takes the best pair (0.1) and leaves the others at 0.9 each;
 * the least total pairs them crosswise. */
static void
greedy_trap(void)
{
	const double c[4] = { 0.1, 0.2, 0.2, 0.9 };
	int out[2];

	ok(assign_min(c, 2, 2, 1e9, out) == 2 && out[0] == 1 && out[1] == 0,
	    "two pairs at 0.4 rather than 0.1 + 0.9");
}

static void
edges(void)
{
	const double far[2] = { 5, 7 };
	const double wide[6] = { 3, 1, 2, 9, 9, 0 };
	int out[3];

	ok(assign_min(far, 1, 2, 1, out) == 0 && out[0] == -1,
	    "a row with no allowed column stays alone");
	ok(assign_min(wide, 2, 3, 10, out) == 2 && out[0] == 1 &&
	    out[1] == 2, "more columns than rows");
	ok(assign_min(wide, 3, 2, 10, out) == 2 && out[0] == -1 &&
	    out[1] == 0 && out[2] == 1, "more rows than columns");
	ok(assign_min(NULL, 0, 3, 1, out) == 0, "no rows");
}

int
main(void)
{
	random_cases();
	greedy_trap();
	edges();
	return tap_done();
}
