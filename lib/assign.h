/*
 * assign: the pairing of n rows with m columns of least total cost (the
 * Hungarian method with potentials, O(n^2 m)), as a tracker pairs its
 * tracks with a frame's detections: SORT does the same on 1 - IoU.
 * Greedy pairing (best pair first) can take a pair that leaves two others
 * both badly paired; this cannot.
 */
#ifndef ASSIGN_H
#define ASSIGN_H

/*
 * cost is n x m, row-major. out[i] is the column paired with row i, or -1
 * when row i is left alone: each row and column is used at most once,
 * min(n, m) pairs are made among the allowed ones, and a pair whose cost
 * is at or above forbid is never made (a row with no allowed column stays
 * alone rather than take one). Returns the number of pairs.
 */
int assign_min(const double *cost, int n, int m, double forbid, int *out);

#endif
