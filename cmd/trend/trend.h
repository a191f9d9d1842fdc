/* trend: what its commands share. See trend(1). */
#ifndef TREND_H
#define TREND_H

#include <stddef.h>

#include "ets.h"

/* Print the usage of every command (to stdout if status is 0) and exit. */
void usage(int status) __attribute__((noreturn));

/* trend drift: alert events for slow growth and new peaks (drift.c). */
int cmd_drift(int argc, char **argv);

/* A method's errors over a backtest's folds: mean MASE and sMAPE (%). */
struct bt_score {
	double mase, smape;
	int folds;
};

/* The last k horizons of h steps of y[0..n), each forecast from what is
 * before it by fit (which chooses as trend forecast does) and by the
 * seasonal naive forecast of season m (backtest.c); 0, or -1 if the
 * series is too short for k folds. */
int backtest(const double *y, size_t n, size_t h, int k, int m,
    int (*fit)(const double *, size_t, int, struct ets_fit *, void *),
    void *arg, struct bt_score *ets, struct bt_score *naive);

/* A robust line y = intercept + slope x, with the slope's 95%
 * confidence interval (slope.c); the lines of slope lo and hi through
 * the line's middle (at the median x) bound where it may lie. */
struct slope {
	double slope, lo, hi, intercept, xmid;
	size_t n;
};

/* The Theil-Sen line through (x[i], y[i]), i < n; 0, or -1 if there are
 * too few distinct x (3). */
int theil_sen(const double *x, const double *y, size_t n, struct slope *out);

#endif
