/*
 * subpix: sub-pixel displacement without the interpolation bias.
 *
 * Gradient trackers that sample the image bilinearly (OpenCV's pyramid
 * Lucas-Kanade) make an error periodic in the sub-pixel position, which
 * for a small oscillation acts as a gain on its amplitude (Schreier,
 * Braasch and Sutton, Opt. Eng. 39(11), 2000). Here an image is modelled
 * by an interpolating B-spline of odd degree (3 or 5; 1 is bilinear, kept
 * to show the bias), and a window is aligned by inverse-compositional
 * Lucas-Kanade (Baker and Matthews, IJCV 56(3), 2004): the template is
 * taken at whole pixels of the reference, so it needs no interpolation,
 * and the iteration stops where the residual is orthogonal to the
 * template's gradient, which a step's inexact gradient does not move.
 *
 * Coordinates are the plane's own pixels: (0, 0) is its first sample.
 */
#ifndef SUBPIX_H
#define SUBPIX_H

#include <stdint.h>

/* B-spline coefficients of a gray image (or a crop of it). */
struct sp_plane {
	float *c;               /* w x h, stride w */

	int w, h;
	int degree;             /* 1, 3 or 5 */
};

/* Allocate a plane for up to w x h samples; exits on no memory. */
void sp_plane_init(struct sp_plane *p, int w, int h, int degree);
void sp_plane_free(struct sp_plane *p);

/* Coefficients of the w x h gray image at data (rows stride apart); w and
 * h at most the plane's size. Mirror boundaries. */
void sp_prefilter(struct sp_plane *p, const uint8_t *data, int w, int h,
    int stride);

/* The spline's value at (x, y); NAN where its support leaves the plane. */
double sp_value(const struct sp_plane *p, double x, double y);

struct sp_refiner;

/* A refiner for windows of side 2 * half + 1. */
struct sp_refiner *sp_refiner_new(int half, int degree);
void sp_refiner_free(struct sp_refiner *r);

/* What aligning on a feature needs from the reference, taken once and
 * used for every frame: the window's samples, their gradient and the
 * Gauss-Newton matrix. */
struct sp_template {
	double tx, ty;          /* the feature in the reference plane */
	double ax, ay;          /* the whole pixel the window is centred on */
	double hxx, hxy, hyy, det;
	float *v, *gx, *gy;     /* side x side each */
};

/* Allocate a template's arrays for r's window; exits on no memory. */
void sp_template_init(struct sp_template *t, const struct sp_refiner *r);
void sp_template_free(struct sp_template *t);

/* The window around (tx, ty) of ref into t. -1 where it leaves the plane
 * or has no texture to align on. */
int sp_template_take(struct sp_refiner *r, const struct sp_plane *ref,
    double tx, double ty, struct sp_template *t);

/*
 * The feature of t is at (*x, *y) in cur to within a pixel or so; refine
 * (*x, *y). Returns 0, or -1 (leaving *x, *y as they were) when the window
 * leaves the plane or the iteration does not settle within max_step px of
 * where it started.
 */
int sp_align(struct sp_refiner *r, const struct sp_template *t,
    const struct sp_plane *cur, double *x, double *y, double max_step);

/* sp_template_take() then sp_align(), for a feature seen once. */
int sp_refine(struct sp_refiner *r, const struct sp_plane *ref, double tx,
    double ty, const struct sp_plane *cur, double *x, double *y,
    double max_step);

#endif
