"""Comparisons: FastHttpUser vs HttpUser, mix vs mix, and sweep vs sweep (regressions)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED, TRUSTED_STATUSES
from analysis.stats import CONFIDENCE

RATIO_METRICS = ["rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"]
# With a single repeat on a side there is no interval: a ratio this close to 1 is within the
# run-to-run noise seen on this kind of machine, so it is no measurable difference.
NOISE_MARGIN = 0.05
SAME, HIGHER, LOWER = "no measurable difference", "higher", "lower"
HIGHER_IS_BETTER = {"rps": True, "mean_ms": False, "p50_ms": False, "p95_ms": False,
                    "p99_ms": False}


def ratio_ci(a: pd.Series, b: pd.Series,
             confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """mean(a) / mean(b) with a confidence interval (delta method on the log ratio, Welch df).

    NaN bounds when either side has a single value (no spread to estimate).
    """
    xa, xb = _clean(a), _clean(b)
    if xa.size == 0 or xb.size == 0 or xb.mean() == 0 or xa.mean() == 0:
        return math.nan, math.nan, math.nan
    ratio = float(xa.mean() / xb.mean())
    if xa.size < 2 or xb.size < 2:
        return ratio, math.nan, math.nan
    va = xa.var(ddof=1) / (xa.size * xa.mean() ** 2)
    vb = xb.var(ddof=1) / (xb.size * xb.mean() ** 2)
    if va + vb == 0:
        return ratio, ratio, ratio
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    df = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = float(scipy_stats.t.ppf((1 + confidence) / 2, df) * math.sqrt(va + vb))
    return ratio, ratio * math.exp(-half), ratio * math.exp(half)


def difference(ratio: float, low: float, high: float, margin: float = NOISE_MARGIN) -> str:
    """Whether a ratio shows a difference: ``HIGHER``, ``LOWER`` or ``SAME`` (or "" if NaN).

    ``SAME`` when the confidence interval includes 1, or, without an interval (one repeat on a
    side), when the ratio is within ``margin`` of 1.
    """
    if math.isnan(ratio):
        return ""
    if not (math.isnan(low) or math.isnan(high)):
        if low <= 1 <= high:
            return SAME
    elif abs(ratio - 1) <= margin:
        return SAME
    return HIGHER if ratio > 1 else LOWER


def _clean(values: pd.Series) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    return data[~np.isnan(data)]


def _valid_aggregated(points: pd.DataFrame) -> pd.DataFrame:
    return points[(points["endpoint"] == AGGREGATED) & points["status"].isin(TRUSTED_STATUSES)]


def class_ratio(points: pd.DataFrame, numerator: str = "fast",
                denominator: str = "http") -> pd.DataFrame:
    """FastHttpUser / HttpUser per mix and users: throughput, mean and percentile ratios with CIs.

    ``n_fast``/``n_http`` count the valid repeats; ``rps_difference`` says whether the
    throughput ratio is a measurable difference (``difference``). Only valid points enter; a
    (mix, users) cell where either class has no valid repeat is listed with NaN ratios and
    ``note`` saying why.
    """
    every = points[points["endpoint"] == AGGREGATED]
    valid = _valid_aggregated(points)
    rows = []
    for (mix, users), _ in every.groupby(["mix", "users"], sort=True):
        cell = valid[(valid["mix"] == mix) & (valid["users"] == users)]
        top, bottom = cell[cell["user_class"] == numerator], cell[cell["user_class"] == denominator]
        row: dict[str, object] = {"mix": mix, "users": users, "n_" + numerator: len(top),
                                  "n_" + denominator: len(bottom)}
        for metric in RATIO_METRICS:
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = ratio_ci(
                top[metric], bottom[metric])
        row["rps_difference"] = difference(*ratio_ci(top["rps"], bottom["rps"]))
        row["note"] = "" if len(top) and len(bottom) else "no valid repeat on one side"
        rows.append(row)
    return pd.DataFrame(rows)


def mix_ratio(points: pd.DataFrame, mix_a: str, mix_b: str) -> pd.DataFrame:
    """mix_a / mix_b per user class and users: throughput and latency ratios with CIs."""
    valid = _valid_aggregated(points)
    rows = []
    for (user_class, users), cell in valid.groupby(["user_class", "users"], sort=True):
        a, b = cell[cell["mix"] == mix_a], cell[cell["mix"] == mix_b]
        if a.empty or b.empty:
            continue
        row: dict[str, object] = {"user_class": user_class, "users": users}
        for metric in RATIO_METRICS:
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = ratio_ci(a[metric], b[metric])
        rows.append(row)
    return pd.DataFrame(rows)


def compare_sweeps(before: pd.DataFrame, after: pd.DataFrame, threshold: float = 0.10,
                   metrics: tuple[str, ...] = ("rps", "p50_ms", "p95_ms", "p99_ms"),
                   confidence: float = CONFIDENCE) -> pd.DataFrame:
    """The regression table: each (user_class, mix, users) cell and metric in both sweeps.

    ``change`` is (after - before) / before of the means over valid repeats. A change is
    ``flagged`` when it exceeds ``threshold`` in size AND the noise: Welch's t-test over the
    repeats rejects "no difference" at ``confidence``. With one repeat on a side the noise is
    unknown, so the threshold alone decides and ``noise`` says "unknown (n=1)".
    ``direction`` is "regression" or "improvement" (throughput down or latency up is worse).
    """
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    a, b = _valid_aggregated(before), _valid_aggregated(after)
    rows = []
    keys = ["user_class", "mix", "users"]
    cells = sorted(set(map(tuple, a[keys].values)) & set(map(tuple, b[keys].values)))
    for cell in cells:
        in_a = a[(a[keys] == pd.Series(cell, index=keys)).all(axis=1)]
        in_b = b[(b[keys] == pd.Series(cell, index=keys)).all(axis=1)]
        for metric in metrics:
            xa, xb = _clean(in_a[metric]), _clean(in_b[metric])
            if xa.size == 0 or xb.size == 0 or xa.mean() == 0:
                continue
            change = float((xb.mean() - xa.mean()) / xa.mean())
            if xa.size >= 2 and xb.size >= 2:
                if xa.std() == 0 and xb.std() == 0:
                    p_value = 0.0 if xa.mean() != xb.mean() else 1.0
                else:
                    p_value = float(scipy_stats.ttest_ind(xa, xb, equal_var=False).pvalue)
                beyond_noise = p_value < 1 - confidence
                noise = f"p={p_value:.3f}"
            else:
                beyond_noise, noise = True, "unknown (n=1)"
            worse = change < 0 if HIGHER_IS_BETTER[metric] else change > 0
            rows.append({
                **dict(zip(keys, cell, strict=True)), "metric": metric,
                "before": float(xa.mean()), "after": float(xb.mean()), "change": change,
                "n_before": xa.size, "n_after": xb.size, "noise": noise,
                "flagged": bool(abs(change) > threshold and beyond_noise),
                "direction": "regression" if worse else "improvement",
            })
    return pd.DataFrame(rows, columns=[*keys, "metric", "before", "after", "change", "n_before",
                                       "n_after", "noise", "flagged", "direction"])
