"""Repeats into a mean and a Student-t 95% confidence interval, per point of the matrix.

Repeats are averaged only with repeats of the same verdict: valid runs with valid runs, and
each other verdict in a row of its own (``trusted`` False), never mixed with valid ones.
With a single repeat there is no spread to estimate: the mean is that repeat's figure and the
interval bounds are NaN (shown as "n=1, no CI").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._locust import TRUSTED_STATUSES
from analysis.histograms import merge, percentiles

CONFIDENCE = 0.95
METRICS = ["rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"]
GROUP_KEYS = ["user_class", "mix", "users", "endpoint", "status"]


def mean_ci(values: Sequence[float] | np.ndarray | pd.Series,
            confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval (low, high); NaN bounds with fewer than 2 values."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(data.mean())
    if data.size < 2:
        return mean, math.nan, math.nan
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    half = float(scipy_stats.t.ppf((1 + confidence) / 2, data.size - 1)
                 * data.std(ddof=1) / math.sqrt(data.size))
    return mean, mean - half, mean + half


def summarise(points: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per (user_class, mix, users, endpoint, verdict status) over the repeats.

    ``points`` is ``Sweep.points`` (or any frame with its columns). For each metric in
    ``METRICS`` the row has ``<metric>`` (mean over repeats), ``<metric>_lo``/``_hi`` (the
    interval) and, for the percentiles, ``pooled_<pXX>_ms`` read off the merged histogram of
    all the repeats (exact, not an average of percentiles). ``pooled_mean_ms`` is the exact
    mean response time of all the repeats' requests (Locust's total response time / requests,
    not rounded to its histogram's whole-millisecond buckets).
    """
    rows = []
    for keys, group in points.groupby(GROUP_KEYS, sort=True):
        row = dict(zip(GROUP_KEYS, keys, strict=True))
        row["trusted"] = row["status"] in TRUSTED_STATUSES
        row["n"] = len(group)
        row["statuses"] = row["status"]
        row["reasons"] = "; ".join(sorted({r for r in group["reasons"] if r}))
        row["requests"] = int(group["requests"].sum())
        row["failures"] = int(group["failures"].sum())
        for metric in METRICS:
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = mean_ci(group[metric],
                                                                            confidence)
        requests = int(group["requests"].sum())
        weighted = float((group["mean_ms"] * group["requests"]).sum())
        row["pooled_mean_ms"] = weighted / requests if requests else math.nan
        pooled = percentiles(merge(group["histogram"]))
        for name in ("p50", "p95", "p99"):
            row[f"pooled_{name}_ms"] = pooled[name] if row["requests"] else math.nan
        for column in ("gen_cpu_mean", "gen_cpu_max", "service_cpu_mean", "processes", "think_s"):
            row[column] = float(group[column].mean())
        rows.append(row)
    return pd.DataFrame(rows)
