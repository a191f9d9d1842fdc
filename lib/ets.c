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

/*
 * Multiplicative errors with additive components: y_t = mu_t (1 + e_t),
 * and the states move by mu_t e_t = y_t - mu_t, the same recursion as
 * with additive errors; only the likelihood differs. The sum of the
 * squared relative errors e_t; the sum of log mu_t into *sumlog and
 * 1 / mu_t into w[t] if they are given; NAN if a forecast is not
 * positive (the model does not fit such data).
 */
static double
rel_sse_of(const struct shape *s, const struct params *p, const double *x0,
    const double *y, size_t n, double *sumlog, double *w, double *xn)
{
	double x[2 + ETS_MAX_SEASON], sse = 0, prod = 1;
	int exp2 = 0;

	memcpy(x, x0, (size_t)s->d * sizeof *x);
	for (size_t t = 0; t < n; t++) {
		double mu = predict(s, p, x), e;
		int ex;
		if (!(mu > 0))
			return NAN;
		e = (y[t] - mu) / mu;
		sse += e * e;
		/* the sum of the logs as the log of a product, kept in range
		 * by its exponent: a log a point was a seventh of the time */
		if (sumlog != NULL) {
			prod = frexp(prod * mu, &ex);
			exp2 += ex;
		}
		if (w != NULL)
			w[t] = 1 / mu;
		step(s, p, x, y[t] - mu);
	}
	if (sumlog != NULL)
		*sumlog = log(prod) + exp2 * M_LN2;
	if (xn != NULL)
		memcpy(xn, x, (size_t)s->d * sizeof *x);
	return sse;
}

const char *
ets_name(const struct ets_model *m, char *buf)
{
	snprintf(buf, 8, "%c%c%s%c", m->error, m->trend, m->damped ? "d" : "",
	    m->season);
	return buf;
}

int
ets_parse(const char *s, int m, struct ets_model *out)
{
	struct ets_model md = { 'A', 'N', 0, 'N', 0 };

	if ((s[0] != 'A' && s[0] != 'M') || (s[1] != 'N' && s[1] != 'A'))
		return -1;
	md.error = s[0];
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

/* Rows of the least-squares design gathered before they are summed, so
 * that the sums run down contiguous columns (vectorised). */
#define BLOCK 64

struct objective {
	struct shape s;
	int damped;
	const double *y;
	size_t n;
	double *cols;           /* BLOCK rows of the free states' columns */
	double *w;              /* multiplicative errors: each row's weight */
	double *wy;             /* and 1 / y, the first guess at it */
};

/* Four doubles at a time, loaded from any double's address: the sums
 * below keep four partial sums instead of one chain of additions. */
typedef double pair __attribute__((vector_size(16), aligned(8)));

static double
dot(const double *a, const double *b, int k)
{
	pair acc0 = { 0, 0 }, acc1 = { 0, 0 };

	for (int r = 0; r < k; r += 4) {
		acc0 += *(const pair *)(a + r) * *(const pair *)(b + r);
		acc1 += *(const pair *)(a + r + 2) * *(const pair *)(b + r + 2);
	}
	acc0 += acc1;
	return acc0[0] + acc0[1];
}

/* A'A and A'e0 += the k rows gathered in cols (column j at
 * cols + j * BLOCK) and e0; k a multiple of 4 (rows of zeros added). */
static void
add_rows(const double *cols, const double *e0, int k, int u, double *ata,
    double *atb)
{
	for (int i = 0; i < u; i++) {
		atb[i] += dot(cols + i * BLOCK, e0, k);
		for (int j = 0; j <= i; j++)
			ata[i * u + j] += dot(cols + i * BLOCK, cols + j * BLOCK,
			    k);
	}
}

/*
 * For given smoothing parameters the one-step errors are linear in the
 * initial states x0 (the model is linear): e_t = e0_t - a_t'(x0 - xb),
 * with e0 the errors from a base state xb (the first value as level: it
 * keeps e0 small, and the SSE below exact to many digits) and
 * a_t' = w'D^t, D = F - g w'. So the x0 of least squares is solved for,
 * not searched: the simplex is left the 1 to 4 smoothing parameters. The
 * seasonal states sum to zero (the last is minus the others). Returns
 * the SSE at that x0 (e0'e0 less what the states explain); x0 filled.
 * With weights w (NULL: none), row t counts w[t] times as much.
 */
static double
best_states(const struct objective *o, const struct params *p,
    const double *w, double *x0)
{
	const struct shape *s = &o->s;
	int d = s->d, u = s->season ? d - 1 : d;    /* free states */
	double r[2 + ETS_MAX_SEASON], x[2 + ETS_MAX_SEASON] = { 0 };
	double ata[(1 + ETS_MAX_SEASON) * (1 + ETS_MAX_SEASON)];
	double atb[1 + ETS_MAX_SEASON], v[1 + ETS_MAX_SEASON];
	double z[2 + ETS_MAX_SEASON] = { 0 }, e0s[BLOCK], e0e0 = 0, sse;
	int k = 0;

	memset(ata, 0, (size_t)(u * u) * sizeof *ata);
	memset(atb, 0, (size_t)u * sizeof *atb);
	/* r = w' (the forecast's weights on the states) */
	memset(r, 0, (size_t)d * sizeof *r);
	r[0] = 1;
	if (s->trend)
		r[1] = p->phi;
	if (s->season)
		r[s->sb + s->m - 1] = 1;
	step(s, p, z, 1);               /* z = g */
	x[0] = o->y[0];
	for (size_t t = 0; t < o->n; t++) {
		double e0 = o->y[t] - predict(s, p, x), rg, tmp;
		step(s, p, x, e0);
		/* a_t in the free states' terms */
		for (int j = 0; j < u; j++)
			o->cols[j * BLOCK + k] = (r[j] - (s->season &&
			    j >= s->sb ? r[s->sb + s->m - 1] : 0)) *
			    (w != NULL ? w[t] : 1);
		if (w != NULL)
			e0 *= w[t];
		e0e0 += e0 * e0;
		e0s[k++] = e0;
		if (k == BLOCK || t + 1 == o->n) {
			for (; k % 4 != 0; k++) {
				for (int j = 0; j < u; j++)
					o->cols[j * BLOCK + k] = 0;
				e0s[k] = 0;
			}
			add_rows(o->cols, e0s, k, u, ata, atb);
			k = 0;
		}
		/* r = r D = r F - (r g) w'; g is zero but for the level,
		 * the trend and the newest seasonal state */
		rg = r[0] * z[0] + (s->trend ? r[1] * z[1] : 0) +
		    (s->season ? r[s->sb] * z[s->sb] : 0);
		if (s->trend)
			r[1] = p->phi * (r[0] + r[1]);
		if (s->season) {
			tmp = r[s->sb];
			memmove(r + s->sb, r + s->sb + 1,
			    (size_t)(s->m - 1) * sizeof *r);
			r[s->sb + s->m - 1] = tmp;
		}
		r[0] -= rg;
		if (s->trend)
			r[1] -= rg * p->phi;
		if (s->season)
			r[s->sb + s->m - 1] -= rg;
	}
	/* Cholesky of A'A (a whisker of ridge for columns that vanish) */
	for (int i = 0; i < u; i++)
		ata[i * u + i] += 1e-10 * (ata[i * u + i] + 1e-300);
	for (int i = 0; i < u; i++) {
		for (int j = 0; j <= i; j++) {
			double sum = ata[i * u + j];
			for (int q = 0; q < j; q++)
				sum -= ata[i * u + q] * ata[j * u + q];
			if (i == j) {
				if (!(sum > 0))
					return NAN;
				ata[i * u + i] = sqrt(sum);
			} else {
				ata[i * u + j] = sum / ata[j * u + j];
			}
		}
	}
	/* L v = A'e0, then L' (x0 - xb) = v; the SSE is e0'e0 - v'v */
	sse = e0e0;
	for (int i = 0; i < u; i++) {
		double sum = atb[i];
		for (int q = 0; q < i; q++)
			sum -= ata[i * u + q] * v[q];
		v[i] = sum / ata[i * u + i];
		sse -= v[i] * v[i];
	}
	for (int i = u - 1; i >= 0; i--) {
		double sum = v[i];
		for (int q = i + 1; q < u; q++)
			sum -= ata[q * u + i] * x0[q];
		x0[i] = sum / ata[i * u + i];
	}
	x0[0] += o->y[0];
	if (s->season) {
		double sum = 0;
		for (int j = s->sb; j < u; j++)
			sum += x0[j];
		x0[d - 1] = -sum;
	}
	return sse > 0 ? sse : 0;
}

/*
 * The states, and -2 log L less its constants, for parameters p. With
 * multiplicative errors the states that make the relative errors least
 * are found by weighted least squares, each row weighted by 1 / y_t,
 * then again by 1 / mu_t of that fit (a second pass changed no AICc by
 * more than 0.003 on the elec_equip fits; the log |mu| term is left to
 * the simplex's choice of the smoothing parameters).
 */
static double
neg2loglik(const struct objective *o, const struct params *p, double *x0)
{
	double sse, sumlog;

	if (o->w == NULL) {
		sse = best_states(o, p, NULL, x0);
		return (double)o->n * log(sse / (double)o->n + 1e-300);
	}
	best_states(o, p, o->wy, x0);
	if (!(rel_sse_of(&o->s, p, x0, o->y, o->n, NULL, o->w, NULL) >= 0))
		return NAN;
	best_states(o, p, o->w, x0);
	sse = rel_sse_of(&o->s, p, x0, o->y, o->n, &sumlog, NULL, NULL);
	return (double)o->n * log(sse / (double)o->n + 1e-300) + 2 * sumlog;
}

/* The concentrated likelihood over the smoothing parameters alone. */
static double
objective_smooth(unsigned dim, const double *th, double *grad, void *arg)
{
	const struct objective *o = arg;
	struct params p;
	double x0[2 + ETS_MAX_SEASON], v;
	int i = 0;

	p.alpha = th[i++];
	p.beta = o->s.trend ? th[i++] : 0;
	p.gamma = o->s.season ? th[i++] : 0;
	p.phi = o->s.trend && o->damped ? th[i++] : 1;
	if (p.beta > p.alpha || p.gamma > 1 - p.alpha)
		return 1e300;
	v = neg2loglik(o, &p, x0);
	return isfinite(v) ? v : 1e300;
}

/* Nelder-Mead within the bounds, started again from where it stopped
 * until that no longer helps (a simplex shrinks onto a ridge in many
 * dimensions); 0, or -1 if it found nothing admissible. */
static int
minimize(struct objective *o, int dim, double *th, const double *lo,
    const double *hi, double tol, int runs, double *best)
{
	nlopt_opt opt = nlopt_create(NLOPT_LN_NELDERMEAD, (unsigned)dim);
	int rc = 0;

	nlopt_set_lower_bounds(opt, lo);
	nlopt_set_upper_bounds(opt, hi);
	nlopt_set_min_objective(opt, objective_smooth, o);
	nlopt_set_xtol_rel(opt, tol);
	nlopt_set_ftol_abs(opt, tol);
	nlopt_set_maxeval(opt, 400 * dim);
	for (int run = 0, more = 1; more && run < runs; run++) {
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

/*
 * Fit model from its twin's smoothing parameters (the model with
 * additive errors and the same components: their optima lie close, and
 * one start from there finds what three starts do, in half the time), or
 * from R's starting values; a damped trend's likelihood has
 * more than one valley, so it is searched roughly from three starts
 * first and the best of them refined (on 300 daily series' 600 damped
 * fits, 7 ended 0.1 to 2.2 AICc above refining all three, in 3/4 of
 * the time).
 */
#define TOL 1e-4                /* in parameters (relative) and -2 log L */
#define SCOUT_TOL 1e-3

static int
fit_model(struct objective *o, const struct ets_model *model,
    const struct ets_fit *twin, struct ets_fit *fit)
{
	const double *y = o->y;
	size_t n = o->n;
	int dim = nparams(&o->s, model->damped), i = 0, ds;
	double th[4], lo[4], hi[4], best;
	struct params p;
	int k = dim + 1;            /* parameters: states too, and sigma */

	/* smoothing parameters, as R starts and bounds them; the initial
	 * states are solved for at each (best_states) */
	lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = o->s.season ? 0.5 / o->s.m + 0.01 : 0.5;
	if (o->s.trend) { lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = 0.01; }
	if (o->s.season) { lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = 0.01; }
	if (o->s.trend && model->damped) { lo[i] = 0.8; hi[i] = 0.98; th[i++] = 0.97; }
	ds = i;
	if (twin != NULL) {     /* from the additive-error twin's optimum */
		i = 0;
		th[i++] = twin->alpha;
		if (o->s.trend)
			th[i++] = twin->beta;
		if (o->s.season)
			th[i++] = twin->gamma;
		if (o->s.trend && model->damped)
			th[i++] = twin->phi;
		/* off the bounds: a simplex started on one stays there */
		for (i = 0; i < ds; i++)
			th[i] = fmin(fmax(th[i], lo[i] + 0.01 * (hi[i] - lo[i])),
			    hi[i] - 0.01 * (hi[i] - lo[i]));
	} else if (model->damped) {
		static const double other[2][4] = { { 0.2, 0.05, 0.05, 0.9 },
			{ 0.1, 0.05, 0.2, 0.8 } };
		double th2[4], best2;
		if (minimize(o, ds, th, lo, hi, SCOUT_TOL, 1, &best) < 0)
			best = HUGE_VAL;
		for (int st = 0; st < 2; st++) {
			int j = 0;
			th2[j++] = other[st][0];
			th2[j++] = other[st][1];
			if (o->s.season)
				th2[j++] = other[st][2];
			th2[j++] = other[st][3];
			if (minimize(o, ds, th2, lo, hi, SCOUT_TOL, 1,
			    &best2) == 0 && best2 < best) {
				memcpy(th, th2, (size_t)ds * sizeof *th);
				best = best2;
			}
		}
	}
	if (minimize(o, ds, th, lo, hi, TOL, 6, &best) < 0)
		return -1;
	memset(fit, 0, sizeof *fit);
	fit->model = *model;
	i = 0;
	p.alpha = th[i++];
	p.beta = o->s.trend ? th[i++] : 0;
	p.gamma = o->s.season ? th[i++] : 0;
	p.phi = o->s.trend && model->damped ? th[i++] : 1;
	if (!isfinite(neg2loglik(o, &p, fit->x0)))
		return -1;
	fit->alpha = p.alpha;
	fit->beta = p.beta;
	fit->gamma = p.gamma;
	fit->phi = p.phi;
	fit->n = n;
	fit->k = k;
	{
		double sumlog = 0, sse = model->error == 'M' ?
		    rel_sse_of(&o->s, &p, fit->x0, y, n, &sumlog, NULL,
		    fit->xn) : sse_of(&o->s, &p, fit->x0, y, n, fit->xn);
		double s2 = sse / (double)n;
		fit->loglik = -0.5 * (double)n * (log(2 * M_PI * s2 + 1e-300) +
		    1) - sumlog;
		fit->sigma2 = sse / (double)(n - (size_t)dim);
	}
	fit->aic = -2 * fit->loglik + 2 * k;
	fit->aicc = fit->aic + 2.0 * k * (k + 1) / (double)(n - (size_t)k - 1);
	fit->bic = fit->aic + k * (log((double)n) - 2);
	return 0;
}

int
ets_positive(const double *y, size_t n)
{
	for (size_t t = 0; t < n; t++)
		if (!(y[t] > 0))
			return 0;
	return 1;
}

static int
fit_from(const double *y, size_t n, const struct ets_model *model,
    const struct ets_fit *twin, struct ets_fit *fit)
{
	struct objective o = { shape_of(model), model->damped, y, n, NULL,
		NULL, NULL };
	int rc;

	if (n < (size_t)nparams(&o.s, model->damped) + 3 ||
	    (o.s.season && n < 2 * (size_t)o.s.m))
		return -1;
	if (model->error == 'M' && !ets_positive(y, n))
		return -1;
	if ((o.cols = malloc((size_t)o.s.d * BLOCK * sizeof *o.cols)) == NULL ||
	    (model->error == 'M' &&
	    (o.w = malloc(2 * n * sizeof *o.w)) == NULL)) {
		free(o.cols);
		return -1;
	}
	if (o.w != NULL) {
		o.wy = o.w + n;
		for (size_t t = 0; t < n; t++)
			o.wy[t] = 1 / y[t];
	}
	rc = fit_model(&o, model, twin, fit);
	free(o.cols);
	free(o.w);
	return rc;
}

int
ets_fit(const double *y, size_t n, const struct ets_model *model,
    struct ets_fit *fit)
{
	struct ets_model twin = *model;
	struct ets_fit tf;

	if (model->error == 'A' || !ets_positive(y, n))
		return fit_from(y, n, model, NULL, fit);
	/* as ets_auto fits it: from its additive-error twin's optimum */
	twin.error = 'A';
	return fit_from(y, n, model, fit_from(y, n, &twin, NULL, &tf) == 0 ?
	    &tf : NULL, fit);
}

/* The models, each multiplicative-error one after its additive twin. */
static const char *const model_names[] = { "ANN", "AAN", "AAdN", "ANA",
	"AAA", "AAdA", "MNN", "MAN", "MAdN", "MNA", "MAA", "MAdA" };
#define NTWINS 6

int
ets_auto(const double *y, size_t n, int m, struct ets_fit *best)
{
	struct ets_fit twins[NTWINS];
	int found = 0, fitted[NTWINS] = { 0 };
	int nm = ets_positive(y, n) ? 2 * NTWINS : NTWINS;

	for (int i = 0; i < nm; i++) {
		struct ets_model md;
		struct ets_fit f;
		const struct ets_fit *twin = i >= NTWINS && fitted[i - NTWINS] ?
		    &twins[i - NTWINS] : NULL;
		if (ets_parse(model_names[i], m, &md) < 0 ||
		    fit_from(y, n, &md, twin, &f) < 0)
			continue;
		if (i < NTWINS) {
			twins[i] = f;
			fitted[i] = 1;
		}
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
	double *c = malloc((nh + 1) * sizeof *c);
	double *theta = malloc((nh + 1) * sizeof *theta);

	if (c == NULL || theta == NULL)
		abort();        /* a horizon of 100,000 steps at most */
	memcpy(x, fit->xn, (size_t)s.d * sizeof *x);
	step(&s, &p, z, 1);             /* z = g */
	for (size_t h = 0; h < nh; h++) {
		mean[h] = predict(&s, &p, x);
		step(&s, &p, x, 0);
		c[h] = predict(&s, &p, z);      /* c_(h+1) = w'F^h g */
		step(&s, &p, z, 0);
		if (fit->model.error == 'A') {
			/* var_h = sigma^2 (1 + sum of c_j^2, j < h) */
			var[h] = fit->sigma2 * (1 + acc);
			acc += c[h] * c[h];
			continue;
		}
		/* multiplicative errors (HKOS 2008, 6.3, class 2): theta_h =
		 * mu_h^2 + sigma^2 sum_(j<h) c_j^2 theta_(h-j), and var_h =
		 * (1 + sigma^2) theta_h - mu_h^2 */
		theta[h] = mean[h] * mean[h];
		for (size_t j = 1; j <= h; j++)
			theta[h] += fit->sigma2 * c[j - 1] * c[j - 1] *
			    theta[h - j];
		var[h] = (1 + fit->sigma2) * theta[h] - mean[h] * mean[h];
	}
	free(c);
	free(theta);
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
	/* the highest peak, then the first peak nearly as high: a season's
	 * multiples (14, 21 days for a week) peak about as high */
	for (size_t lag = 2; c0 > 0 && lag < maxlag && lag + 1 < nd; lag++)
		if (acf[lag] > acf[lag - 1] && acf[lag] >= acf[lag + 1] &&
		    acf[lag] > bestv)
			bestv = acf[lag];
	for (size_t lag = 2; c0 > 0 && bestv > 0.2 && lag < maxlag &&
	    lag + 1 < nd; lag++)
		if (acf[lag] > acf[lag - 1] && acf[lag] >= acf[lag + 1] &&
		    acf[lag] >= 0.8 * bestv) {
			best = (int)lag;
			break;
		}
	free(d);
	return best;
}
