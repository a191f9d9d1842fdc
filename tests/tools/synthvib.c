/*
 * synthvib: a synthetic vibration clip with known motion, for the tests and
 * benchmarks of motionpts and spectrum.
 *
 * A static textured background, and inside one rectangle a textured
 * surface that moves by a sum of sinusoids (seen through a fixed window,
 * so every pixel inside moves alike). The textures are sums of products of
 * cosines, and each pixel is the exact average of the texture over the
 * pixel's area: the limit of rendering supersampled and averaging down,
 * without its cost, so sub-pixel shifts are rendered faithfully. Gaussian
 * sensor noise is added and values rounded to 8 bits.
 *
 *   synthvib [--size WxH] [--fps N] [--frames N] [--region X,Y,W,H]
 *            [--mode AXIS:FREQ_HZ:AMP_PX[:PHASE_RAD]]... [--noise SIGMA]
 *            [--seed N] [--src ID] [--t0 TIME] [--truth FILE] [--sharp K]
 *            [--offset DX,DY]
 *
 * --sharp K passes the texture through a tone curve of steepness K (a scene
 * of sharp high-contrast edges, whose small motions survive lossy video
 * coding), rendered with 4 x 4 samples a pixel. --offset shifts the
 * region by a constant (sub-pixel) amount under its motion, from the
 * first frame on: where on the pixel grid the oscillation happens.
 *
 * Writes a gray Y4M stream to stdout, and with --truth a CSV ts,dx,dy of
 * the region's true displacement in every frame.
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"
#include "y4m.h"

#define NTERMS 40
#define SS 4                    /* samples a pixel side, with --sharp */
#define MAX_MODES 16

struct texture {
	double a[NTERMS], u[NTERMS], v[NTERMS], px[NTERMS], py[NTERMS];
};

struct mode {
	int axis;               /* 0: x, 1: y */
	double freq, amp, phase;
};

static uint64_t rng_state = 88172645463325252ull;

static double
uniform(void)
{
	/* xorshift64*: small, fast and the same everywhere. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ull) >> 11) /
	    9007199254740992.0;
}

/* Box-Muller gives two independent normals a time: keep the second. */
static double
gaussian(void)
{
	static double spare;
	static int have_spare;
	double u1, u2, r;

	if (have_spare) {
		have_spare = 0;
		return spare;
	}
	u1 = uniform(), u2 = uniform();
	if (u1 < 1e-300)
		u1 = 1e-300;
	r = sqrt(-2 * log(u1));
	spare = r * sin(2 * M_PI * u2);
	have_spare = 1;
	return r * cos(2 * M_PI * u2);
}

/* Wavelengths of 6 to 40 px: detail a tracker can lock on to, well below
 * the pixel grid's limit so the exact area average is smooth. */
static void
make_texture(struct texture *t)
{
	for (int k = 0; k < NTERMS; k++) {
		t->a[k] = 45.0 / sqrt(NTERMS / 4.0) * (0.5 + uniform());
		t->u[k] = 2 * M_PI / (6 + 34 * uniform());
		t->v[k] = 2 * M_PI / (6 + 34 * uniform());
		t->px[k] = 2 * M_PI * uniform();
		t->py[k] = 2 * M_PI * uniform();
	}
}

/* Mean of cos(w s + p) over the pixel [i - shift, i + 1 - shift]. */
static double
pixel_mean(double w, double p, int i, double shift)
{
	double s0 = i - shift;

	return (sin(w * (s0 + 1) + p) - sin(w * s0 + p)) / w;
}

/*
 * Render texture t, shifted by (sx, sy), into the w x h rectangle at
 * (x0, y0) of img (stride iw), as doubles in acc.
 */
static void
render(const struct texture *t, double sx, double sy, int x0, int y0, int w,
    int h, double *acc, double *cx, double *cy)
{
	for (int i = 0; i < w * h; i++)
		acc[i] = 128;
	for (int k = 0; k < NTERMS; k++) {
		for (int x = 0; x < w; x++)
			cx[x] = pixel_mean(t->u[k], t->px[k], x0 + x, sx);
		for (int y = 0; y < h; y++)
			cy[y] = t->a[k] * pixel_mean(t->v[k], t->py[k], y0 + y,
			    sy);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				acc[y * w + x] += cy[y] * cx[x];
	}
}

/*
 * The same texture through a steep tone curve, as a scene of sharp,
 * high-contrast edges (bolts, markings, edges of machinery) looks: tone
 * curves have no closed-form pixel average, so each pixel is the mean of
 * ss x ss samples. cx and cy hold NTERMS * w * ss and NTERMS * h * ss.
 */
static void
render_sharp(const struct texture *t, double sx, double sy, int x0, int y0,
    int w, int h, int ss, double sharp, double *acc, double *cx, double *cy)
{
	int sw = w * ss, sh = h * ss;

	for (int k = 0; k < NTERMS; k++) {
		for (int x = 0; x < sw; x++)
			cx[k * sw + x] = cos(t->u[k] * (x0 + (x + 0.5) / ss -
			    sx) + t->px[k]);
		for (int y = 0; y < sh; y++)
			cy[k * sh + y] = t->a[k] * cos(t->v[k] * (y0 + (y +
			    0.5) / ss - sy) + t->py[k]);
	}
	for (int i = 0; i < w * h; i++)
		acc[i] = 0;
	for (int y = 0; y < sh; y++)
		for (int x = 0; x < sw; x++) {
			double v = 0;
			for (int k = 0; k < NTERMS; k++)
				v += cy[k * sh + y] * cx[k * sw + x];
			acc[(y / ss) * w + x / ss] += 128 + 110 *
			    tanh(sharp * v / 45);
		}
	for (int i = 0; i < w * h; i++)
		acc[i] /= ss * ss;
}

static uint8_t
to_byte(double v)
{
	v = round(v);
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

static void
parse_mode(const char *arg, struct mode *m)
{
	char axis;
	int n = 0;

	m->phase = 0;
	if (sscanf(arg, "%c:%lf:%lf%n:%lf%n", &axis, &m->freq, &m->amp, &n,
	    &m->phase, &n) < 3 || arg[n] != '\0' ||
	    (axis != 'x' && axis != 'y') || m->freq <= 0 || m->amp < 0)
		cli_usage_error("--mode: expected AXIS:FREQ:AMP[:PHASE], "
		    "AXIS x or y: '%s'", arg);
	m->axis = axis == 'y';
}

struct setup {
	int w, h, fps, frames;
	int region[4];
	struct mode modes[MAX_MODES];
	int nmodes;
	double noise;
	double sharp;           /* --sharp: tone-curve steepness, 0 smooth */
	double offset[2];       /* --offset, px */
	struct y4m_info info;
	FILE *truth;
};

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: synthvib [--size WxH] [--fps N] [--frames N]"
	    " [--region X,Y,W,H]\n"
	    "                [--mode AXIS:FREQ_HZ:AMP_PX[:PHASE_RAD]]..."
	    " [--noise SIGMA]\n"
	    "                [--seed N] [--src ID] [--t0 TIME] [--truth FILE]"
	    " [--sharp K]\n"
	    "                [--offset DX,DY]\n"
	    "  a gray Y4M clip on stdout: a textured region moving by the"
	    " sum of the\n"
	    "  --mode sinusoids (x or y, Hz, pixels) over a still background;"
	    " --truth\n"
	    "  writes its true displacement per frame as CSV ts,dx,dy\n",
	    stdout);
	exit(0);
}

static void
parse_args(int argc, char **argv, struct setup *s)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "fps", required_argument, NULL, 'f' },
		{ "frames", required_argument, NULL, 'n' },
		{ "region", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "noise", required_argument, NULL, 'N' },
		{ "seed", required_argument, NULL, 'S' },
		{ "src", required_argument, NULL, 'i' },
		{ "t0", required_argument, NULL, 't' },
		{ "truth", required_argument, NULL, 'T' },
		{ "sharp", required_argument, NULL, 'k' },
		{ "offset", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, wh[2];

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage();
		case 's':
			cli_ints("--size", optarg, 'x', 2, wh);
			s->w = wh[0], s->h = wh[1];
			break;
		case 'f': s->fps = (int)cli_long("--fps", optarg, 1, 10000); break;
		case 'n': s->frames = (int)cli_long("--frames", optarg, 0, 1 << 30); break;
		case 'r': cli_ints("--region", optarg, ',', 4, s->region); break;
		case 'm':
			if (s->nmodes == MAX_MODES)
				cli_usage_error("--mode: at most %d", MAX_MODES);
			parse_mode(optarg, &s->modes[s->nmodes++]);
			break;
		case 'k': s->sharp = cli_double("--sharp", optarg, 0, 100); break;
		case 'o': {
			char *comma = strchr(optarg, ',');
			if (comma == NULL)
				cli_usage_error("--offset: expected DX,DY: '%s'",
				    optarg);
			*comma = '\0';
			s->offset[0] = cli_double("--offset", optarg, -100, 100);
			s->offset[1] = cli_double("--offset", comma + 1, -100,
			    100);
			break;
		}
		case 'N': s->noise = cli_double("--noise", optarg, 0, 100); break;
		case 'S': rng_state += (uint64_t)cli_long("--seed", optarg, 0, LONG_MAX) * 0x9E3779B97F4A7C15ull; break;
		case 'i': strncpy(s->info.src, optarg, Y4M_SRC_MAX - 1); break;
		case 't':
			if (ts_parse(optarg, &s->info.t0) < 0)
				cli_usage_error("--t0: not a time: '%s'", optarg);
			break;
		case 'T':
			if ((s->truth = fopen(optarg, "w")) == NULL)
				err(1, "%s", optarg);
			break;
		default: cli_usage_hint();
		}
	}
	if (s->region[0] + s->region[2] > s->w ||
	    s->region[1] + s->region[3] > s->h)
		cli_usage_error("--region: outside the frame");
}

/* The region's displacement at time t, on axis 0 (x) or 1 (y). */
static double
displacement(const struct setup *s, int axis, double t)
{
	double d = s->offset[axis];

	for (int i = 0; i < s->nmodes; i++)
		if (s->modes[i].axis == axis)
			d += s->modes[i].amp * sin(2 * M_PI * s->modes[i].freq *
			    t + s->modes[i].phase);
	return d;
}

int
main(int argc, char **argv)
{
	struct setup s = { .w = 640, .h = 480, .fps = 120, .frames = 1200,
		.region = { 220, 140, 200, 200 }, .noise = 1.0 };
	struct texture bg_tex, fg_tex;
	double *bg, *fg, *cx, *cy;
	uint8_t *frame;
	int *r = s.region;

	cli_init(argv);
	y4m_info_init(&s.info, 0, 0);
	strcpy(s.info.src, "synth");
	parse_args(argc, argv, &s);
	make_texture(&bg_tex);
	make_texture(&fg_tex);
	s.info.width = s.w;
	s.info.height = s.h;
	s.info.fps_num = s.fps;
	s.info.sar_num = s.info.sar_den = 1;
	s.info.chroma = Y4M_MONO;
	s.info.has_t0 = 1;
	bg = xreallocarray(NULL, (size_t)s.w * (size_t)s.h, sizeof *bg);
	fg = xreallocarray(NULL, (size_t)r[2] * (size_t)r[3], sizeof *fg);
	cx = xreallocarray(NULL, NTERMS * SS * (size_t)(s.w > s.h ? s.w : s.h),
	    sizeof *cx);
	cy = xreallocarray(NULL, NTERMS * SS * (size_t)(s.w > s.h ? s.w : s.h),
	    sizeof *cy);
	frame = xmalloc((size_t)s.w * (size_t)s.h);
	if (s.sharp > 0)
		render_sharp(&bg_tex, 0, 0, 0, 0, s.w, s.h, SS, s.sharp, bg, cx,
		    cy);
	else
		render(&bg_tex, 0, 0, 0, 0, s.w, s.h, bg, cx, cy);
	if (y4m_write_header(stdout, &s.info) < 0)
		cli_check_write(stdout, "stdout");
	if (s.truth)
		fputs("ts,dx,dy\n", s.truth);
	for (int i = 0; i < s.frames; i++) {
		ts_us pts = (ts_us)llround(i * 1e6 / s.fps);
		double t = ts_to_sec(pts);
		double dx = displacement(&s, 0, t), dy = displacement(&s, 1, t);
		char ts[TS_BUFSZ];

		if (s.sharp > 0)
			render_sharp(&fg_tex, dx, dy, r[0], r[1], r[2], r[3], SS,
			    s.sharp, fg, cx, cy);
		else
			render(&fg_tex, dx, dy, r[0], r[1], r[2], r[3], fg, cx,
			    cy);
		for (int y = 0; y < s.h; y++)
			for (int x = 0; x < s.w; x++) {
				int in = x >= r[0] && x < r[0] + r[2] &&
				    y >= r[1] && y < r[1] + r[3];
				double v = in ? fg[(y - r[1]) * r[2] + x - r[0]] :
				    bg[y * s.w + x];
				frame[y * s.w + x] = to_byte(v + s.noise *
				    gaussian());
			}
		y4m_write_frame(stdout, &s.info, frame, 1, pts);
		cli_check_write(stdout, "stdout");
		if (s.truth)
			fprintf(s.truth, "%s,%.6f,%.6f\n",
			    ts_format_unix(s.info.t0 + pts, ts), dx, dy);
	}
	if (s.truth && fclose(s.truth) == EOF)
		err(1, "truth");
	free(bg), free(fg), free(cx), free(cy), free(frame);
	return cli_finish(0);
}
