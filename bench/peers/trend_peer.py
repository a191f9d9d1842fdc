#!/usr/bin/python3
"""trend_peer: what `trend forecast --season M --horizon H` does, with
statsmodels' ETSModel: per series (series CSV, each series' rows
together) the six additive-error models fitted, and the six with
multiplicative errors and the three with a multiplicative season too if
every value is positive, the one of least AICc
forecast H steps with 80% and 95% intervals, written as forecast CSV.

    trend_peer.py FILE M H
"""
import csv
import sys
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

warnings.simplefilter("ignore")
path, m, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
SPECS = [(None, False, None), ("add", False, None), ("add", True, None),
         (None, False, "add"), ("add", False, "add"), ("add", True, "add")]


def forecast(name, ts, y, out):
    best = None
    for e in ["add", "mul"] if y.min() > 0 else ["add"]:
        # a multiplicative season with multiplicative errors, as ours
        # (and R's ets: not with additive errors)
        for t, d, s in SPECS + ([(t, d, "mul") for t, d, _ in SPECS[:3]] if e == "mul" else []):
            r = ETSModel(y, error=e, trend=t, damped_trend=d, seasonal=s,
                         seasonal_periods=m if s else None).fit(disp=False)
            if best is None or r.aicc < best.aicc:
                best = r
    pred = best.get_prediction(start=len(y), end=len(y) + h - 1)
    mean = np.asarray(pred.predicted_mean)
    i80 = np.asarray(pred.pred_int(alpha=0.2))
    i95 = np.asarray(pred.pred_int(alpha=0.05))
    step = ts[-1] - ts[-2]
    for k in range(h):
        out.writerow([ts[-1] + (k + 1) * step, name, f"{mean[k]:.6f}", f"{i80[k][0]:.6f}",
                      f"{i80[k][1]:.6f}", f"{i95[k][0]:.6f}", f"{i95[k][1]:.6f}"])


out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["ts", "series", "value", "lo80", "hi80", "lo95", "hi95"])
name, ts, y = None, [], []
for row in csv.DictReader(open(path)):
    if row["series"] != name and name is not None:
        forecast(name, ts, pd.Series(y), out)
        ts, y = [], []
    name = row["series"]
    ts.append(float(row["ts"]))
    y.append(float(row["value"]))
if name is not None:
    forecast(name, ts, pd.Series(y), out)
