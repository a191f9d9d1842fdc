/*
 * ets: simulated series of known models come back with their parameters,
 * AICc chooses the model that made them, and the forecast's variance is
 * the closed form of Hyndman et al. (2008), table 6.1, where one exists.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ets.h"
#include "tap.h"

#define N 600

/* A standard normal number (Box-Muller on a fixed generator). */
static double
normal(unsigned *state)
{
	double u, v;

	*state = *state * 1103515245u + 12345u;
	u = ((*state >> 8) & 0xffffff) / 16777216.0 + 1e-9;
	*state = *state * 1103515245u + 12345u;
	v = ((*state >> 8) & 0xffffff) / 16777216.0;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* y from model ANN/AAN/ANA with the given parameters, noise sd 1. */
static void
simulate(double *y, size_t n, double alpha, double beta, double slope,
    double gamma, int m, unsigned seed)
{
	double l = 100, b = slope, s[64];

	for (int k = 0; k < m; k++)
		s[k] = 10 * sin(2 * M_PI * k / m);
	for (size_t t = 0; t < n; t++) {
		double e = normal(&seed), season = m > 0 ? s[t % (size_t)m] : 0;
		y[t] = l + b + season + e;
		l += b + alpha * e;
		b += beta * e;
		if (m > 0)
			s[t % (size_t)m] = season + gamma * e;
	}
}

static void
test_parameters(void)
{
	static double y[N];
	struct ets_model md;
	struct ets_fit f;
	char name[8];

	simulate(y, N, 0.3, 0, 0, 0, 0, 7);
	ets_parse("ANN", 0, &md);
	ok(ets_fit(y, N, &md, &f) == 0, "ANN fits");
	ok(fabs(f.alpha - 0.3) < 0.08, "ANN: alpha %.3f (0.3)", f.alpha);
	ok(fabs(sqrt(f.sigma2) - 1) < 0.1, "ANN: sigma %.3f (1)",
	    sqrt(f.sigma2));
	{
		int right = 0;
		for (unsigned seed = 1; seed <= 10; seed++) {
			simulate(y, N, 0.3, 0, 0, 0, 0, seed);
			if (ets_auto(y, N, 1, &f) == 0 &&
			    f.model.trend == 'N' && f.model.season == 'N')
				right++;
		}
		/* a chance gain of likelihood outweighs the penalty of a
		 * trend about one time in five */
		ok(right >= 6, "AICc chooses ANN for ANN data: %d of 10 "
		    "seeds", right);
	}

	simulate(y, N, 0.2, 0, 0.5, 0, 0, 11);
	ets_parse("AAN", 0, &md);
	ok(ets_fit(y, N, &md, &f) == 0, "AAN fits");
	ok(fabs(f.xn[1] - 0.5) < 0.05, "AAN: slope %.3f (0.5)", f.xn[1]);

	simulate(y, N, 0.1, 0, 0, 0.05, 12, 13);
	ok(ets_season(y, N) == 12, "the season found: %d (12)",
	    ets_season(y, N));
	ok(ets_auto(y, N, 12, &f) == 0 && f.model.season == 'A',
	    "AICc chooses a seasonal model");
	printf("# chosen: %s\n", ets_name(&f.model, name));
	ok(fabs(sqrt(f.sigma2) - 1) < 0.15, "ANA: sigma %.3f (1)",
	    sqrt(f.sigma2));
}

static void
test_variance(void)
{
	struct ets_fit f = { .model = { 'A', 'N', 0, 'N', 0 }, .alpha = 0.4,
		.phi = 1, .sigma2 = 2, .xn = { 5 } };
	double mean[6], var[6];
	int good = 1;

	ets_forecast(&f, 6, mean, var);
	for (int h = 1; h <= 6; h++)
		good &= fabs(var[h - 1] - 2 * (1 + 0.16 * (h - 1))) < 1e-12 &&
		    mean[h - 1] == 5;
	ok(good, "ANN: mean flat, var = sigma2 (1 + alpha^2 (h - 1))");

	f.model.trend = 'A';
	f.beta = 0.1;
	f.xn[1] = 2;
	ets_forecast(&f, 6, mean, var);
	good = 1;
	for (int h = 1; h <= 6; h++) {
		double want = 2 * (1 + (h - 1) * (0.16 + 0.04 * h +
		    0.01 * h * (2 * h - 1) / 6.0));
		good &= fabs(var[h - 1] - want) < 1e-9 &&
		    fabs(mean[h - 1] - (5 + 2 * h)) < 1e-12;
	}
	ok(good, "AAN: var = sigma2 (1 + (h-1)(a^2 + a b h + b^2 h(2h-1)/6))");
}

static void
test_names(void)
{
	struct ets_model md;
	char buf[8];

	ok(ets_parse("AAdA", 7, &md) == 0 && md.damped && md.m == 7,
	    "AAdA parsed");
	is_str(ets_name(&md, buf), "AAdA", "and named back");
	ok(ets_parse("MAdA", 12, &md) == 0 && md.error == 'M' && md.damped,
	    "MAdA parsed");
	is_str(ets_name(&md, buf), "MAdA", "and named back");
	ok(ets_parse("MMA", 12, &md) < 0 && ets_parse("ANA", 1, &md) < 0 &&
	    ets_parse("AdN", 0, &md) < 0 && ets_parse("ANM", 12, &md) < 0,
	    "not models: MMA, ANA with m 1, AdN, ANM");
}

/* y from MNN: y_t = l (1 + e_t), l moving by alpha l e_t, e's sd sd. */
static void
simulate_mnn(double *y, size_t n, double alpha, double sd, unsigned seed)
{
	double l = 100;

	for (size_t t = 0; t < n; t++) {
		double e = sd * normal(&seed);
		y[t] = l * (1 + e);
		l += alpha * l * e;
	}
}

static void
test_multiplicative(void)
{
	static double y[N];
	struct ets_model md;
	struct ets_fit f;
	double mean[6], var[6];
	int chosen = 0, good = 1;

	simulate_mnn(y, N, 0.3, 0.05, 11);
	ets_parse("MNN", 0, &md);
	ok(ets_fit(y, N, &md, &f) == 0, "MNN fits");
	ok(fabs(f.alpha - 0.3) < 0.08, "MNN: alpha %.3f (0.3)", f.alpha);
	ok(fabs(sqrt(f.sigma2) - 0.05) < 0.005, "MNN: sigma %.4f (0.05)",
	    sqrt(f.sigma2));
	for (unsigned seed = 1; seed <= 10; seed++) {
		simulate_mnn(y, N, 0.3, 0.05, seed);
		chosen += ets_auto(y, N, 1, &f) == 0 && f.model.error == 'M';
	}
	ok(chosen >= 7, "AICc chooses multiplicative errors for MNN data: "
	    "%d of 10", chosen);
	y[5] = -1;
	ok(ets_fit(y, N, &md, &f) < 0, "MNN refuses a value below 0");
	/* HKOS table 6.2: MNN's v_h = l^2 ((1 + s2)(1 + a^2 s2)^(h-1) - 1) */
	f = (struct ets_fit){ .model = { 'M', 'N', 0, 'N', 0 }, .alpha = 0.4,
		.phi = 1, .sigma2 = 0.01, .xn = { 50 } };
	ets_forecast(&f, 6, mean, var);
	for (int h = 1; h <= 6; h++)
		good &= mean[h - 1] == 50 && fabs(var[h - 1] - 2500 * (1.01 *
		    pow(1 + 0.16 * 0.01, h - 1) - 1)) < 1e-9;
	ok(good, "MNN: var = l^2 ((1 + s2)(1 + a^2 s2)^(h-1) - 1)");
}

/* y from MAM: y_t = (l + b) s (1 + e_t), the level, trend and factor
 * moving as HKOS's class 3; factors 1 +- 0.3 over a season of m. */
static void
simulate_mam(double *y, size_t n, double alpha, double beta, double gamma,
    int m, double sd, unsigned seed)
{
	double l = 100, b = 0.5, s[64];

	for (int k = 0; k < m; k++)
		s[k] = 1 + 0.3 * sin(2 * M_PI * k / m);
	for (size_t t = 0; t < n; t++) {
		double e = sd * normal(&seed), q = l + b;
		size_t k = t % (size_t)m;
		y[t] = q * s[k] * (1 + e);
		l = q * (1 + alpha * e);
		b += beta * q * e;
		s[k] *= 1 + gamma * e;
	}
}

static void
test_season_multiplied(void)
{
	static double y[N];
	struct ets_model md;
	struct ets_fit f;
	double mean[6], var[6], alpha = 0, sigma = 0;
	int chosen = 0, good = 1, fitted = 0;
	char name[8];

	/* 20 seasons do not show gamma (statsmodels finds 0 too: seed 5,
	 * alpha 0.2098, gamma 0.0001; ours 0.2107, 0.0001); alpha and sigma
	 * they do, over ten seeds */
	ets_parse("MAM", 12, &md);
	for (unsigned seed = 1; seed <= 10; seed++) {
		simulate_mam(y, 240, 0.3, 0.01, 0.1, 12, 0.03, seed);
		if (ets_fit(y, 240, &md, &f) == 0) {
			fitted++;
			alpha += f.alpha / 10;
			sigma += sqrt(f.sigma2) / 10;
		}
		chosen += ets_auto(y, 240, 12, &f) == 0 &&
		    f.model.season == 'M';
		if (seed == 1)
			printf("# chosen for seed 1: %s\n",
			    ets_name(&f.model, name));
	}
	ok(fitted == 10, "MAM fits: %d of 10", fitted);
	ok(fabs(alpha - 0.3) < 0.05, "MAM: alpha %.3f (0.3)", alpha);
	ok(fabs(sigma - 0.03) < 0.003, "MAM: sigma %.4f (0.03)", sigma);
	ok(chosen >= 7, "AICc chooses a multiplicative season for MAM "
	    "data: %d of 10", chosen);
	/* MNM with gamma 0: the level moves as MNN's, the factor stays, so
	 * v_h = s^2 l^2 ((1 + s2)(1 + a^2 s2)^(h-1) - 1); the simulated
	 * variance within 10% of it */
	f = (struct ets_fit){ .model = { 'M', 'N', 0, 'M', 4 }, .alpha = 0.4,
		.phi = 1, .sigma2 = 0.01, .xn = { 50, 1.2, 0.8, 1.1, 0.9 } };
	ets_forecast(&f, 6, mean, var);
	for (int h = 1; h <= 6; h++) {
		double sf = f.xn[1 + (4 - h % 4) % 4];
		double want = sf * sf * 2500 * (1.01 * pow(1 + 0.16 * 0.01,
		    h - 1) - 1);
		good &= fabs(mean[h - 1] - 50 * sf) < 1e-9 &&
		    fabs(var[h - 1] / want - 1) < 0.1;
	}
	ok(good, "MNM: mean l s, simulated var within 10%% of "
	    "s^2 l^2 ((1 + s2)(1 + a^2 s2)^(h-1) - 1)");
	ok(ets_parse("MAdM", 12, &md) == 0 && md.season == 'M' &&
	    ets_parse("ANM", 12, &md) < 0 && ets_parse("AAM", 12, &md) < 0,
	    "MAdM parsed; a multiplicative season with additive errors not");
}

/* y from MMN: y_t = l b (1 + e_t), l = l b (1 + alpha e), b = b (1 + beta
 * e); the last growth b returned. */
static double
simulate_mmn(double *y, size_t n, double alpha, double beta, double sd,
    unsigned seed)
{
	double l = 100, b = 1.01;

	for (size_t t = 0; t < n; t++) {
		double e = sd * normal(&seed);
		y[t] = l * b * (1 + e);
		l = l * b * (1 + alpha * e);
		b = b * (1 + beta * e);
	}
	return b;
}

static void
test_trend_multiplied(void)
{
	static double y[N];
	struct ets_model md;
	struct ets_fit f;
	double off = 0, alpha = 0, mean[3], var[3];
	int fitted = 0;

	ok(ets_parse("MMN", 0, &md) == 0 && md.trend == 'M' &&
	    ets_parse("MMdM", 12, &md) == 0 && md.damped && md.season == 'M' &&
	    ets_parse("AMN", 0, &md) < 0 && ets_parse("MMA", 12, &md) < 0,
	    "MMN, MMdM parsed; AMN, MMA not (R's restricted models)");
	ets_parse("MMN", 0, &md);
	for (unsigned seed = 1; seed <= 10; seed++) {
		double b = simulate_mmn(y, 300, 0.2, 0.01, 0.02, seed);
		if (ets_fit(y, 300, &md, &f) == 0) {
			fitted++;
			off += fabs(f.xn[1] - b) / 10;
			alpha += f.alpha / 10;
		}
	}
	ok(fitted == 10, "MMN fits: %d of 10", fitted);
	ok(off < 0.003, "MMN: the last growth within %.4f of the truth's "
	    "(mean)", off);
	/* below 0.2 in short series: 0.173 at 300 points, 0.185 at 600,
	 * 0.198 at 2,400 (statsmodels on seed 1: 0.1525, ours 0.1434 at a
	 * lower AICc) */
	ok(fabs(alpha - 0.2) < 0.05, "MMN: alpha %.3f (0.2)", alpha);
	/* its point forecast grows by b a step */
	f = (struct ets_fit){ .model = { 'M', 'M', 0, 'N', 0 }, .alpha = 0.2,
		.beta = 0.01, .phi = 1, .sigma2 = 0.0004, .xn = { 100, 1.02 } };
	ets_forecast(&f, 3, mean, var);
	ok(fabs(mean[0] - 102) < 1e-9 && fabs(mean[2] - 100 * pow(1.02, 3)) <
	    1e-9 && var[0] > 0 && var[2] > var[0], "MMN: mean l b^h, the "
	    "variance grows");
}

int
main(void)
{
	test_parameters();
	test_variance();
	test_names();
	test_multiplicative();
	test_season_multiplied();
	test_trend_multiplied();
	return tap_done();
}
