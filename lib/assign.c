/*
 * The shortest-augmenting-path form of the Hungarian method: rows are
 * added one at a time, each by a Dijkstra-like search over the columns
 * with reduced costs c - u - v, which the potentials u and v keep at or
 * above zero; arrays are 1-based, index 0 standing for "no row".
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "assign.h"
#include "xalloc.h"

struct work {
	double *u, *v, *minv;
	int *p, *way;
	char *used;
};

/* Add row i to the pairing of rows 1..i-1 (n <= m). */
static void
add_row(const double *c, int m, int i, struct work *w)
{
	int j0 = 0, j1 = 0;

	w->p[0] = i;
	for (int j = 0; j <= m; j++) {
		w->minv[j] = DBL_MAX;
		w->used[j] = 0;
	}
	do {
		int i0 = w->p[j0];
		double delta = DBL_MAX;
		w->used[j0] = 1;
		for (int j = 1; j <= m; j++) {
			double cur;
			if (w->used[j])
				continue;
			cur = c[(size_t)(i0 - 1) * (size_t)m + (size_t)(j - 1)] -
			    w->u[i0] - w->v[j];
			if (cur < w->minv[j]) {
				w->minv[j] = cur;
				w->way[j] = j0;
			}
			if (w->minv[j] < delta) {
				delta = w->minv[j];
				j1 = j;
			}
		}
		for (int j = 0; j <= m; j++) {
			if (w->used[j]) {
				w->u[w->p[j]] += delta;
				w->v[j] -= delta;
			} else {
				w->minv[j] -= delta;
			}
		}
		j0 = j1;
	} while (w->p[j0] != 0);
	do {                    /* flip the path found */
		j1 = w->way[j0];
		w->p[j0] = w->p[j1];
		j0 = j1;
	} while (j0 != 0);
}

/* c is n x m with n <= m, every entry allowed; row i's column in out. */
static void
hungarian(const double *c, int n, int m, int *out)
{
	struct work w = {
		.u = xcalloc((size_t)n + 1, sizeof *w.u),
		.v = xcalloc((size_t)m + 1, sizeof *w.v),
		.minv = xcalloc((size_t)m + 1, sizeof *w.minv),
		.p = xcalloc((size_t)m + 1, sizeof *w.p),
		.way = xcalloc((size_t)m + 1, sizeof *w.way),
		.used = xcalloc((size_t)m + 1, 1),
	};

	for (int i = 1; i <= n; i++)
		add_row(c, m, i, &w);
	for (int j = 1; j <= m; j++)
		if (w.p[j] != 0)
			out[w.p[j] - 1] = j - 1;
	free(w.u);
	free(w.v);
	free(w.minv);
	free(w.p);
	free(w.way);
	free(w.used);
}

int
assign_min(const double *cost, int n, int m, double forbid, int *out)
{
	int rows = n <= m ? n : m, cols = n <= m ? m : n, pairs = 0;
	double *c, maxabs = 0, big;
	int *col;

	for (int i = 0; i < n; i++)
		out[i] = -1;
	if (n == 0 || m == 0)
		return 0;
	for (size_t k = 0; k < (size_t)n * (size_t)m; k++)
		if (cost[k] < forbid && fabs(cost[k]) > maxabs)
			maxabs = fabs(cost[k]);
	/* a forbidden pair costs more than any pairing of allowed ones can:
	 * the fewest forbidden pairs first, then the least cost */
	big = 2 * (maxabs + 1) * (rows + 1);
	c = xreallocarray(NULL, (size_t)rows * (size_t)cols, sizeof *c);
	col = xreallocarray(NULL, (size_t)rows, sizeof *col);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < m; j++) {
			double v = cost[(size_t)i * (size_t)m + (size_t)j];
			size_t at = n <= m ? (size_t)i * (size_t)m + (size_t)j :
			    (size_t)j * (size_t)n + (size_t)i;
			c[at] = v < forbid ? v : big;
		}
	hungarian(c, rows, cols, col);
	for (int r = 0; r < rows; r++) {
		int i = n <= m ? r : col[r], j = n <= m ? col[r] : r;
		if (cost[(size_t)i * (size_t)m + (size_t)j] < forbid) {
			out[i] = j;
			pairs++;
		}
	}
	free(c);
	free(col);
	return pairs;
}
