"""Comparisons: FastHttpUser vs HttpUser, mix vs mix, and sweep vs sweep (regressions)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED
from analysis.stats import (
    CONFIDENCE,
    CONFIG_KEYS,
    RESAMPLES,
    expanded_tail,
    noise_margin,
    relative_spread,
    trusted_points,
    with_backend,
)

RATIO_METRICS = ["rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"]
SAME, HIGHER, LOWER = "no measurable difference", "higher", "lower"
UNKNOWN = "noise unknown (one repeat, and no repeats in the sweep to measure the spread)"
HIGHER_IS_BETTER = {"rps": True, "mean_ms": False, "p50_ms": False, "p95_ms": False,
                    "p99_ms": False}


def ratio_ci(a: pd.Series | np.ndarray, b: pd.Series | np.ndarray,
             confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
             seed: int = 0) -> tuple[float, float, float]:
    """mean(a) / mean(b) with a bootstrap interval over the repeats of both sides.

    Each side's repeats are resampled independently; the bounds are quantiles of the resampled
    ratios (expanded for few repeats, ``stats.expanded_tail`` of the smaller side), so they
    are positive like the ratio. NaN bounds when either side has a single value.
    """
    xa, xb = _clean(a), _clean(b)
    if xa.size == 0 or xb.size == 0 or xb.mean() == 0 or xa.mean() == 0:
        return math.nan, math.nan, math.nan
    ratio = float(xa.mean() / xb.mean())
    if xa.size < 2 or xb.size < 2:
        return ratio, math.nan, math.nan
    rng = np.random.default_rng(seed)
    top = xa[rng.integers(0, xa.size, (resamples, xa.size))].mean(axis=1)
    bottom = xb[rng.integers(0, xb.size, (resamples, xb.size))].mean(axis=1)
    ratios = top[bottom > 0] / bottom[bottom > 0]
    tail = expanded_tail(min(xa.size, xb.size), confidence)
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return ratio, float(low), float(high)


def difference(ratio: float, low: float, high: float, margin: float = math.nan) -> str:
    """Whether a ratio shows a difference: ``HIGHER``, ``LOWER`` or ``SAME`` (or "" if NaN).

    ``SAME`` when the confidence interval includes 1. Without an interval (one repeat on a
    side), the ratio must be further from 1 than ``margin``, the noise the sweep's measured
    run-to-run spread explains (``stats.noise_margin``); with no measured spread at all,
    ``UNKNOWN``: no difference is claimed.
    """
    if math.isnan(ratio):
        return ""
    if not (math.isnan(low) or math.isnan(high)):
        if low <= 1 <= high:
            return SAME
    elif math.isnan(margin):
        return UNKNOWN
    elif abs(math.log(ratio)) <= margin:
        return SAME
    return HIGHER if ratio > 1 else LOWER


def _clean(values: pd.Series | np.ndarray) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    return data[~np.isnan(data)]


def _valid_aggregated(points: pd.DataFrame) -> pd.DataFrame:
    """The Aggregated rows of configurations whose every repeat is valid."""
    return trusted_points(points)


def class_ratio(points: pd.DataFrame, numerator: str = "fast",
                denominator: str = "http") -> pd.DataFrame:
    """FastHttpUser / HttpUser per mix and users: throughput, mean and percentile ratios with CIs.

    ``n_fast``/``n_http`` count the repeats of configurations whose every repeat is valid;
    ``rps_difference`` says whether the throughput ratio is a measurable difference
    (``difference``, against the sweep's measured spread when a side has one repeat). A
    (mix, users) cell where either class is not trusted is listed with NaN ratios and ``note``
    saying why.
    """
    every = with_backend(points[points["endpoint"] == AGGREGATED])
    valid = _valid_aggregated(points)
    spread = relative_spread(points, "rps")
    rows = []
    keys = [key for key in CELL_KEYS if key != "user_class"]
    for values, _ in every.groupby(keys, sort=True):
        where = dict(zip(keys, values, strict=True))
        cell = valid[(valid[keys] == pd.Series(where)).all(axis=1)]
        top, bottom = cell[cell["user_class"] == numerator], cell[cell["user_class"] == denominator]
        row: dict[str, object] = {**where,
                                  "n_" + numerator: len(top), "n_" + denominator: len(bottom)}
        for metric in RATIO_METRICS:
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = ratio_ci(
                top[metric], bottom[metric])
        margin = noise_margin(spread, len(top), len(bottom))
        row["rps_noise_margin"] = margin
        row["rps_difference"] = difference(*ratio_ci(top["rps"], bottom["rps"]), margin)
        row["note"] = "" if len(top) and len(bottom) else (
            "a class has no configuration here whose every repeat is valid")
        rows.append(row)
    return pd.DataFrame(rows)


def mix_ratio(points: pd.DataFrame, mix_a: str, mix_b: str) -> pd.DataFrame:
    """mix_a / mix_b per user class and users: throughput and latency ratios with CIs."""
    valid = _valid_aggregated(points)
    rows = []
    keys = [key for key in CELL_KEYS if key != "mix"]
    for values, cell in valid.groupby(keys, sort=True):
        a, b = cell[cell["mix"] == mix_a], cell[cell["mix"] == mix_b]
        if a.empty or b.empty:
            continue
        row: dict[str, object] = dict(zip(keys, values, strict=True))
        for metric in RATIO_METRICS:
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = ratio_ci(a[metric], b[metric])
        rows.append(row)
    return pd.DataFrame(rows)


CELL_KEYS = CONFIG_KEYS
# How bad a configuration's verdict is for a comparison: a measurement that cannot be trusted
# (1) is worse than a valid one (0); a service that errs or a run that broke (2) is worse still.
VERDICT_RANK = {"valid": 0, "generator-bound": 1, "too-few-samples": 1, "interrupted": 1,
                "unchecked": 1, "unknown": 1, "sut-errors": 2, "failed": 2}


def verdict_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Every (user_class, mix, users) cell in both sweeps whose verdict changed.

    A cell's verdict is ``stats.config_status`` of its repeats (``valid`` only when every
    repeat is); ``change`` is "worse" or "better" by ``VERDICT_RANK``, or "different" for
    another verdict of the same rank.
    """
    from analysis.stats import config_status, status_counts

    def cells(points: pd.DataFrame) -> dict[tuple[object, ...], list[str]]:
        rows = with_backend(points[points["endpoint"] == AGGREGATED])
        return {tuple(keys): [str(s) for s in group["status"]]
                for keys, group in rows.groupby(CELL_KEYS, sort=True)}

    a, b = cells(before), cells(after)
    out = []
    for cell in sorted(set(a) & set(b), key=str):
        was, now = config_status(a[cell]), config_status(b[cell])
        if was == now:
            continue
        rank_was, rank_now = VERDICT_RANK.get(was, 1), VERDICT_RANK.get(now, 1)
        change = "worse" if rank_now > rank_was else "better" if rank_now < rank_was else (
            "different")
        out.append({**dict(zip(CELL_KEYS, cell, strict=True)), "before": status_counts(a[cell]),
                    "after": status_counts(b[cell]), "change": change})
    return pd.DataFrame(out, columns=[*CELL_KEYS, "before", "after", "change"])


def comparable_cells(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """How many (user_class, mix, users) cells both sweeps have (any verdict)."""
    def keys(points: pd.DataFrame) -> set[tuple[object, ...]]:
        rows = with_backend(points[points["endpoint"] == AGGREGATED])
        return set(map(tuple, rows[CELL_KEYS].values))

    return len(keys(before) & keys(after))


def compare_sweeps(before: pd.DataFrame, after: pd.DataFrame, threshold: float = 0.10,
                   metrics: tuple[str, ...] = ("rps", "p50_ms", "p95_ms", "p99_ms"),
                   confidence: float = CONFIDENCE) -> pd.DataFrame:
    """The regression table: each cell trusted in both sweeps, per metric.

    ``change`` is (after - before) / before of the means over the repeats. A change is
    ``flagged`` when it exceeds ``threshold`` in size AND the noise. The noise: with 2 or more
    repeats on both sides, Welch's t-test rejects "no difference" at ``confidence``; with one
    repeat on a side, the change must exceed the margin the measured run-to-run spread
    explains (``stats.noise_margin`` of the spread pooled over both sweeps); with no measured
    spread at all, the threshold alone decides and ``noise`` says so. ``direction`` is
    "regression" (throughput down or latency up) or "improvement"; ``regression`` is True for
    a flagged change in the worse direction (only those fail ``python -m analysis compare``).
    """
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    a, b = _valid_aggregated(before), _valid_aggregated(after)
    spreads = {metric: relative_spread(pd.concat([before, after], ignore_index=True), metric)
               for metric in metrics}
    rows = []
    keys = CELL_KEYS
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
                noise = f"Welch p={p_value:.3f}"
            else:
                margin = noise_margin(spreads[metric], xa.size, xb.size, confidence)
                if math.isnan(margin):
                    beyond_noise, noise = True, "unknown (n=1, no repeats to measure spread)"
                else:
                    beyond_noise = abs(change) > margin
                    noise = f"±{margin:.1%} (measured spread, n={xa.size}/{xb.size})"
            worse = change < 0 if HIGHER_IS_BETTER[metric] else change > 0
            flagged = bool(abs(change) > threshold and beyond_noise)
            rows.append({
                **dict(zip(keys, cell, strict=True)), "metric": metric,
                "before": float(xa.mean()), "after": float(xb.mean()), "change": change,
                "n_before": xa.size, "n_after": xb.size, "noise": noise,
                "flagged": flagged,
                "direction": "regression" if worse else "improvement" if change else "none",
                "regression": flagged and worse,
            })
    return pd.DataFrame(rows, columns=[*keys, "metric", "before", "after", "change", "n_before",
                                       "n_after", "noise", "flagged", "direction",
                                       "regression"])
