#!/usr/bin/python3
"""hog-params: why people's HOG settings are what they are.

    bench/hog-params.py VIDEO

Runs OpenCV's HOG people detector on every frame of VIDEO with the
peopledetect sample's settings (colour, 32-pixel padding, scale step
1.05) and with gray frames, no padding and a coarser scale step, and
prints each one's mean persons a frame and milliseconds a frame.
"""
import sys
import time

import cv2 as cv

hog = cv.HOGDescriptor()
hog.setSVMDetector(cv.HOGDescriptor_getDefaultPeopleDetector())
frames = []
cap = cv.VideoCapture(sys.argv[1])
while True:
    ok, img = cap.read()
    if not ok:
        break
    frames.append(img)


def gray(img):
    return cv.cvtColor(img, cv.COLOR_BGR2GRAY)


def run(name, convert, padding, scale):
    start = time.monotonic()
    found = 0
    for img in frames:
        boxes, _ = hog.detectMultiScale(convert(img), winStride=(8, 8),
                                        padding=padding, scale=scale)
        found += len(boxes)
    ms = 1000 * (time.monotonic() - start) / len(frames)
    print("%-32s mean %.2f  %.1f ms/frame" % (name, found / len(frames), ms))


run("colour, pad 32, scale 1.05", lambda i: i, (32, 32), 1.05)
run("gray, pad 32, scale 1.05", gray, (32, 32), 1.05)
run("gray, pad 0, scale 1.05 (ours)", gray, (0, 0), 1.05)
run("gray, pad 32, scale 1.1", gray, (32, 32), 1.1)
run("gray, pad 0, scale 1.1", gray, (0, 0), 1.1)
