#include <math.h>
#include <nlopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ets.h"

/* Where each state sits in x: level, trend, then the season (newest
 * first). mult: the season multiplies; mtrend: the trend does (a growth
 * factor, not a slope). */
struct shape {
	int trend, mtrend, season, mult, m, sb, d;
};

static struct shape
shape_of(const struct ets_model *md)
{
	struct shape s = { md->trend != 'N', md->trend == 'M',
		md->season != 'N', md->season == 'M', 0, 0, 0 };

	s.m = s.season ? md->m : 0;
	s.sb = 1 + s.trend;
	s.d = s.sb + s.m;
	return s;
}

/* Is the model nonlinear in its states (HKOS's class 3 and the
 * multiplicative trends): states by Gauss-Newton, variance simulated? */
static int
nonlinear(const struct shape *s)
{
	return s->mult || s->mtrend;
}

struct params {
	double alpha, beta, gamma, phi;
};

/* The level and trend's part of the forecast: l + phi b, or l b^phi. */
static double
level_trend(const struct shape *s, const struct params *p, double l,
    double b)
{
	if (s->mtrend)
		return l * pow(b, p->phi);
	return s->trend ? l + p->phi * b : l;
}

/* The one-step forecast from state x. */
static double
predict(const struct shape *s, const struct params *p, const double *x)
{
	double y = level_trend(s, p, x[0], s->trend ? x[1] : 0);

	if (s->mult)
		y *= x[s->sb + s->m - 1];
	else if (s->season)
		y += x[s->sb + s->m - 1];
	return y;
}

/* x after an error e (y less its forecast): x = F x + g e; with a
 * multiplicative season (HKOS, table 2.3) the level and trend move by e
 * over the season's factor, the factor by e over the level and trend's
 * forecast; a multiplicative trend is b^phi moved by its share over the
 * level. */
static void
step(const struct shape *s, const struct params *p, double *x, double e)
{
	double b = s->trend ? x[1] : 0, old = s->season ? x[s->sb + s->m - 1] : 0;
	double q = level_trend(s, p, x[0], b);
	double el = s->mult ? e / old : e, es = s->mult ? e / q : e;

	if (s->mtrend)
		x[1] = pow(b, p->phi) + p->beta * el / x[0];
	else if (s->trend)
		x[1] = p->phi * b + p->beta * el;
	x[0] = q + p->alpha * el;
	if (s->season) {
		memmove(x + s->sb + 1, x + s->sb, (size_t)(s->m - 1) * sizeof *x);
		x[s->sb] = old + p->gamma * es;
	}
}

/* A sum of logs as the log of a product, kept in range by its exponent
 * when it strays (each value is a forecast, within 1e+-150 of 1): a log
 * a point was a seventh of the time. */
struct logsum {
	double prod;
	int exp2;
};

static void
logsum_add(struct logsum *ls, double v)
{
	int ex;

	ls->prod *= v;
	if (ls->prod > 1e150 || ls->prod < 1e-150) {
		ls->prod = frexp(ls->prod, &ex);
		ls->exp2 += ex;
	}
}

static double
logsum_value(const struct logsum *ls)
{
	return log(ls->prod) + ls->exp2 * M_LN2;
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
	/* the season in a ring, ring[h] the oldest (no shifting) */
	double l = x0[0], b = s->trend ? x0[1] : 0, ring[ETS_MAX_SEASON];
	double sse = 0, none = s->mult ? 1 : 0;
	int m = s->season ? s->m : 0, h = 0;
	struct logsum ls = { 1, 0 };

	for (int i = 0; i < m; i++)
		ring[i] = x0[s->sb + m - 1 - i];
	for (size_t t = 0; t < n; t++) {
		double so = m > 0 ? ring[h] : none, q = level_trend(s, p, l, b);
		double mu = s->mult ? q * so : q + so, e, el, es;
		if (!(mu > 0) || (s->mult && !(so > 0)))
			return NAN;
		e = (y[t] - mu) / mu;
		sse += e * e;
		if (sumlog != NULL)
			logsum_add(&ls, mu);
		if (w != NULL)
			w[t] = 1 / mu;
		/* as step() moves the states, by y less mu */
		el = s->mult ? (y[t] - mu) / so : y[t] - mu;
		es = s->mult ? (y[t] - mu) / q : y[t] - mu;
		b = s->mtrend ? pow(b, p->phi) + p->beta * el / l :
		    p->phi * b + p->beta * el;
		l = q + p->alpha * el;
		if (m > 0) {
			ring[h] = so + p->gamma * es;
			h = h + 1 == m ? 0 : h + 1;
		}
	}
	if (sumlog != NULL)
		*sumlog = logsum_value(&ls);
	if (xn != NULL) {
		xn[0] = l;
		if (s->trend)
			xn[1] = b;
		for (int j = 0; j < m; j++)
			xn[s->sb + j] = ring[(h + m - 1 - j) % m];
	}
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

	if ((s[0] != 'A' && s[0] != 'M') ||
	    (s[1] != 'N' && s[1] != 'A' && s[1] != 'M'))
		return -1;
	md.error = s[0];
	md.trend = s[1];
	s += 2;
	if (md.trend != 'N' && *s == 'd') {
		md.damped = 1;
		s++;
	}
	/* a multiplicative season or trend with additive errors is left out,
	 * and a multiplicative trend with an additive season, as R's ets
	 * leaves them out (its "restrict"): their variance can be infinite,
	 * their likelihood unstable near a factor of 0 */
	if ((s[0] != 'N' && s[0] != 'A' && s[0] != 'M') || s[1] != '\0' ||
	    (md.error == 'A' && (s[0] == 'M' || md.trend == 'M')) ||
	    (md.trend == 'M' && s[0] == 'A'))
		return -1;
	md.season = s[0];
	if (md.season != 'N' && (m < 2 || m > ETS_MAX_SEASON))
		return -1;
	md.m = md.season != 'N' ? m : 0;
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
	/* a multiplicative season: where Gauss-Newton starts, and room for
	 * the derivatives and two sets of normal equations */
	double *xstart, *xwarm, *work;
	double *slide;          /* a season's windows in best_states */
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

/* The k rows gathered (k of at most BLOCK) into A'A and A'e, padded
 * with rows of zeros to a multiple of 4; the rows gathered next: 0. */
static int
add_block(double *cols, double *e, int k, int u, double *ata, double *atb)
{
	for (; k % 4 != 0; k++) {
		for (int j = 0; j < u; j++)
			cols[j * BLOCK + k] = 0;
		e[k] = 0;
	}
	add_rows(cols, e, k, u, ata, atb);
	return 0;
}

/*
 * The normal equations A'A x = A'b by Cholesky, A'A's lower triangle in
 * ata (overwritten by L, with a whisker of ridge for columns that
 * vanish): v = L^-1 A'b (v'v is what x explains of b'b), then x; 0, or
 * -1 if A'A is not positive definite.
 */
static int
solve_normal(double *ata, const double *atb, int u, double *v, double *x)
{
	for (int i = 0; i < u; i++)
		ata[i * u + i] += 1e-10 * (ata[i * u + i] + 1e-300);
	for (int i = 0; i < u; i++) {
		for (int j = 0; j <= i; j++) {
			double sum = ata[i * u + j];
			for (int q = 0; q < j; q++)
				sum -= ata[i * u + q] * ata[j * u + q];
			if (i == j) {
				if (!(sum > 0))
					return -1;
				ata[i * u + i] = sqrt(sum);
			} else {
				ata[i * u + j] = sum / ata[j * u + j];
			}
		}
	}
	for (int i = 0; i < u; i++) {
		double sum = atb[i];
		for (int q = 0; q < i; q++)
			sum -= ata[i * u + q] * v[q];
		v[i] = sum / ata[i * u + i];
	}
	for (int i = u - 1; i >= 0; i--) {
		double sum = v[i];
		for (int q = i + 1; q < u; q++)
			sum -= ata[q * u + i] * x[q];
		x[i] = sum / ata[i * u + i];
	}
	return 0;
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
	int m = s->season ? s->m : 0, k = 0;
	double ata[(1 + ETS_MAX_SEASON) * (1 + ETS_MAX_SEASON)];
	double atb[1 + ETS_MAX_SEASON], v[1 + ETS_MAX_SEASON];
	double e0s[BLOCK], e0e0 = 0, sse;
	/* x from the base state: the first value as level */
	double xl = o->y[0], xb = 0, *xs = o->slide;
	double rl = 1, rb = s->trend ? p->phi : 0, *rs = o->slide + o->n + m;

	memset(ata, 0, (size_t)(u * u) * sizeof *ata);
	memset(atb, 0, (size_t)u * sizeof *atb);
	/* r = w' (the forecast's weights on the states); the seasonal
	 * states of x and of r move one place a step, so each lives in a
	 * window that slides along a buffer (xs: the oldest first, rs: the
	 * newest first) rather than being shifted */
	if (m > 0) {
		memset(xs, 0, (size_t)m * sizeof *xs);
		memset(rs, 0, (size_t)m * sizeof *rs);
		rs[m - 1] = 1;
	}
	for (size_t t = 0; t < o->n; t++, xs++, rs++) {
		double sold = m > 0 ? xs[0] : 0, wt = w != NULL ? w[t] : 1;
		double e0 = o->y[t] - (xl + p->phi * xb + sold), rg;
		xl += p->phi * xb + p->alpha * e0;
		xb = p->phi * xb + p->beta * e0;
		/* a_t in the free states' terms */
		o->cols[k] = rl * wt;
		if (s->trend)
			o->cols[BLOCK + k] = rb * wt;
		if (m > 0) {
			double rlast = rs[m - 1];
			xs[m] = sold + p->gamma * e0;
			for (int j = 0; j < m - 1; j++)
				o->cols[(s->sb + j) * BLOCK + k] = (rs[j] - rlast) *
				    wt;
		}
		e0 *= wt;
		e0e0 += e0 * e0;
		e0s[k++] = e0;
		if (k == BLOCK || t + 1 == o->n)
			k = add_block(o->cols, e0s, k, u, ata, atb);
		/* r = r D = r F - (r g) w'; g is zero but for the level,
		 * the trend and the newest seasonal state */
		rg = rl * p->alpha + rb * p->beta + (m > 0 ? rs[0] * p->gamma : 0);
		rb = p->phi * (rl + rb) - rg * p->phi;
		if (m > 0)
			rs[m] = rs[0] - rg;
		rl -= rg;
	}
	/* L v = A'e0, then L' (x0 - xb) = v; the SSE is e0'e0 - v'v */
	if (solve_normal(ata, atb, u, v, x0) < 0)
		return NAN;
	sse = e0e0;
	for (int i = 0; i < u; i++)
		sse -= v[i] * v[i];
	x0[0] += o->y[0];
	if (s->season) {
		double sum = 0;
		for (int j = s->sb; j < u; j++)
			sum += x0[j];
		x0[d - 1] = -sum;
	}
	return sse > 0 ? sse : 0;
}

/* The SSE of the relative errors of a nonlinear model from x and the
 * sum of log mu_t (no derivatives); NAN if a forecast, a factor or a
 * growth is not positive. */
static double
class3_sse(const struct objective *o, const struct params *p,
    const double *x, double *sumlog)
{
	const struct shape *s = &o->s;
	int m = s->m, h = 0;
	double l = x[0], b = s->trend ? x[1] : 0, ring[ETS_MAX_SEASON], sse = 0;
	struct logsum ls = { 1, 0 };

	for (int i = 0; i < m; i++)
		ring[i] = x[s->sb + m - 1 - i];
	for (size_t t = 0; t < o->n; t++) {
		double so = m > 0 ? ring[h] : 1, q = level_trend(s, p, l, b), r;
		if (!(q > 0 && so > 0) || (s->mtrend && !(b > 0)))
			return NAN;
		r = o->y[t] / (q * so) - 1;
		sse += r * r;
		logsum_add(&ls, q * so);
		b = s->mtrend ? (q / l) * (1 + p->beta * r) :
		    p->phi * b + p->beta * q * r;
		l = q * (1 + p->alpha * r);
		if (m > 0) {
			ring[h] = so * (1 + p->gamma * r);
			h = h + 1 == m ? 0 : h + 1;
		}
	}
	*sumlog = logsum_value(&ls);
	return sse;
}

/* The free states: all but the oldest factor of a season. */
static int
free_states(const struct shape *s)
{
	return s->season ? s->d - 1 : s->d;
}

/*
 * A multiplicative season or trend (with multiplicative errors) makes
 * the errors nonlinear in the initial states, so least squares cannot
 * solve for them in one step; Gauss-Newton does, from a start near
 * (the twin's states), in a few.
 *
 * One pass from x: the SSE of the relative errors r_t, the sum of
 * log mu_t, and J'J and J'r in ata and atb (J: the derivatives of r by
 * the free states, the level, the trend and all factors but the
 * oldest, which is m less the others: the factors sum to m). The
 * derivatives move through the recursion with the states; only the
 * level's, the trend's and the newest factor's change each step.
 */
static double
class3_pass(const struct objective *o, const struct params *p,
    const double *x, double *ata, double *atb, double *glog, double *sumlog)
{
	const struct shape *s = &o->s;
	int m = s->m, u = free_states(s), sb = s->sb, h = 0, k = 0;
	double l = x[0], b = s->trend ? x[1] : 0, ring[ETS_MAX_SEASON];
	double *dl = o->work, *db = dl + u, *dq = db + u, *dr = dq + u;
	double *dzero = dr + u, *dring = dzero + u, rs[BLOCK], sse = 0;
	struct logsum ls = { 1, 0 };

	if (ata == NULL)
		return class3_sse(o, p, x, sumlog);
	memset(ata, 0, (size_t)(u * u) * sizeof *ata);
	memset(atb, 0, (size_t)u * sizeof *atb);
	memset(glog, 0, (size_t)u * sizeof *glog);
	memset(dl, 0, (size_t)((5 + m) * u) * sizeof *dl);
	dl[0] = 1;
	if (s->trend)
		db[1] = 1;
	/* ring[0] the oldest factor, the first used */
	for (int i = 0; i < m; i++) {
		ring[i] = x[sb + m - 1 - i];
		if (i == 0)
			for (int j = sb; j < u; j++)
				dring[j] = -1;
		else
			dring[i * u + sb + m - 1 - i] = 1;
	}
	for (size_t t = 0; t < o->n; t++) {
		double so = m > 0 ? ring[h] : 1, *dso = m > 0 ? dring + h * u :
		    dzero, q = level_trend(s, p, l, b), dbq = 0;
		double mu = q * so, r, c, a1, g1, qa, sg;
		if (!(q > 0 && so > 0) || (s->mtrend && !(b > 0)))
			return NAN;
		/* dq = dl + phi db, or b^phi dl + (phi q / b) db */
		if (s->mtrend)
			dbq = p->phi * q / b;
		for (int j = 0; j < u; j++)
			dq[j] = s->mtrend ? (q / l) * dl[j] + dbq * db[j] :
			    dl[j] + p->phi * db[j];
		r = o->y[t] / mu - 1;
		c = -o->y[t] / (mu * mu);
		for (int j = 0; j < u; j++) {
			double dmu = so * dq[j] + q * dso[j];
			dr[j] = c * dmu;
			o->cols[j * BLOCK + k] = dr[j];
			glog[j] += dmu / mu;
		}
		sse += r * r;
		logsum_add(&ls, mu);
		rs[k++] = r;
		if (k == BLOCK || t + 1 == o->n)
			k = add_block(o->cols, rs, k, u, ata, atb);
		a1 = 1 + p->alpha * r;
		g1 = 1 + p->gamma * r;
		qa = q * p->alpha;
		sg = so * p->gamma;
		if (s->mtrend) {        /* b' = b^phi (1 + beta r) */
			double bp = q / l, dbp = p->phi * bp / b;
			for (int j = 0; j < u; j++)
				db[j] = dbp * db[j] * (1 + p->beta * r) +
				    bp * p->beta * dr[j];
			b = bp * (1 + p->beta * r);
		} else if (s->trend) {  /* b' = phi b + beta q r */
			for (int j = 0; j < u; j++)
				db[j] = p->phi * db[j] + p->beta * (dq[j] * r +
				    q * dr[j]);
			b = p->phi * b + p->beta * q * r;
		}
		for (int j = 0; j < u; j++)
			dl[j] = dq[j] * a1 + qa * dr[j];
		l = q * a1;
		if (m > 0) {
			for (int j = 0; j < u; j++)
				dso[j] = dso[j] * g1 + sg * dr[j];
			ring[h] = so * g1;
			h = h + 1 == m ? 0 : h + 1;
		}
	}
	*sumlog = logsum_value(&ls);
	return sse;
}

/* x = from + lambda delta over the free states, the oldest factor m
 * less the others. */
static void
class3_move(const struct shape *s, const double *from, const double *delta,
    double lambda, double *x)
{
	double sum = 0;
	int u = free_states(s);

	for (int j = 0; j < u; j++)
		x[j] = from[j] + lambda * delta[j];
	if (!s->season)
		return;
	for (int j = s->sb; j < u; j++)
		sum += x[j];
	x[s->d - 1] = s->m - sum;
}

/*
 * The states of greatest likelihood from x0: -2 log L is (constants
 * aside) f = n log SSE + 2 sum log mu_t; its gradient is 2 (n / SSE) J'r
 * + 2 sum d log mu_t, and (n / SSE) J'J stands for its Hessian (Gauss-
 * Newton's), so a step solves J'J delta = J'r + (SSE / n) sum d log mu.
 * Steps are halved while they do not lower f, and it stops when the
 * decrease foreseen is below what the simplex's tolerance can see. With
 * once, a single step if it lowers f (x0 is near: the last parameters'
 * states). The SSE (and the sum of logs), or NAN if x0 does not fit p.
 */
static double
gauss_newton(const struct objective *o, const struct params *p, double *x0,
    double *sumlog, int once)
{
	const struct shape *s = &o->s;
	int u = free_states(s), cur = 0;
	double *ata[2], *atb[2], *glog[2], *delta, *v, xt[2 + ETS_MAX_SEASON];
	double sse, sl = 0, n = (double)o->n, f;

	ata[0] = o->work + (size_t)((5 + s->m) * u);
	ata[1] = ata[0] + u * u;
	atb[0] = ata[1] + u * u;
	atb[1] = atb[0] + u;
	glog[0] = atb[1] + u;
	glog[1] = glog[0] + u;
	delta = glog[1] + u;
	v = delta + u;
	sse = class3_pass(o, p, x0, ata[0], atb[0], glog[0], sumlog);
	if (!isfinite(sse))
		return NAN;
	f = n * log(sse) + 2 * *sumlog;
	for (int it = 0; it < 20; it++) {
		double lambda = 1, ssen = NAN, fn = HUGE_VAL, foreseen = 0;
		for (int i = 0; i < u; i++)
			atb[cur][i] += sse / n * glog[cur][i];
		if (solve_normal(ata[cur], atb[cur], u, v, delta) < 0)
			break;
		for (int i = 0; i < u; i++)
			foreseen += v[i] * v[i];
		if (n / sse * foreseen < 1e-5)
			break;
		if (once) {
			class3_move(s, x0, delta, -1, xt);
			ssen = class3_pass(o, p, xt, NULL, NULL, NULL, &sl);
			if (isfinite(ssen) && n * log(ssen) + 2 * sl < f) {
				memcpy(x0, xt, (size_t)s->d * sizeof *x0);
				*sumlog = sl;
				return ssen;
			}
		}
		for (int half = 0; half < 8; half++, lambda /= 2) {
			class3_move(s, x0, delta, -lambda, xt);
			ssen = class3_pass(o, p, xt, ata[!cur], atb[!cur],
			    glog[!cur], &sl);
			fn = isfinite(ssen) ? n * log(ssen) + 2 * sl : HUGE_VAL;
			if (fn < f)
				break;
		}
		if (!(fn < f))
			break;
		cur = !cur;
		memcpy(x0, xt, (size_t)s->d * sizeof *x0);
		*sumlog = sl;
		sse = ssen;
		f = fn;
	}
	return sse;
}

/* The states of least SSE for parameters p, into x0: from the last
 * parameters' (the simplex moves a little at a time: one or two passes
 * then), or if they do not fit p from o->xstart. */
static double
class3_states(const struct objective *o, const struct params *p, double *x0,
    double *sumlog)
{
	size_t d = (size_t)o->s.d;
	double sse;

	memcpy(x0, o->xwarm, d * sizeof *x0);
	sse = gauss_newton(o, p, x0, sumlog, 1);
	if (!isfinite(sse)) {
		memcpy(x0, o->xstart, d * sizeof *x0);
		sse = gauss_newton(o, p, x0, sumlog, 0);
	}
	if (isfinite(sse))
		memcpy(o->xwarm, x0, d * sizeof *x0);
	return sse;
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

	if (nonlinear(&o->s)) {
		sse = class3_states(o, p, x0, &sumlog);
		return (double)o->n * log(sse / (double)o->n + 1e-300) +
		    2 * sumlog;
	}
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

/* Nelder-Mead within the bounds, in 4 dimensions started again from
 * where it stopped until that no longer helps (a simplex shrinks onto a
 * ridge in many dimensions; in 1 to 3 the restarts cost a fifth of the
 * time and changed no model chosen nor AICc by 0.01 on 50 daily
 * series, nor the backtests of bench/trend-accuracy); 0, or -1 if it
 * found nothing admissible. */
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
	if (dim < 4)
		runs = 1;
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
	int dim = nparams(&o->s, model->damped), i = 0, ds, nstart;
	double th[4], lo[4], hi[4], best, starts[3][4];
	struct params p;
	int k = dim + 1;            /* parameters: states too, and sigma */

	/* smoothing parameters, as R starts and bounds them; the initial
	 * states are solved for at each (best_states) */
	lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = o->s.season ? 0.5 / o->s.m + 0.01 : 0.5;
	if (o->s.trend) { lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = 0.01; }
	if (o->s.season) { lo[i] = 1e-4; hi[i] = 0.9999; th[i++] = 0.01; }
	if (o->s.trend && model->damped) { lo[i] = 0.8; hi[i] = 0.98; th[i++] = 0.97; }
	ds = i;
	memcpy(starts[0], th, sizeof th);
	nstart = 1;             /* R's start, in th (starts[0]) */
	if (twin != NULL) {     /* the twin's optimum first */
		double *t = starts[nstart - 1];
		i = 0;
		t[i++] = twin->alpha;
		if (o->s.trend)
			t[i++] = twin->beta;
		if (o->s.season)
			t[i++] = twin->gamma;
		if (o->s.trend && model->damped)
			t[i++] = twin->phi;
		/* off the bounds: a simplex started on one stays there */
		for (i = 0; i < ds; i++)
			t[i] = fmin(fmax(t[i], lo[i] + 0.01 * (hi[i] - lo[i])),
			    hi[i] - 0.01 * (hi[i] - lo[i]));
		/* a multiplicative season's optimum can lie far from an
		 * additive one's (which follows a growing swing by a large
		 * gamma), and a growth's from a slope's: R's start too */
		if (nonlinear(&o->s))
			memcpy(starts[nstart++], th, sizeof th);
	} else if (model->damped) {
		static const double other[2][4] = { { 0.2, 0.05, 0.05, 0.9 },
			{ 0.1, 0.05, 0.2, 0.8 } };
		for (int st = 0; st < 2; st++, nstart++) {
			int j = 0;
			starts[nstart][j++] = other[st][0];
			starts[nstart][j++] = other[st][1];
			if (o->s.season)
				starts[nstart][j++] = other[st][2];
			starts[nstart][j++] = other[st][3];
		}
	}
	if (nstart == 1) {
		memcpy(th, starts[0], sizeof th);
	} else {                /* searched roughly from each, the best refined */
		double b1;
		best = HUGE_VAL;
		for (int st = 0; st < nstart; st++)
			if (minimize(o, ds, starts[st], lo, hi, SCOUT_TOL, 1,
			    &b1) == 0 && b1 < best) {
				memcpy(th, starts[st], sizeof th);
				best = b1;
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

/*
 * Where Gauss-Newton starts for a nonlinear model: the states of its twin
 * (the same with an additive trend, or an additive season), a slope
 * turned into a growth (1 + b / level) and additive terms into factors
 * (1 + s / level); without one, the first season's mean as level, its
 * values over it as factors, no growth.
 */
static void
class3_start(const struct shape *s, const double *y,
    const struct ets_fit *twin, double *x)
{
	double sum = 0;
	int m = s->m;

	memset(x, 0, (size_t)s->d * sizeof *x);
	if (twin != NULL) {
		x[0] = twin->x0[0];
		if (s->trend)
			x[1] = twin->x0[1];
		if (s->mtrend && twin->model.trend != 'M')
			x[1] = fmin(fmax(1 + x[1] / x[0], 0.5), 2);
		for (int j = 0; j < m; j++)
			x[s->sb + j] = twin->model.season == 'M' ?
			    twin->x0[s->sb + j] :
			    fmax(1 + twin->x0[s->sb + j] / x[0], 0.05);
	} else {
		x[0] = y[0];
		for (int j = 0; j < m; j++)
			x[0] += (y[j] - y[0]) / m;
		if (s->mtrend)
			x[1] = 1;
		/* the newest factor (x[sb]) is the one used m steps in */
		for (int j = 0; j < m; j++)
			x[s->sb + j] = y[m - 1 - j] / x[0];
	}
	for (int j = 0; j < m; j++)
		sum += x[s->sb + j];
	for (int j = 0; j < m; j++)
		x[s->sb + j] *= m / sum;
}

static int
fit_from(const double *y, size_t n, const struct ets_model *model,
    const struct ets_fit *twin, struct ets_fit *fit)
{
	struct objective o = { shape_of(model), model->damped, y, n, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL };
	size_t u = (size_t)free_states(&o.s);
	int rc = -1;

	if (n < (size_t)nparams(&o.s, model->damped) + 3 ||
	    (o.s.season && n < 2 * (size_t)o.s.m))
		return -1;
	if (model->error == 'M' && !ets_positive(y, n))
		return -1;
	if ((o.cols = malloc((size_t)o.s.d * BLOCK * sizeof *o.cols)) == NULL ||
	    (o.slide = malloc(2 * (n + (size_t)o.s.m) * sizeof *o.slide)) ==
	    NULL ||
	    (model->error == 'M' &&
	    (o.w = malloc(2 * n * sizeof *o.w)) == NULL) ||
	    (nonlinear(&o.s) && ((o.xstart = malloc(2 * (size_t)o.s.d *
	    sizeof *o.xstart)) == NULL || (o.work = malloc(((5 +
	    (size_t)o.s.m) * u + 2 * u * u + 6 * u) * sizeof *o.work)) ==
	    NULL)))
		goto done;
	if (o.w != NULL) {
		o.wy = o.w + n;
		for (size_t t = 0; t < n; t++)
			o.wy[t] = 1 / y[t];
	}
	if (nonlinear(&o.s)) {
		class3_start(&o.s, y, twin, o.xstart);
		o.xwarm = o.xstart + o.s.d;
		memcpy(o.xwarm, o.xstart, (size_t)o.s.d * sizeof *o.xwarm);
	}
	rc = fit_model(&o, model, twin, fit);
done:
	free(o.cols);
	free(o.w);
	free(o.xstart);
	free(o.work);
	free(o.slide);
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
	/* as ets_auto fits it: from its twin's optimum, the same model with
	 * additive errors, or an additive season, or an additive trend */
	if (model->trend == 'M')
		twin.trend = 'A';
	else if (model->season == 'M')
		twin.season = 'A';
	else
		twin.error = 'A';
	return fit_from(y, n, model, ets_fit(y, n, &twin, &tf) == 0 ? &tf :
	    NULL, fit);
}

/* The models in the order they are fitted, each after its twin (the
 * start of its search): a multiplicative-error model's is the one with
 * additive errors, a multiplicative season's the additive season. */
static const struct {
	const char *name;
	int twin;
} models[] = {
	{ "ANN", -1 }, { "AAN", -1 }, { "AAdN", -1 }, { "ANA", -1 },
	{ "AAA", -1 }, { "AAdA", -1 }, { "MNN", 0 }, { "MAN", 1 },
	{ "MAdN", 2 }, { "MNA", 3 }, { "MAA", 4 }, { "MAdA", 5 },
	{ "MNM", 9 }, { "MAM", 10 }, { "MAdM", 11 },
};
#define NMODELS (int)(sizeof models / sizeof models[0])
#define NADDITIVE 6             /* the models for data not all positive */

int
ets_auto(const double *y, size_t n, int m, struct ets_fit *best)
{
	struct ets_fit fits[NMODELS];
	int found = 0, fitted[NMODELS] = { 0 };
	int nm = ets_positive(y, n) ? NMODELS : NADDITIVE;

	for (int i = 0; i < nm; i++) {
		struct ets_model md;
		int tw = models[i].twin;
		if (ets_parse(models[i].name, m, &md) < 0 || fit_from(y, n,
		    &md, tw >= 0 && fitted[tw] ? &fits[tw] : NULL, &fits[i]) < 0)
			continue;
		fitted[i] = 1;
		if (!found || fits[i].aicc < best->aicc)
			*best = fits[i];
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

/*
 * A multiplicative season's forecast (class 3) has no closed-form
 * variance: as R's ets and statsmodels do, paths are simulated, each
 * error drawn from N(0, sigma^2), a fixed seed so that a forecast is
 * the same each time. The mean is the forecast with no errors (HKOS's
 * point forecast, as theirs); the variance the paths' about it.
 */
#define PATHS 2000

/* A standard normal number from a splitmix64 sequence (erand48 shares
 * its constants between threads). */
static double
std_normal(uint64_t *state)
{
	double u[2];

	for (int i = 0; i < 2; i++) {
		uint64_t z = (*state += 0x9e3779b97f4a7c15u);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		u[i] = (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
	}
	return sqrt(-2 * log(1 - u[0])) * cos(2 * M_PI * u[1]);
}

static void
class3_forecast(const struct ets_fit *fit, const struct shape *s, size_t nh,
    double *mean, double *var)
{
	struct params p = params_of(fit);
	double x[2 + ETS_MAX_SEASON], sd = sqrt(fit->sigma2);
	uint64_t seed;

	memcpy(x, fit->xn, (size_t)s->d * sizeof *x);
	for (size_t h = 0; h < nh; h++) {
		mean[h] = predict(s, &p, x);
		step(s, &p, x, 0);
		var[h] = 0;
	}
	for (int path = 0; path < PATHS; path++) {
		/* each path its own sequence: a step's draws are the same
		 * whatever the horizon */
		seed = 20080101u + (uint64_t)path * 0x100000001b3u;
		memcpy(x, fit->xn, (size_t)s->d * sizeof *x);
		for (size_t h = 0; h < nh; h++) {
			double mu = predict(s, &p, x), e = mu * sd *
			    std_normal(&seed);
			if (!(mu > 0))  /* a path gone below 0 stays there */
				e = 0;
			var[h] += (mu + e - mean[h]) * (mu + e - mean[h]);
			step(s, &p, x, e);
		}
	}
	for (size_t h = 0; h < nh; h++)
		var[h] /= PATHS;
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
	if (nonlinear(&s)) {
		free(c);
		free(theta);
		class3_forecast(fit, &s, nh, mean, var);
		return;
	}
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
