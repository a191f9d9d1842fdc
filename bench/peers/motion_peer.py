#!/usr/bin/python3
"""The motionpts peer: the seed architecture's edge stack written plainly.

OpenCV and NumPy from Python: cv2.VideoCapture decodes, goodFeaturesToTrack
picks points in the region of the first frame, calcOpticalFlowPyrLK tracks
them against the first frame in every frame, and each point's position and
displacement is written as CSV, as motionpts does.

    motion_peer.py CLIP X,Y,W,H MAXPOINTS > motion.csv
"""
import sys

import cv2
import numpy as np


def main():
    clip, roi, maxpts = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x, y, w, h = (int(v) for v in roi.split(","))
    cap = cv2.VideoCapture(clip)
    ok, frame = cap.read()
    if not ok:
        sys.exit("motion_peer: cannot read " + clip)
    ref = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    mask = np.zeros_like(ref)
    mask[y:y + h, x:x + w] = 255
    p0 = cv2.goodFeaturesToTrack(ref, maxpts, 0.01, 8, mask=mask)
    out = sys.stdout
    out.write("frame,pt,x,y,dx,dy\n")
    index = 0
    while ok:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        p1, st, _ = cv2.calcOpticalFlowPyrLK(ref, gray, p0, None,
                                             winSize=(21, 21), maxLevel=2)
        d = p1 - p0
        for i in np.flatnonzero(st):
            out.write("%d,%d,%.4f,%.4f,%.4f,%.4f\n" % (
                index, i, p1[i, 0, 0], p1[i, 0, 1], d[i, 0, 0], d[i, 0, 1]))
        index += 1
        ok, frame = cap.read()


if __name__ == "__main__":
    main()
