// The only C++ in the project: OpenCV behind lib/vision.h.
#include "vision.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/video/background_segm.hpp>
#include <opencv2/video/tracking.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

struct vis_tracker {
	vis_params p;
	cv::Rect rect;                  // the crop, in frame pixels
	cv::Mat ref;                    // its own copy of the reference crop
	std::vector<cv::Mat> ref_pyr;   // with derivatives, for forward LK
	std::vector<cv::Mat> cur_pyr;   // full resolution (and derivatives)
	std::vector<cv::Mat> cur_full;  // the whole pyramid, when needed
};

// OpenCV's reason, on one line (its messages end in a line break).
static void
set_err(char *err, size_t errsz, const cv::Exception &e)
{
	size_t n;

	snprintf(err, errsz, "%s", e.what());
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (err[i] == '\n')
			err[i] = ' ';
}

// Every entry point of the shim catches OpenCV's exceptions: one that
// reached C would abort the program. A failure is said on stderr, in the
// program's name, and the call does what it would on an empty picture.
static void
say_cv(const char *what, const cv::Exception &e)
{
	char err[512];

	set_err(err, sizeof err, e);
	fprintf(stderr, "%s: OpenCV, %s: %s\n", program_invocation_short_name,
	    what, err);
}

static cv::Mat
wrap(const vis_image *img)
{
	return cv::Mat(img->h, img->w, CV_8UC1, const_cast<uint8_t *>(img->data),
	    (size_t)img->stride);
}

static cv::Size
win_size(const vis_tracker *t)
{
	return cv::Size(t->p.win, t->p.win);
}

static cv::TermCriteria
criteria(const vis_tracker *t)
{
	return cv::TermCriteria(cv::TermCriteria::COUNT | cv::TermCriteria::EPS,
	    t->p.max_iter, t->p.eps);
}

extern "C" void
vis_set_threads(int n)
{
	try {
		cv::setNumThreads(n);
	} catch (const cv::Exception &e) {
		say_cv("threads", e);
	}
}

extern "C" vis_tracker *
vis_tracker_new(const vis_params *p)
{
	vis_tracker *t = new (std::nothrow) vis_tracker;

	if (t != nullptr)
		t->p = *p;
	return t;
}

extern "C" void
vis_tracker_free(vis_tracker *t)
{
	delete t;
}

extern "C" void
vis_set_reference(vis_tracker *t, const vis_image *img, vis_rect r)
{
	try {
		t->rect = cv::Rect(r.x, r.y, r.w, r.h) & cv::Rect(0, 0, img->w, img->h);
		t->ref = wrap(img)(t->rect).clone();
		cv::buildOpticalFlowPyramid(t->ref, t->ref_pyr, win_size(t),
		    t->p.levels, true);
	} catch (const cv::Exception &e) {
		say_cv("the reference", e);
		t->rect = cv::Rect();
		t->ref.release();
		t->ref_pyr.clear();
	}
}

static std::vector<cv::Point2f>
to_points(const float *xy, int n, cv::Point2f shift)
{
	std::vector<cv::Point2f> v((size_t)n);

	for (int i = 0; i < n; i++)
		v[(size_t)i] = cv::Point2f(xy[2 * i], xy[2 * i + 1]) - shift;
	return v;
}

extern "C" int
vis_pick(vis_tracker *t, vis_rect pick, int max, double quality,
    double min_dist, const float *avoid, int n_avoid, float *out)
{
	try {
		cv::Rect area = cv::Rect(pick.x, pick.y, pick.w, pick.h) & t->rect;
		cv::Point2f origin((float)t->rect.x, (float)t->rect.y);
		std::vector<cv::Point2f> found;
		int n = 0;

		if (area.empty() || max <= 0)
			return 0;
		cv::Mat mask = cv::Mat::zeros(t->ref.size(), CV_8UC1);
		mask(area - t->rect.tl()) = 255;
		// Existing points keep their neighbourhood: no new corner next to one.
		for (const cv::Point2f &q : to_points(avoid, n_avoid, origin))
			cv::circle(mask, q, (int)std::ceil(min_dist), 0, -1);
		cv::goodFeaturesToTrack(t->ref, found, max, quality, min_dist, mask, 3);
		if (found.empty())
			return 0;
		cv::cornerSubPix(t->ref, found, cv::Size(5, 5), cv::Size(-1, -1),
		    cv::TermCriteria(cv::TermCriteria::COUNT | cv::TermCriteria::EPS,
		    40, 0.001));
		for (const cv::Point2f &q : found) {
			out[2 * n] = q.x + origin.x;
			out[2 * n + 1] = q.y + origin.y;
			n++;
		}
		return n;
	} catch (const cv::Exception &e) {
		say_cv("picking points", e);
		return 0;
	}
}

// Track again, through every pyramid level and from the first guesses,
// the points that full resolution alone did not find.
static void
retry_with_pyramid(vis_tracker *t, const std::vector<cv::Point2f> &p0,
    std::vector<cv::Point2f> &p1, std::vector<uchar> &st,
    std::vector<float> &e, const float *guess, cv::Point2f origin)
{
	std::vector<cv::Point2f> q0, q1;
	std::vector<uchar> qst;
	std::vector<float> qe;
	std::vector<size_t> which;

	for (size_t i = 0; i < p0.size(); i++)
		if (!st[i]) {
			which.push_back(i);
			q0.push_back(p0[i]);
			q1.push_back(cv::Point2f(guess[2 * i], guess[2 * i + 1]) -
			    origin);
		}
	if (which.empty())
		return;
	cv::buildOpticalFlowPyramid(t->cur_pyr[0], t->cur_full, win_size(t),
	    t->p.levels, false);
	cv::calcOpticalFlowPyrLK(t->ref_pyr, t->cur_full, q0, q1, qst, qe,
	    win_size(t), t->p.levels, criteria(t),
	    cv::OPTFLOW_USE_INITIAL_FLOW);
	for (size_t k = 0; k < which.size(); k++) {
		p1[which[k]] = q1[k];
		st[which[k]] = qst[k];
		e[which[k]] = qe[k];
	}
}

// Back from where the points landed (p1) to the reference: a point that
// does not return to where it started (p0) was not really found. Starting
// from where it should return, full resolution is enough: a good point
// needs a step or two, a bad one fails or lands far away.
static void
track_back(vis_tracker *t, const std::vector<cv::Point2f> &p0,
    const std::vector<cv::Point2f> &p1, float *fb)
{
	std::vector<cv::Point2f> back = p0;
	std::vector<uchar> st;
	std::vector<float> e;

	cv::calcOpticalFlowPyrLK(t->cur_pyr, t->ref_pyr, p1, back, st, e,
	    win_size(t), 0, criteria(t), cv::OPTFLOW_USE_INITIAL_FLOW);
	for (size_t i = 0; i < p0.size(); i++)
		fb[i] = st[i] ? (float)cv::norm(back[i] - p0[i]) : INFINITY;
}

extern "C" void
vis_track(vis_tracker *t, const vis_image *img, int n, const float *ref,
    float *cur, uint8_t *ok, float *err, float *fb)
{
	try {
		cv::Point2f origin((float)t->rect.x, (float)t->rect.y);
		std::vector<cv::Point2f> p0 = to_points(ref, n, origin);
		std::vector<cv::Point2f> p1 = to_points(cur, n, origin);
		std::vector<uchar> st;
		std::vector<float> e;

		if (n == 0)
			return;
		cv::Mat crop = wrap(img)(t->rect);
		// Full resolution only: the pyramid is built for the rare
		// frame where a point needs it (retry_with_pyramid).
		cv::buildOpticalFlowPyramid(crop, t->cur_pyr, win_size(t), 0,
		    fb != nullptr);
		// The guesses are where the points were a frame ago, a
		// fraction of a pixel off for a vibration: full resolution finds
		// them, at a third of the pyramid's cost. The pyramid is for
		// the points it loses.
		cv::calcOpticalFlowPyrLK(t->ref_pyr, t->cur_pyr, p0, p1, st, e,
		    win_size(t), 0, criteria(t), cv::OPTFLOW_USE_INITIAL_FLOW);
		if (t->p.levels > 0)
			retry_with_pyramid(t, p0, p1, st, e, cur, origin);
		if (fb != nullptr)
			track_back(t, p0, p1, fb);
		for (int i = 0; i < n; i++) {
			cur[2 * i] = p1[(size_t)i].x + origin.x;
			cur[2 * i + 1] = p1[(size_t)i].y + origin.y;
			ok[i] = st[(size_t)i];
			err[i] = e[(size_t)i];
		}
	} catch (const cv::Exception &e) {
		say_cv("tracking", e);
		for (int i = 0; i < n; i++) {
			ok[i] = 0;
			if (fb != nullptr)
				fb[i] = INFINITY;
		}
	}
}

extern "C" void
vis_track_back(vis_tracker *t, const vis_image *img, int n, const float *ref,
    const float *cur, float *fb)
{
	try {
		cv::Point2f origin((float)t->rect.x, (float)t->rect.y);

		if (n == 0)
			return;
		cv::Mat crop = wrap(img)(t->rect);
		cv::buildOpticalFlowPyramid(crop, t->cur_pyr, win_size(t), 0, true);
		track_back(t, to_points(ref, n, origin), to_points(cur, n, origin), fb);
	} catch (const cv::Exception &e) {
		say_cv("tracking back", e);
		for (int i = 0; i < n; i++)
			fb[i] = INFINITY;
	}
}

extern "C" void
vis_draw_marker(uint8_t *data, int w, int h, int stride, float x, float y,
    float x2, float y2, uint8_t v)
{
	try {
		cv::Mat m(h, w, CV_8UC1, data, (size_t)stride);

		// Shift 4: sub-pixel coordinates in sixteenths, for smooth vectors.
		cv::Point a((int)std::lround(x * 16), (int)std::lround(y * 16));
		cv::Point b((int)std::lround(x2 * 16), (int)std::lround(y2 * 16));
		cv::circle(m, a, 3 * 16, cv::Scalar(v), 1, cv::LINE_AA, 4);
		cv::line(m, a, b, cv::Scalar(v), 1, cv::LINE_AA, 4);
	} catch (const cv::Exception &e) {
		say_cv("drawing", e);
	}
}

struct vis_detector {
	enum { HOG, CASCADE, DNN } kind;
	cv::HOGDescriptor people;
	cv::CascadeClassifier cascade;
	cv::dnn::Net net;
	cv::Size net_size;
	double min_score;
	cv::Mat scaled, padded, bgr;
};

extern "C" struct vis_detector *
vis_people_new(void)
{
	vis_detector *d = new (std::nothrow) vis_detector();

	if (d == nullptr)
		return nullptr;
	d->kind = vis_detector::HOG;
	try {
		d->people.setSVMDetector(
		    cv::HOGDescriptor::getDefaultPeopleDetector());
	} catch (const cv::Exception &e) {
		say_cv("the people detector", e);
		delete d;
		return nullptr;
	}
	return d;
}

extern "C" struct vis_detector *
vis_cascade_new(const char *path)
{
	vis_detector *d = new (std::nothrow) vis_detector();

	if (d == nullptr)
		return nullptr;
	d->kind = vis_detector::CASCADE;
	try {
		if (!d->cascade.load(path)) {
			delete d;
			return nullptr;
		}
	} catch (const cv::Exception &) {
		delete d;
		return nullptr;
	}
	return d;
}

extern "C" struct vis_detector *
vis_dnn_new(const char *path, int w, int h, double min_score, char *err,
    size_t errsz)
{
	vis_detector *d = new (std::nothrow) vis_detector();

	if (d == nullptr) {
		snprintf(err, errsz, "out of memory");
		return nullptr;
	}
	d->kind = vis_detector::DNN;
	d->net_size = cv::Size(w, h);
	d->min_score = min_score;
	try {
		d->net = cv::dnn::readNetFromONNX(path);
	} catch (const cv::Exception &e) {
		set_err(err, errsz, e);
		delete d;
		return nullptr;
	}
	if (d->net.empty()) {
		snprintf(err, errsz, "not a network OpenCV can run");
		delete d;
		return nullptr;
	}
	return d;
}

// SSD rows (image, label, score, x1, y1, x2, y2), corners in 0..1 of the
// image, clipped to it.
static void
detect_dnn(vis_detector *d, const cv::Mat &m, std::vector<cv::Rect> &found,
    std::vector<double> &score)
{
	cv::cvtColor(m, d->bgr, cv::COLOR_GRAY2BGR);
	d->net.setInput(cv::dnn::blobFromImage(d->bgr, 1.0, d->net_size,
	    cv::Scalar(104, 177, 123)));
	cv::Mat out = d->net.forward();
	if (out.total() % 7 != 0)
		CV_Error(cv::Error::StsBadSize, "the network's output is not "
		    "SSD detections (rows of 7 numbers)");
	cv::Mat rows(int(out.total() / 7), 7, CV_32F, out.ptr<float>());
	cv::Rect image(0, 0, m.cols, m.rows);
	for (int i = 0; i < rows.rows; i++) {
		const float *r = rows.ptr<float>(i);
		if (r[2] < d->min_score)
			continue;
		cv::Rect box(cv::Point((int)std::lround(r[3] * m.cols),
		    (int)std::lround(r[4] * m.rows)),
		    cv::Point((int)std::lround(r[5] * m.cols),
		    (int)std::lround(r[6] * m.rows)));
		box &= image;
		if (box.area() == 0)
			continue;
		found.push_back(box);
		score.push_back(r[2]);
	}
}

extern "C" void
vis_detector_free(struct vis_detector *d)
{
	delete d;
}

struct vis_motion {
	cv::Ptr<cv::BackgroundSubtractorMOG2> mog;
	cv::Mat mask, fg, labels, stats, centroids;
};

extern "C" struct vis_motion *
vis_motion_new(int history)
{
	vis_motion *m = new (std::nothrow) vis_motion();

	if (m == nullptr)
		return nullptr;
	try {
		m->mog = cv::createBackgroundSubtractorMOG2(history, 16, true);
	} catch (const cv::Exception &e) {
		say_cv("the background model", e);
		delete m;
		return nullptr;
	}
	return m;
}

extern "C" void
vis_motion_free(struct vis_motion *m)
{
	delete m;
}

// The mask: 255 foreground, 127 shadow (left out), 0 background; opened
// to drop speckle, then closed with a tall kernel so that a body cut in
// two by a leg's gap or a dark coat stays one region.
static void
foreground(vis_motion *m, const cv::Mat &img)
{
	static const cv::Mat open3 = cv::getStructuringElement(cv::MORPH_ELLIPSE,
	    cv::Size(3, 3));
	static const cv::Mat close = cv::getStructuringElement(cv::MORPH_RECT,
	    cv::Size(5, 11));

	m->mog->apply(img, m->mask);
	cv::threshold(m->mask, m->fg, 200, 255, cv::THRESH_BINARY);
	cv::morphologyEx(m->fg, m->fg, cv::MORPH_OPEN, open3);
	cv::morphologyEx(m->fg, m->fg, cv::MORPH_CLOSE, close);
}

extern "C" int
vis_motion_boxes(struct vis_motion *m, const struct vis_image *img,
    int min_area, struct vis_box *out, int max, char *err, size_t errsz)
{
	std::vector<std::pair<int, int>> bylabel;      // (area, label)
	int n = 0;

	try {
		foreground(m, wrap(img));
		int k = cv::connectedComponentsWithStats(m->fg, m->labels,
		    m->stats, m->centroids, 8, CV_32S);
		for (int i = 1; i < k; i++) {
			int area = m->stats.at<int>(i, cv::CC_STAT_AREA);
			if (area >= min_area)
				bylabel.push_back({ area, i });
		}
	} catch (const cv::Exception &e) {
		set_err(err, errsz, e);
		return -1;
	}
	std::sort(bylabel.begin(), bylabel.end(), std::greater<>());
	for (size_t i = 0; i < bylabel.size() && n < max; i++, n++) {
		int l = bylabel[i].second;
		out[n].x = (float)m->stats.at<int>(l, cv::CC_STAT_LEFT);
		out[n].y = (float)m->stats.at<int>(l, cv::CC_STAT_TOP);
		out[n].w = (float)m->stats.at<int>(l, cv::CC_STAT_WIDTH);
		out[n].h = (float)m->stats.at<int>(l, cv::CC_STAT_HEIGHT);
		out[n].score = (float)bylabel[i].first /
		    (out[n].w * out[n].h);  // how full the box is
	}
	return n;
}

extern "C" double
vis_motion_share(const struct vis_motion *m, struct vis_rect r)
{
	try {
		cv::Rect box = cv::Rect(r.x, r.y, r.w, r.h) &
		    cv::Rect(0, 0, m->fg.cols, m->fg.rows);
		if (box.area() == 0)
			return 0;
		return (double)cv::countNonZero(m->fg(box)) / box.area();
	} catch (const cv::Exception &e) {
		say_cv("the foreground", e);
		return 0;
	}
}

// HOG as OpenCV's peopledetect sample runs it (stride 8x8, scale step
// 1.05) but without its 32-pixel padding, which costs a third more time
// for the people cut by the frame's edge.
static void
detect_people(vis_detector *d, const cv::Mat &m, std::vector<cv::Rect> &found,
    std::vector<double> &score)
{
	d->people.detectMultiScale(m, found, score, 0, cv::Size(8, 8),
	    cv::Size(0, 0), 1.05, 2);
}

static void
detect_cascade(vis_detector *d, const cv::Mat &m, std::vector<cv::Rect> &found,
    std::vector<double> &score)
{
	std::vector<int> neighbours;

	d->cascade.detectMultiScale(m, found, neighbours, 1.1, 3, 0,
	    cv::Size(24, 24));
	score.assign(neighbours.begin(), neighbours.end());
}

// The detectors run on threads and give their boxes in the order the
// threads finish; what comes after (non-maximum suppression among equal
// scores, the tracker's numbering) would differ from run to run. Sorted
// by place, the same frame gives the same boxes in the same order.
static void
sort_by_place(std::vector<cv::Rect> &found, std::vector<double> &score)
{
	std::vector<std::tuple<int, int, int, int, double>> box;

	for (size_t i = 0; i < found.size(); i++)
		box.emplace_back(found[i].x, found[i].y, found[i].width,
		    found[i].height, i < score.size() ? score[i] : 0.0);
	std::sort(box.begin(), box.end());
	score.resize(box.size());
	for (size_t i = 0; i < box.size(); i++) {
		found[i] = cv::Rect(std::get<0>(box[i]), std::get<1>(box[i]),
		    std::get<2>(box[i]), std::get<3>(box[i]));
		score[i] = std::get<4>(box[i]);
	}
}

// One detector pass over m, boxes in m's pixels, sorted by place.
static void
detect_any(vis_detector *d, const cv::Mat &m, std::vector<cv::Rect> &found,
    std::vector<double> &score)
{
	if (d->kind == vis_detector::HOG)
		detect_people(d, m, found, score);
	else if (d->kind == vis_detector::CASCADE)
		detect_cascade(d, m, found, score);
	else
		detect_dnn(d, m, found, score);
	sort_by_place(found, score);
}

extern "C" int
vis_detect(struct vis_detector *d, const struct vis_image *img, double scale,
    struct vis_box *out, int max, char *err, size_t errsz)
{
	std::vector<cv::Rect> found;
	std::vector<double> score;
	cv::Mat m = wrap(img);
	int n = 0;

	try {
		if (scale != 1) {
			cv::resize(m, d->scaled, cv::Size(), scale, scale,
			    cv::INTER_AREA);
			m = d->scaled;
		}
		detect_any(d, m, found, score);
	} catch (const cv::Exception &e) {
		set_err(err, errsz, e);
		return -1;
	}
	for (size_t i = 0; i < found.size() && n < max; i++, n++) {
		out[n].x = (float)(found[i].x / scale);
		out[n].y = (float)(found[i].y / scale);
		out[n].w = (float)(found[i].width / scale);
		out[n].h = (float)(found[i].height / scale);
		out[n].score = i < score.size() ? (float)score[i] : 0;
	}
	return n;
}

// The smallest image the detector can look at, in pixels before scaling.
static cv::Size
min_size(const vis_detector *d, double scale)
{
	cv::Size win = d->kind == vis_detector::HOG ? d->people.winSize :
	    cv::Size(24, 24);

	return cv::Size((int)std::ceil(win.width / scale),
	    (int)std::ceil(win.height / scale));
}

// r grown about its centre to at least size.
static cv::Rect
at_least(cv::Rect r, cv::Size size)
{
	if (r.width < size.width) {
		r.x -= (size.width - r.width + 1) / 2;
		r.width = size.width;
	}
	if (r.height < size.height) {
		r.y -= (size.height - r.height + 1) / 2;
		r.height = size.height;
	}
	return r;
}

// A region that wanted more than the frame has (a person cut by its edge,
// whose window needs room past it) gets the frame's edge repeated there,
// as detectMultiScale's padding does for the whole frame: HOG missed two
// people walking in at the bottom of vtest.avi.
static void
extend_past_edges(vis_detector *d, const cv::Rect &want, const cv::Rect &roi,
    double scale)
{
	int top = roi.y - want.y, left = roi.x - want.x;
	int bottom = want.y + want.height - (roi.y + roi.height);
	int right = want.x + want.width - (roi.x + roi.width);

	if (top == 0 && left == 0 && bottom == 0 && right == 0)
		return;
	cv::copyMakeBorder(d->scaled, d->padded, (int)std::lround(top * scale),
	    (int)std::lround(bottom * scale), (int)std::lround(left * scale),
	    (int)std::lround(right * scale), cv::BORDER_REPLICATE);
	std::swap(d->scaled, d->padded);
}

extern "C" int
vis_detect_in(struct vis_detector *d, const struct vis_image *img,
    double scale, const struct vis_rect *r, int n, struct vis_box *out,
    int max, char *err, size_t errsz)
{
	std::vector<cv::Rect> all, found;
	std::vector<float> scores;
	std::vector<double> score;
	std::vector<int> keep;
	cv::Mat m = wrap(img);
	cv::Rect image(0, 0, m.cols, m.rows);
	int k = 0;

	try {
		for (int i = 0; i < n; i++) {
			cv::Rect want = at_least(cv::Rect(r[i].x, r[i].y,
			    r[i].w, r[i].h), min_size(d, scale));
			cv::Rect roi = want & image;
			if (roi.width * scale < min_size(d, 1).width ||
			    roi.height * scale < min_size(d, 1).height)
				continue;       // the image itself is smaller
			cv::resize(m(roi), d->scaled, cv::Size(), scale, scale,
			    scale > 1 ? cv::INTER_LINEAR : cv::INTER_AREA);
			extend_past_edges(d, want, roi, scale);
			found.clear();
			score.clear();
			detect_any(d, d->scaled, found, score);
			for (size_t j = 0; j < found.size(); j++) {
				all.push_back(cv::Rect(
				    want.x + (int)std::lround(found[j].x / scale),
				    want.y + (int)std::lround(found[j].y / scale),
				    (int)std::lround(found[j].width / scale),
				    (int)std::lround(found[j].height / scale)));
				scores.push_back(j < score.size() ?
				    (float)score[j] : 0.f);
			}
		}
		// NMSBoxes keeps scores above a threshold of at least 0; ours
		// (HOG's margins) may be 0: ranked as they are, shifted by 1
		std::vector<float> ranked(scores);
		for (float &v : ranked)
			v = (v > 0 ? v : 0) + 1;
		cv::dnn::NMSBoxes(all, ranked, 0.5f, 0.5f, keep);
	} catch (const cv::Exception &e) {
		set_err(err, errsz, e);
		return -1;
	}
	for (size_t i = 0; i < keep.size() && k < max; i++, k++) {
		const cv::Rect &b = all[(size_t)keep[i]];
		out[k] = (vis_box){ (float)b.x, (float)b.y, (float)b.width,
			(float)b.height, scores[(size_t)keep[i]] };
	}
	return k;
}

extern "C" void
vis_draw_box(uint8_t *data, int w, int h, int stride, struct vis_rect r,
    const char *label, uint8_t v)
{
	try {
		cv::Mat m(h, w, CV_8UC1, data, (size_t)stride);

		cv::rectangle(m, cv::Rect(r.x, r.y, r.w, r.h), cv::Scalar(v), 2);
		if (label != nullptr)
			cv::putText(m, label, cv::Point(r.x, r.y > 14 ? r.y - 4 :
			    r.y + 14), cv::FONT_HERSHEY_SIMPLEX, 0.5,
			    cv::Scalar(v), 1, cv::LINE_AA);
	} catch (const cv::Exception &e) {
		say_cv("drawing", e);
	}
}

struct vis_classifier {
	cv::dnn::Net net;
	cv::Size size;
	std::vector<cv::String> outputs;        // of age, gender, emotion
	int emotions;
	cv::Mat bgr;
};

static bool
has_output(const std::vector<cv::String> &names, const char *name)
{
	for (const cv::String &n : names)
		if (n == name)
			return true;
	return false;
}

extern "C" struct vis_classifier *
vis_classifier_new(const char *path, int w, int h, char *err, size_t errsz)
{
	vis_classifier *c = new (std::nothrow) vis_classifier();
	static const char *const known[] = { "age", "gender", "emotion" };

	if (c == nullptr) {
		snprintf(err, errsz, "out of memory");
		return nullptr;
	}
	c->size = cv::Size(w, h);
	try {
		c->net = cv::dnn::readNetFromONNX(path);
		std::vector<cv::String> names = c->net.getUnconnectedOutLayersNames();
		for (const char *k : known)
			if (has_output(names, k))
				c->outputs.push_back(k);
		if (has_output(c->outputs, "emotion")) {
			// one pass on a blank crop, for the number of emotions
			c->net.setInput(cv::dnn::blobFromImage(cv::Mat(h, w,
			    CV_8UC3, cv::Scalar(0, 0, 0)), 1 / 255.0));
			c->emotions = (int)c->net.forward("emotion").total();
		}
	} catch (const cv::Exception &e) {
		set_err(err, errsz, e);
		delete c;
		return nullptr;
	}
	if (c->outputs.empty()) {
		snprintf(err, errsz, "no output named age, gender or emotion");
		delete c;
		return nullptr;
	}
	return c;
}

extern "C" void
vis_classifier_free(struct vis_classifier *c)
{
	delete c;
}

extern "C" int
vis_classifier_emotions(const struct vis_classifier *c)
{
	return c->emotions;
}

static int
argmax(const cv::Mat &m)
{
	cv::Point at;

	cv::minMaxLoc(m.reshape(1, 1), nullptr, nullptr, nullptr, &at);
	return at.x;
}

extern "C" int
vis_classify(struct vis_classifier *c, const struct vis_image *img,
    struct vis_rect r, struct vis_attributes *out, char *err, size_t errsz)
{
	cv::Mat m = wrap(img);
	cv::Rect box = cv::Rect(r.x, r.y, r.w, r.h) & cv::Rect(0, 0, m.cols,
	    m.rows);
	std::vector<cv::Mat> res;

	out->age = -1;
	out->gender = out->emotion = -1;
	if (box.area() == 0)
		return 0;
	try {
		cv::cvtColor(m(box), c->bgr, cv::COLOR_GRAY2BGR);
		c->net.setInput(cv::dnn::blobFromImage(c->bgr, 1 / 255.0,
		    c->size));
		c->net.forward(res, c->outputs);
	} catch (const cv::Exception &e) {
		set_err(err, errsz, e);
		return -1;
	}
	for (size_t i = 0; i < c->outputs.size(); i++) {
		const cv::Mat &v = res[i];
		if (c->outputs[i] == "age" && v.total() >= 1)
			out->age = v.ptr<float>()[0];
		else if (c->outputs[i] == "gender" && v.total() == 2)
			out->gender = argmax(v);
		else if (c->outputs[i] == "emotion" && v.total() >= 1)
			out->emotion = argmax(v);
	}
	return 0;
}
