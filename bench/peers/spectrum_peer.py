#!/usr/bin/python3
"""The spectrum peer: the same windows and peak picking in plain NumPy.

Reads the motion CSV (np.loadtxt on the numeric columns), and for every
point and axis takes 10 s Hann windows every 1 s, removes mean and linear
trend, transforms with numpy.fft.rfft, and writes the 3 strongest local
maxima of each window with parabolic interpolation, as CSV.

    spectrum_peer.py motion.csv > peaks.csv
"""
import sys

import numpy as np


def main():
    data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1,
                      usecols=(0, 3, 6, 7))
    ts, pt = data[:, 0], data[:, 1].astype(int)
    rate = round(1 / np.median(np.diff(np.unique(ts[:1000]))))
    n, hop = 10 * rate, rate
    window = np.hanning(n + 1)[:-1]
    scale = 2 / window.sum()
    x = np.arange(n) - (n - 1) / 2
    out = sys.stdout
    out.write("ts,pt,axis,rank,freq_hz,amp\n")
    for p in np.unique(pt):
        rows = pt == p
        t = ts[rows]
        for axis, col in (("dx", 2), ("dy", 3)):
            v = data[rows, col]
            for start in range(0, len(v) - n + 1, hop):
                w = v[start:start + n]
                w = w - w.mean()
                w = w - x * (x @ w) / (x @ x)
                mag = np.abs(np.fft.rfft(w * window)) * scale
                inner = mag[1:-1]
                peaks = np.flatnonzero((inner > mag[:-2]) &
                                       (inner >= mag[2:])) + 1
                best = peaks[np.argsort(mag[peaks])[::-1][:3]]
                for rank, k in enumerate(best, 1):
                    a, b, c = mag[k - 1], mag[k], mag[k + 1]
                    d = 0.5 * (a - c) / (a - 2 * b + c)
                    out.write("%.6f,%d,%s,%d,%.4f,%.6f\n" % (
                        t[start + n - 1], p, axis, rank,
                        (k + d) * rate / n, b - 0.25 * (a - c) * d))


if __name__ == "__main__":
    main()
