#include <math.h>
#include <nlopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ets.h"

/* Where each state sits in x: level, trend, then the season (newest
 * first). */
struct shape {
	int trend, season, m, sb, d;
};

static struct shape
shape_of(const struct ets_model *md)
{
	struct shape s = { md->trend == 'A', md->season == 'A', 0, 0, 0 };

	s.m = s.season ? md->m : 0;
	s.sb = 1 + s.trend;
	s.d = s.sb + s.m;
	return s;
}

struct params {
	double alpha, beta, gamma, phi;
};

/* The one-step forecast from state x. */
static double
predict(const struct shape *s, const struct params *p, const double *x)
{
	double y = x[0];

	if (s->trend)
		y += p->phi * x[1];
	if (s->season)
		y += x[s->sb + s->m - 1];
	return y;
}

/* x after an error e: x = F x + g e. */
static void
step(const struct shape *s, const struct params *p, double *x, double e)
{
	double b = s->trend ? x[1] : 0, old = s->season ? x[s->sb + s->m - 1] : 0;

	x[0] += p->phi * b + p->alpha * e;
	if (s->trend)
		x[1] = p->phi * b + p->beta * e;
	if (s->season) {
		memmove(x + s->sb + 1, x + s->sb, (size_t)(s->m - 1) * sizeof *x);
		x[s->sb] = old + p->gamma * e;
	}
}

static double
sse_of(const struct shape *s, const struct params *p, const double *x0,
    const double *y, size_t n, double *xn)
{
	double x[2 + ETS_MAX_SEASON], sse = 0;

	memcpy(x, x0, (size_t)s->d * sizeof *x);
	for (size_t t = 0; t < n; t++) {
		double e = y[t] - predict(s, p, x);
		sse += e * e;
		step(s, p, x, e);
	}
	if (xn != NULL)
		memcpy(xn, x, (size_t)s->d * sizeof *x);
	return sse;
}

const char *
ets_name(const struct ets_model *m, char *buf)
{
	snprintf(buf, 8, "A%c%s%c", m->trend, m->damped ? "d" : "", m->season);
	return buf;
}

int
ets_parse(const char *s, int m, struct ets_model *out)
{
	struct ets_model md = { 'N', 0, 'N', 0 };

	if (s[0] != 'A' || (s[1] != 'N' && s[1] != 'A'))
		return -1;
	md.trend = s[1];
	s += 2;
	if (md.trend == 'A' && *s == 'd') {
		md.damped = 1;
		s++;
	}
	if ((s[0] != 'N' && s[0] != 'A') || s[1] != '\0')
		return -1;
	md.season = s[0];
	if (md.season == 'A' && (m < 2 || m > ETS_MAX_SEASON))
		return -1;
	md.m = md.season == 'A' ? m : 0;
	*out = md;
	return 0;
}

/* ---- the optimisation ---- */

/* theta: alpha, [beta], [gamma], [phi], l0, [b0], s0[0..m-2] */
static int
nparams(const struct shape *s, int damped)
{
	return 1 + s->trend + s->season + (s->trend && damped) + 1 + s->trend +
	    (s->season ? s->m - 1 : 0);
}

struct objective {
	struct shape s;
	int damped;
	const double *y;
	size_t n;
};

static void
decode(const struct objective *o, const double *th, struct params *p,
    double *x0)
{
	const struct shape *s = &o->s;
	int i = 0;
	double sum = 0;

	p->alpha = th[i++];
	p->beta = s->trend ? th[i++] : 0;
	p->gamma = s->season ? th[i++] : 0;
	p->phi = s->trend && o->damped ? th[i++] : 1;
	x0[0] = th[i++];
	if (s->trend)
		x0[1] = th[i++];
	for (int k = 0; k < s->m - 1; k++)
		sum += x0[s->sb + k] = th[i++];
	if (s->season)
		x0[s->sb + s->m - 1] = -sum;
}

/* n log(SSE / n), the concentrated likelihood's part that varies; a
 * parameter set outside the admissible region is given a wall. */
static double
objective(unsigned dim, const double *th, double *grad, void *arg)
{
	const struct objective *o = arg;
	struct params p;
	double x0[2 + ETS_MAX_SEASON], sse;

	decode(o, th, &p, x0);
	if (p.beta > p.alpha || p.gamma > 1 - p.alpha)
		return 1e300;
	sse = sse_of(&o->s, &p, x0, o->y, o->n, NULL);
	if (!(sse >= 0) || !isfinite(sse))
		return 1e300;
	return (double)o->n * log(sse / (double)o->n + 1e-300);
}

/* Starting states from the first seasons, as R's forecast::ets does. */
static void
initial_states(const struct shape *s, const double *y, size_t n,
    double *x0)
{
	size_t m = s->season ? (size_t)s->m : 1, k = n < 10 ? n : 10;
	double l = 0;

	if (s->season) {
		for (size_t j = 0; j < m; j++)
			l += y[j];
		l /= (double)m;
		for (size_t j = 0; j < m; j++)
			x0[s->sb + m - 1 - j] = y[j] - l;
	} else {
		for (size_t j = 0; j < k; j++)
			l += y[j];
		l /= (double)k;
	}
	x0[0] = l;
	if (s->trend) {
		if (s->season && n >= 2 * m) {
			double l2 = 0;
			for (size_t j = m; j < 2 * m; j++)
				l2 += y[j];
			x0[1] = (l2 / (double)m - l) / (double)m;
		} else {
			x0[1] = k > 1 ? (y[k - 1] - y[0]) / (double)(k - 1) : 0;
		}
	}
}

/* Nelder-Mead within the bounds, started again from where it stopped
 * until that no longer helps (a simplex shrinks onto a ridge in many
 * dimensions); 0, or -1 if it found nothing admissible. */
static int
minimize(struct objective *o, int dim, double *th, const double *lo,
    const double *hi, double *best)
{
	nlopt_opt opt = nlopt_create(NLOPT_LN_NELDERMEAD, (unsigned)dim);
	int rc = 0;

	nlopt_set_lower_bounds(opt, lo);
	nlopt_set_upper_bounds(opt, hi);
	nlopt_set_min_objective(opt, objective, o);
	nlopt_set_xtol_rel(opt, 1e-8);
	nlopt_set_maxeval(opt, 400 * dim);
	for (int run = 0, more = 1; more && run < 6; run++) {
		double before = run == 0 ? HUGE_VAL : *best;
		if (nlopt_optimize(opt, th, best) < 0 && *best >= 1e299) {
			rc = -1;
			break;
		}
		more = before - *best > 1e-6 * fabs(*best) + 1e-9;
	}
	nlopt_destroy(opt);
	return rc;
}

int
ets_fit(const double *y, size_t n, const struct ets_model *model,
    struct ets_fit *fit)
{
	struct objective o = { shape_of(model), model->damped, y, n };
	int dim = nparams(&o.s, model->damped), i = 0;
	double th[4 + 2 + ETS_MAX_SEASON], lo[4 + 2 + ETS_MAX_SEASON],
	    hi[4 + 2 + ETS_MAX_SEASON], x0[2 + ETS_MAX_SEASON], best;
	double ymin = y[0], ymax = y[0], range;
	struct params p;
	int k = dim + 1;

	if (n < (size_t)k + 2 || (o.s.season && n < 2 * (size_t)o.s.m))
		return -1;
	for (size_t t = 1; t < n; t++) {
		ymin = y[t] < ymin ? y[t] : ymin;
		ymax = y[t] > ymax ? y[t] : ymax;
	}
	range = ymax > ymin ? ymax - ymin : fabs(ymax) + 1;
	initial_states(&o.s, y, n, x0);
	/* smoothing parameters, as R starts and bounds them */
	lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = o.s.season ? 0.5 / o.s.m + 0.01 : 0.5;
	if (o.s.trend) { lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = 0.01; }
	if (o.s.season) { lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = 0.01; }
	if (o.s.trend && model->damped) { lo[i] = 0.8; hi[i] = 0.98; th[i++] = 0.97; }
	lo[i] = ymin - range; hi[i] = ymax + range; th[i++] = x0[0];
	if (o.s.trend) { lo[i] = -range; hi[i] = range; th[i++] = x0[1]; }
	for (int j = 0; j < o.s.m - 1; j++) {
		lo[i] = -range; hi[i] = range; th[i++] = x0[o.s.sb + j];
	}
	if (minimize(&o, dim, th, lo, hi, &best) < 0)
		return -1;
	/* a second start, from other smoothing parameters (the first's
	 * initial states): a damped trend's likelihood has more than one
	 * valley */
	{
		double th2[4 + 2 + ETS_MAX_SEASON], best2;
		static const double other[4] = { 0.2, 0.05, 0.05, 0.9 };
		int j = 0;
		memcpy(th2, th, (size_t)dim * sizeof *th);
		th2[j++] = other[0];
		if (o.s.trend)
			th2[j++] = other[1];
		if (o.s.season)
			th2[j++] = other[2];
		if (o.s.trend && model->damped)
			th2[j++] = other[3];
		if (minimize(&o, dim, th2, lo, hi, &best2) == 0 && best2 < best) {
			memcpy(th, th2, (size_t)dim * sizeof *th);
			best = best2;
		}
	}
	memset(fit, 0, sizeof *fit);
	fit->model = *model;
	decode(&o, th, &p, fit->x0);
	fit->alpha = p.alpha;
	fit->beta = p.beta;
	fit->gamma = p.gamma;
	fit->phi = p.phi;
	fit->n = n;
	fit->k = k;
	{
		double sse = sse_of(&o.s, &p, fit->x0, y, n, fit->xn);
		double s2 = sse / (double)n;
		fit->loglik = -0.5 * (double)n * (log(2 * M_PI * s2 + 1e-300) + 1);
		fit->sigma2 = sse / (double)(n - (size_t)dim);
	}
	fit->aic = -2 * fit->loglik + 2 * k;
	fit->aicc = fit->aic + 2.0 * k * (k + 1) / (double)(n - (size_t)k - 1);
	fit->bic = fit->aic + k * (log((double)n) - 2);
	return 0;
}

int
ets_auto(const double *y, size_t n, int m, struct ets_fit *best)
{
	static const char *const names[] = { "ANN", "AAN", "AAdN", "ANA",
		"AAA", "AAdA" };
	int found = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct ets_model md;
		struct ets_fit f;
		if (ets_parse(names[i], m, &md) < 0 ||
		    ets_fit(y, n, &md, &f) < 0)
			continue;
		if (!found || f.aicc < best->aicc)
			*best = f;
		found = 1;
	}
	return found ? 0 : -1;
}

static struct params
params_of(const struct ets_fit *fit)
{
	struct params p = { fit->alpha, fit->beta, fit->gamma, fit->phi };

	return p;
}

void
ets_forecast(const struct ets_fit *fit, size_t nh, double *mean,
    double *var)
{
	struct shape s = shape_of(&fit->model);
	struct params p = params_of(fit);
	double x[2 + ETS_MAX_SEASON], z[2 + ETS_MAX_SEASON] = { 0 }, acc = 0;

	memcpy(x, fit->xn, (size_t)s.d * sizeof *x);
	step(&s, &p, z, 1);             /* z = g */
	for (size_t h = 0; h < nh; h++) {
		mean[h] = predict(&s, &p, x);
		step(&s, &p, x, 0);
		/* var_h = sigma^2 (1 + sum of c_j^2, j < h), c_j = w'F^(j-1)g */
		var[h] = fit->sigma2 * (1 + acc);
		{
			double c = predict(&s, &p, z);
			acc += c * c;
		}
		step(&s, &p, z, 0);
	}
}

void
ets_fitted(const struct ets_fit *fit, const double *y, size_t n, double *out)
{
	struct shape s = shape_of(&fit->model);
	struct params p = params_of(fit);
	double x[2 + ETS_MAX_SEASON];

	memcpy(x, fit->x0, (size_t)s.d * sizeof *x);
	for (size_t t = 0; t < n; t++) {
		out[t] = predict(&s, &p, x);
		step(&s, &p, x, y[t] - out[t]);
	}
}

int
ets_season(const double *y, size_t n)
{
	double mean = 0, c0 = 0, bestv = 0.2, *d;
	int best = 1;
	size_t nd = n - 1, maxlag;
	double acf[ETS_MAX_SEASON + 2];

	if (n < 8)
		return 1;
	/* differenced first, so that a trend does not hide the season */
	d = malloc(nd * sizeof *d);
	if (d == NULL)
		return 1;
	for (size_t t = 0; t < nd; t++)
		mean += d[t] = y[t + 1] - y[t];
	mean /= (double)nd;
	for (size_t t = 0; t < nd; t++)
		c0 += (d[t] - mean) * (d[t] - mean);
	maxlag = nd / 2 < ETS_MAX_SEASON ? nd / 2 : ETS_MAX_SEASON;
	for (size_t lag = 1; c0 > 0 && lag <= maxlag + 1 && lag < nd; lag++) {
		double c = 0;
		for (size_t t = lag; t < nd; t++)
			c += (d[t] - mean) * (d[t - lag] - mean);
		acf[lag] = c / c0;
	}
	for (size_t lag = 2; c0 > 0 && lag < maxlag && lag + 1 < nd; lag++)
		if (acf[lag] > acf[lag - 1] && acf[lag] >= acf[lag + 1] &&
		    acf[lag] > bestv) {
			bestv = acf[lag];
			best = (int)lag;
		}
	free(d);
	return best;
}
