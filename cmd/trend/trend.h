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

#endif
