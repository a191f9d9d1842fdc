/*
 * ets: exponential smoothing in state-space form (Hyndman, Koehler, Ord
 * and Snyder, "Forecasting with Exponential Smoothing", 2008), fitted by
 * maximum likelihood, chosen by AICc, as R's forecast::ets and
 * statsmodels' ETSModel do.
 *
 * The models with trend none, additive or multiplicative (damped or
 * not), season none, additive or multiplicative, and additive or
 * multiplicative errors. With additive
 * errors they are linear, so one recursion fits them all and the
 * forecast variance is exact:
 *
 *   y_t = w'x_{t-1} + e_t,   x_t = F x_{t-1} + g e_t
 *
 * With multiplicative errors (positive data) y_t = mu_t (1 + e_t) and the
 * states move by mu_t e_t: the same recursion, another likelihood, and
 * the exact variance of HKOS's class 2. A multiplicative season (with
 * multiplicative errors only, as R's ets) is HKOS's class 3: nonlinear,
 * its initial states found by Gauss-Newton, its forecast variance by
 * simulation; so is a multiplicative trend (errors multiplicative, the
 * season none or multiplicative: R's restricted set), fitted when named
 * and left out of ets_auto, as R's ets leaves it out by default.
 * with x = (level, trend, s_1 .. s_m), s_1 the newest seasonal state. The
 * smoothing parameters are searched (NLopt's bounded Nelder-Mead, from
 * three starts); for each, the initial states that fit best are solved
 * for by least squares (the errors are linear in them; weighted by
 * 1 / mu_t for multiplicative errors), the seasonal states summing to
 * zero.
 */
#ifndef ETS_H
#define ETS_H

#include <stddef.h>

#define ETS_MAX_SEASON 366

struct ets_model {
	char error;             /* 'A', 'M' */
	char trend;             /* 'N', 'A', 'M' (error 'M' only) */
	int damped;             /* with trend 'A' or 'M' */
	char season;            /* 'N', 'A', 'M' (error 'M' only) */
	int m;                  /* season's length when season is not 'N' */
};

struct ets_fit {
	struct ets_model model;
	double alpha, beta, gamma, phi;
	double x0[2 + ETS_MAX_SEASON];  /* initial states */
	double xn[2 + ETS_MAX_SEASON];  /* states after the last point */
	double sigma2;          /* residual variance (SSE / (n - k)) */
	double loglik, aic, aicc, bic;
	int k;                  /* parameters, sigma included */
	size_t n;
};

/* "ANN", "AAdA" ...: the model's name, as R writes it (error, trend,
 * season), into buf of at least 8 bytes; parse one back (0, or -1 if it
 * is not a model this module fits). */
const char *ets_name(const struct ets_model *m, char *buf);
int ets_parse(const char *s, int m, struct ets_model *out);

/* Fit model to y[0..n); 0, or -1 if the series is too short for it (or
 * not positive, for multiplicative errors). */
int ets_fit(const double *y, size_t n, const struct ets_model *model,
    struct ets_fit *fit);

/* Every model for season length m (0 or 1: none; multiplicative errors
 * only if every value is positive), the one of least AICc into best; 0,
 * or -1 if none could be fitted. */
int ets_auto(const double *y, size_t n, int m, struct ets_fit *best);

/* Is every y positive (multiplicative errors need it)? */
int ets_positive(const double *y, size_t n);

/* The mean and variance of the forecast h = 1..nh steps after the data
 * the fit ended with. */
void ets_forecast(const struct ets_fit *fit, size_t nh, double *mean,
    double *var);

/* One-step fitted values of y under fit (its in-sample forecasts). */
void ets_fitted(const struct ets_fit *fit, const double *y, size_t n,
    double *out);

/* The season's length from the autocorrelation: the lag in 2..n/2 with
 * the highest positive peak over a threshold; 1 if there is none. */
int ets_season(const double *y, size_t n);

#endif
