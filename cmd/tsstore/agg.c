#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "xalloc.h"

const char *const agg_names[A_NAGG] = { "mean", "min", "max",
	"first", "last", "count", "sum", "p95" };


ts_us
bucket_of(ts_us t, ts_us step)
{
	ts_us q = t / step;

	if (t % step != 0 && t < 0)
		q--;
	return q * step;
}

void
bucket_add(struct bucket *b, const struct decval *v, int keep_all)
{
	double d = decval_double(*v);
	int64_t scaled;

	if (b->count == 0) {
		b->min = b->max = b->first = *v;
		b->dmin = b->dmax = d;
		b->sum = 0;
		b->exact = 0;
		b->dec = 0;
		b->exact_ok = 1;
		b->maxdec = 0;
		b->nall = 0;
	}
	b->count++;
	b->last = *v;
	if (d < b->dmin)
		b->dmin = d, b->min = *v;
	if (d > b->dmax)
		b->dmax = d, b->max = *v;
	b->sum += d;
	if (!(v->flags & DECVAL_DOUBLE) && v->decimals > b->maxdec)
		b->maxdec = v->decimals;
	if (b->exact_ok && v->decimals > b->dec) {
		struct decval s = { b->exact, (uint8_t)b->dec, 0 };
		b->exact_ok = decval_rescale(s, v->decimals, &b->exact) == 0;
		b->dec = v->decimals;
	}
	if (b->exact_ok)
		b->exact_ok = decval_rescale(*v, b->dec, &scaled) == 0 &&
		    !__builtin_add_overflow(b->exact, scaled, &b->exact);
	if (keep_all) {
		if (b->nall == b->capall) {
			b->capall = b->capall * 2 + 64;
			b->all = xreallocarray(b->all, b->capall,
			    sizeof *b->all);
		}
		b->all[b->nall++] = *v;
	}
}

static int
by_value(const void *a, const void *b)
{
	double x = decval_double(*(const struct decval *)a);
	double y = decval_double(*(const struct decval *)b);

	return (x > y) - (x < y);
}

/* The 95th percentile by nearest rank: a value that was ingested. */
static struct decval
p95(struct bucket *b)
{
	size_t rank = (size_t)((b->nall * 95 + 99) / 100);

	qsort(b->all, b->nall, sizeof *b->all, by_value);
	return b->all[rank > 0 ? rank - 1 : 0];
}

void
agg_format(struct bucket *b, enum agg a, char out[DECVAL_BUFSZ])
{
	struct decval v = { 0, 0, DECVAL_DOUBLE };
	double d;
	int dec;

	switch (a) {
	case A_MIN: v = b->min; break;
	case A_MAX: v = b->max; break;
	case A_FIRST: v = b->first; break;
	case A_LAST: v = b->last; break;
	case A_P95: v = p95(b); break;
	case A_COUNT:
		snprintf(out, DECVAL_BUFSZ, "%lld", b->count);
		return;
	case A_SUM:
		if (b->exact_ok) {
			v.digits = b->exact;
			v.decimals = (uint8_t)b->dec;
			v.flags = 0;
		} else {
			memcpy(&v.digits, &b->sum, sizeof b->sum);
		}
		break;
	case A_MEAN:
		/* three decimals more than the data's, within a double */
		d = b->sum / (double)b->count;
		dec = b->maxdec + 3 > 15 ? 15 : b->maxdec + 3;
		/* past 2^53 a double has no more digits to give: the shortest
		 * text, not a run of made-up ones cut at the buffer's end */
		if (fabs(d) >= 9007199254740992.0) {
			memcpy(&v.digits, &d, sizeof d);
			break;
		}
		snprintf(out, DECVAL_BUFSZ, "%.*f", dec, d);
		if (strspn(out, "-0.") == strlen(out) && out[0] == '-')
			memmove(out, out + 1, strlen(out));
		return;
	case A_NAGG:
		break;
	}
	decval_format(v, out);
}

int
agg_parse_list(const char *list, enum agg *aggs, const char **bad,
    int *badlen)
{
	int n = 0;

	for (const char *a = list; *a;) {
		size_t len = strcspn(a, ",");
		int found = -1;
		for (int i = 0; i < A_NAGG; i++)
			if (strlen(agg_names[i]) == len &&
			    strncmp(a, agg_names[i], len) == 0)
				found = i;
		if (found < 0 || n == A_NAGG) {
			*bad = a;
			*badlen = (int)len;
			return -1;
		}
		aggs[n++] = (enum agg)found;
		a += len + (a[len] == ',');
	}
	if (n == 0) {
		*bad = list;
		*badlen = 0;
		return -1;
	}
	return n;
}
