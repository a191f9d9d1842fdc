#!/usr/bin/python3
"""peer-peopledetect: the peer for people's benchmark.

    bench/peer-peopledetect.py VIDEO > counts.csv

OpenCV's own HOG people detector from Python, every frame at full
resolution, as OpenCV's samples/python/peopledetect.py does it
(winStride 8x8, padding 32x32, scale 1.05, on the colour frame); writes
frame,count and, on stderr, the frames per second.
"""
import sys
import time

import cv2 as cv

hog = cv.HOGDescriptor()
hog.setSVMDetector(cv.HOGDescriptor_getDefaultPeopleDetector())
cap = cv.VideoCapture(sys.argv[1])
print("frame,count")
n = 0
start = time.monotonic()
while True:
    ok, img = cap.read()
    if not ok:
        break
    found, _ = hog.detectMultiScale(img, winStride=(8, 8), padding=(32, 32),
                                    scale=1.05)
    print("%d,%d" % (n, len(found)))
    n += 1
elapsed = time.monotonic() - start
print("peer-peopledetect: %d frames in %.2f s: %.2f frames/s"
      % (n, elapsed, n / elapsed), file=sys.stderr)
