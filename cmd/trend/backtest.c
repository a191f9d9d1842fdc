/*
 * backtest: rolling-origin evaluation (Hyndman and Athanasopoulos, FPP3,
 * sections 5.8 and 5.10). The last k horizons of a series are forecast,
 * each from the data before it, by the model trend would choose there and
 * by the seasonal naive forecast (the value one season before; the last
 * value when there is no season). Errors are scaled by the in-sample
 * seasonal naive's mean absolute error of each fold (MASE), and given as
 * sMAPE too.
 */
#include <math.h>
#include <stdlib.h>

#include "trend.h"
#include "xalloc.h"

/* Mean absolute one-season-back error of y[0..n): MASE's scale. */
static double
naive_scale(const double *y, size_t n, size_t m)
{
	double s = 0;

	if (n <= m)
		return NAN;
	for (size_t t = m; t < n; t++)
		s += fabs(y[t] - y[t - m]);
	return s / (double)(n - m);
}

static void
score(struct bt_score *sc, const double *y, const double *f, size_t h,
    double scale)
{
	double abs = 0, smape = 0;

	for (size_t i = 0; i < h; i++) {
		double d = fabs(y[i]) + fabs(f[i]);
		abs += fabs(y[i] - f[i]);
		smape += d > 0 ? 200 * fabs(y[i] - f[i]) / d : 0;
	}
	sc->mase += abs / (double)h / scale;
	sc->smape += smape / (double)h;
	sc->folds++;
}

int
backtest(const double *y, size_t n, size_t h, int k, int m,
    int (*fit)(const double *, size_t, int, struct ets_fit *, void *),
    void *arg, struct bt_score *ets, struct bt_score *naive)
{
	size_t season = m > 1 ? (size_t)m : 1;
	double *f = xreallocarray(NULL, h, sizeof *f),
	    *var = xreallocarray(NULL, h, sizeof *var);

	*ets = *naive = (struct bt_score){ 0 };
	for (int fold = k; fold >= 1; fold--) {
		size_t origin = n - (size_t)fold * h;
		struct ets_fit fi;
		double scale;
		if (n < (size_t)k * h + 4 ||
		    !((scale = naive_scale(y, origin, season)) > 0))
			break;
		if (fit(y, origin, m, &fi, arg) < 0)
			break;
		ets_forecast(&fi, h, f, var);
		score(ets, y + origin, f, h, scale);
		for (size_t i = 0; i < h; i++)
			f[i] = y[origin - season + i % season];
		score(naive, y + origin, f, h, scale);
	}
	free(f);
	free(var);
	if (ets->folds < k)
		return -1;
	ets->mase /= k;
	ets->smape /= k;
	naive->mase /= k;
	naive->smape /= k;
	return 0;
}
