/*
 * vision: the OpenCV calls the toolchain needs, behind a plain C header
 * (OpenCV 4 has no C API; vision.cpp is the project's only C++).
 *
 * A tracker holds one region's reference image (a crop of a gray frame)
 * and its image pyramid, built once per reference and reused for every
 * frame tracked against it. Coordinates in and out are frame pixels.
 * Points are float pairs: xy[2*i] = x, xy[2*i+1] = y.
 */
#ifndef VISION_H
#define VISION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vis_params {
	int win;            /* Lucas-Kanade window side, px (odd) */
	int levels;         /* pyramid levels above the base */
	int max_iter;       /* iterations per level */
	double eps;         /* stop when a step is below this, px */
};

/* A gray image: w x h bytes, rows stride apart. Borrowed. */
struct vis_image {
	const uint8_t *data;
	int w, h, stride;
};

struct vis_rect {
	int x, y, w, h;
};

struct vis_tracker;

/* Threads OpenCV may use (0: one, as for 1; negative: its default). */
void vis_set_threads(int n);

struct vis_tracker *vis_tracker_new(const struct vis_params *p);
void vis_tracker_free(struct vis_tracker *t);

/* Take rect of img (clipped to the image) as the reference. */
void vis_set_reference(struct vis_tracker *t, const struct vis_image *img,
    struct vis_rect rect);

/*
 * Up to max corners (Shi-Tomasi, refined to sub-pixel) inside pick, a
 * rectangle of the reference, each at least min_dist from the others and
 * from the n_avoid points in avoid. Returns how many were written to out.
 */
int vis_pick(struct vis_tracker *t, struct vis_rect pick, int max,
    double quality, double min_dist, const float *avoid, int n_avoid,
    float *out);

/*
 * Track n points from their positions ref in the reference image to img
 * (the same rect is cropped from it), at full resolution first and through
 * the pyramid for the points it does not find there. cur holds the initial guesses and
 * receives the positions found; ok[i] is 1 where tracking succeeded, err[i]
 * is the mean absolute grey difference of the window, fb[i] the distance
 * between ref[i] and the point tracked back from cur[i] (forward-backward
 * error), computed only when fb is not NULL.
 */
void vis_track(struct vis_tracker *t, const struct vis_image *img, int n,
    const float *ref, float *cur, uint8_t *ok, float *err, float *fb);

/* Only the forward-backward error of vis_track(): the n points found at
 * cur in img (by other means), tracked back to the reference. */
void vis_track_back(struct vis_tracker *t, const struct vis_image *img, int n,
    const float *ref, const float *cur, float *fb);

/* Draw on a gray image (in place): a circle at (x, y) and a line from it
 * to (x2, y2), in grey level v. */
void vis_draw_marker(uint8_t *data, int w, int h, int stride, float x,
    float y, float x2, float y2, uint8_t v);

/* A detection: a box in image pixels and the detector's score (HOG: the
 * SVM's margin; a cascade: how many neighbouring windows agreed). */
struct vis_box {
	float x, y, w, h, score;
};

struct vis_detector;

/* OpenCV's HOG people detector (its default people SVM, 64x128 window). */
struct vis_detector *vis_people_new(void);
/* A Haar or LBP cascade from its XML file; NULL if it cannot be loaded. */
struct vis_detector *vis_cascade_new(const char *path);
/* A DNN detector from an ONNX file whose output is SSD detections, N
 * rows of (image, label, score, x1, y1, x2, y2) with corners in 0..1, as
 * OpenCV's own face detector gives them: fed the frame resized to w x h,
 * BGR less the mean (104, 177, 123); detections below min_score are
 * dropped. NULL with the reason in err. */
struct vis_detector *vis_dnn_new(const char *path, int w, int h,
    double min_score, char *err, size_t errsz);
void vis_detector_free(struct vis_detector *d);
/* Up to max detections in a gray image, looked for in a copy scaled by
 * scale (1: as it is; 0.5: half size, four times faster, only larger
 * objects), boxes in img's pixels. Returns the number written, or -1
 * with OpenCV's reason in err. */
int vis_detect(struct vis_detector *d, const struct vis_image *img,
    double scale, struct vis_box *out, int max, char *err, size_t errsz);

struct vis_motion;

/*
 * What moves against a fixed camera's background: OpenCV's MOG2, a
 * mixture of Gaussians a pixel, learning the background over history
 * frames. vis_motion_boxes() learns img and returns up to max boxes
 * around the regions that differ from the background (shadows left out,
 * parts of one body joined, regions under min_area pixels dropped),
 * largest first; or -1 with OpenCV's reason in err.
 */
struct vis_motion *vis_motion_new(int history);
void vis_motion_free(struct vis_motion *m);
int vis_motion_boxes(struct vis_motion *m, const struct vis_image *img,
    int min_area, struct vis_box *out, int max, char *err, size_t errsz);
/* The share (0..1) of r's pixels in the last foreground mask. */
double vis_motion_share(const struct vis_motion *m, struct vis_rect r);

/* vis_detect() inside each of the n rectangles of img only (clipped to
 * it, each scaled by scale), the boxes of rectangles that overlap merged
 * (non-maximum suppression at an overlap of 0.5). */
int vis_detect_in(struct vis_detector *d, const struct vis_image *img,
    double scale, const struct vis_rect *r, int n, struct vis_box *out,
    int max, char *err, size_t errsz);

/* What a classifier says of one face or person; age < 0, gender < 0 or
 * emotion < 0 when it says nothing of that. */
struct vis_attributes {
	double age;             /* years */
	int gender;             /* 0 female, 1 male */
	int emotion;            /* the index of the likeliest emotion */
};

struct vis_classifier;

/* An attribute classifier from an ONNX file: fed a box's crop resized to
 * w x h, BGR scaled to 0..1, it answers any of the outputs "age" (one
 * number, years), "gender" (two scores: female, male) and "emotion" (a
 * score per emotion). NULL with the reason in err (also when it has none
 * of the three outputs). */
struct vis_classifier *vis_classifier_new(const char *path, int w, int h,
    char *err, size_t errsz);
void vis_classifier_free(struct vis_classifier *c);
/* Classify the crop r of img (clipped to it); 0, or -1 with the reason. */
int vis_classify(struct vis_classifier *c, const struct vis_image *img,
    struct vis_rect r, struct vis_attributes *out, char *err, size_t errsz);
/* How many emotions the classifier scores (0 if none). */
int vis_classifier_emotions(const struct vis_classifier *c);

/* Draw a rectangle and (if label is not NULL) a label above it on a gray
 * image, in grey level v. */
void vis_draw_box(uint8_t *data, int w, int h, int stride, struct vis_rect r,
    const char *label, uint8_t v);

#ifdef __cplusplus
}
#endif

#endif
