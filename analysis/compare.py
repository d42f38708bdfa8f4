"""Comparisons: FastHttpUser vs HttpUser, mix vs mix, and sweep vs sweep (regressions).

Every ratio is a ratio of means over trusted repeats, tested on the log scale
(``analysis.inference``): "measurably higher/lower" only after Holm's correction over the
table's comparisons, "no difference" only from TOST at a stated margin (10% by default),
otherwise "inconclusive at n = a/b". Each interval carries its label (a 95% CI with 3 or more
repeats on both sides, else the range of the repeats' ratios).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED
from analysis.inference import (
    ALPHA,
    MARGIN,
    POWER,
    LogTest,
    detectable_log,
    equal_df,
    holm,
    log_welch,
)
from analysis.stats import (
    CONFIDENCE,
    CONFIG_KEYS,
    measured_spread,
    trusted_points,
    with_backend,
)

RATIO_METRICS = ["rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"]
HIGHER, LOWER = "higher", "lower"
SAME = "no difference"  # only from TOST at the stated margin, after Holm
INCONCLUSIVE = "inconclusive"
UNKNOWN = "noise unknown (one repeat, and no repeats in the sweep to measure the spread)"
HIGHER_IS_BETTER = {"rps": True, "mean_ms": False, "p50_ms": False, "p95_ms": False,
                    "p99_ms": False}


def ratio_ci(a: pd.Series | np.ndarray, b: pd.Series | np.ndarray,
             confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """mean(a) / mean(b) and its interval (``ratio_interval`` gives the label too)."""
    ratio, low, high, _ = ratio_interval(a, b, confidence)
    return ratio, low, high


def ratio_interval(a: pd.Series | np.ndarray, b: pd.Series | np.ndarray,
                   confidence: float = CONFIDENCE) -> tuple[float, float, float, str]:
    """mean(a) / mean(b), its interval and what the interval is.

    3 or more repeats on both sides: a 95% CI from Welch's t on the log ratio (positive like
    the ratio). Fewer: the range of the ratios of single repeats. One repeat on both sides: no
    interval. NaN when a side is empty or its mean is 0.
    """
    test = log_welch(a, b, confidence=confidence)
    if test is None:
        xa, xb = _clean(a), _clean(b)
        if xa.size == 0 or xb.size == 0 or xa.mean() <= 0 or xb.mean() <= 0:
            return math.nan, math.nan, math.nan, ""
        return (float(xa.mean() / xb.mean()), math.nan, math.nan,
                f"no interval (n={xa.size}/{xb.size})")
    return test.ratio, test.low, test.high, test.label


def judge(tests: list[LogTest | None], margin: float = MARGIN,
          alpha: float = ALPHA) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Each comparison of a table: ``HIGHER``, ``LOWER``, ``SAME``, ``INCONCLUSIVE`` or
    ``UNKNOWN`` (None: not testable), with Holm-adjusted p-values of the difference test and
    of the equivalence test (TOST at ``margin``), both over the table's testable comparisons.
    """
    p_diff = holm([t.p_value if t else math.nan for t in tests])
    p_same = holm([t.equivalence(margin) if t else math.nan for t in tests])
    found = []
    for test, different, same in zip(tests, p_diff, p_same, strict=True):
        if test is None:
            found.append(UNKNOWN)
        elif different < alpha:
            found.append(HIGHER if test.ratio > 1 else LOWER)
        elif same < alpha:
            found.append(SAME)
        else:
            found.append(INCONCLUSIVE)
    return found, p_diff, p_same


def finding_text(finding: str, n_a: int, n_b: int, margin: float = MARGIN,
                 higher: str = "higher", lower: str = "lower") -> str:
    """A finding in words: "no difference (within ±10%, TOST)", "inconclusive at n = 2/2"."""
    if finding == HIGHER:
        return f"{higher} after Holm's correction, n = {n_a}/{n_b}"
    if finding == LOWER:
        return f"{lower} after Holm's correction, n = {n_a}/{n_b}"
    if finding == SAME:
        return f"no difference (within ±{margin:.0%}, TOST, n = {n_a}/{n_b})"
    if finding == INCONCLUSIVE:
        return f"inconclusive at n = {n_a}/{n_b}"
    return finding


def difference(ratio: float, low: float, high: float, margin: float = math.nan) -> str:
    """Deprecated single-comparison rule kept for old callers: prefer ``judge``.

    ``HIGHER``/``LOWER`` when the interval excludes 1, ``INCONCLUSIVE`` when it includes 1
    (an interval including 1 is not evidence of no difference); without an interval,
    ``UNKNOWN``. "" for a NaN ratio.
    """
    if math.isnan(ratio):
        return ""
    if math.isnan(low) or math.isnan(high):
        return UNKNOWN
    if low <= 1 <= high:
        return INCONCLUSIVE
    return HIGHER if ratio > 1 else LOWER


def _clean(values: pd.Series | np.ndarray) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    return data[~np.isnan(data)]


def _valid_aggregated(points: pd.DataFrame) -> pd.DataFrame:
    """The Aggregated rows of configurations whose every repeat is valid."""
    return trusted_points(points)


def class_ratio(points: pd.DataFrame, numerator: str = "fast", denominator: str = "http",
                margin: float = MARGIN) -> pd.DataFrame:
    """FastHttpUser / HttpUser per mix and users: throughput, mean and percentile ratios.

    ``n_fast``/``n_http`` count the repeats of configurations whose every repeat is valid.
    Each ratio has ``<metric>_lo``/``_hi`` and ``<metric>_interval`` (what the interval is).
    The throughput ratio is judged (``judge``) over every cell of the table at once:
    ``rps_difference`` is ``HIGHER``/``LOWER`` (Welch's t on the log ratio, Holm-corrected),
    ``SAME`` (TOST within ±``margin``, Holm-corrected), ``INCONCLUSIVE`` or ``UNKNOWN``;
    ``rps_finding`` says it in words with n, ``rps_p_holm``/``rps_p_equivalence`` are the
    adjusted p-values. A (mix, users) cell where either class is not trusted is listed with NaN
    ratios and ``note`` saying why.
    """
    every = with_backend(points[points["endpoint"] == AGGREGATED])
    valid = _valid_aggregated(points)
    spread, spread_df = measured_spread(points, "rps")
    rows: list[dict[str, object]] = []
    tests: list[LogTest | None] = []
    keys = [key for key in CELL_KEYS if key != "user_class"]
    for values, _ in every.groupby(keys, sort=True):
        where = dict(zip(keys, values, strict=True))
        cell = valid[(valid[keys] == pd.Series(where)).all(axis=1)]
        top, bottom = cell[cell["user_class"] == numerator], cell[cell["user_class"] == denominator]
        row: dict[str, object] = {**where,
                                  "n_" + numerator: len(top), "n_" + denominator: len(bottom)}
        for metric in RATIO_METRICS:
            (row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"],
             row[f"{metric}_interval"]) = ratio_interval(top[metric], bottom[metric])
        test = log_welch(top["rps"], bottom["rps"], margin, spread, spread_df) if (
            len(top) and len(bottom)) else None
        row["note"] = "" if len(top) and len(bottom) else (
            "a class has no configuration here whose every repeat is valid")
        rows.append(row)
        tests.append(test)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    comparable = [bool(len_a and len_b) for len_a, len_b in
                  zip(frame["n_" + numerator], frame["n_" + denominator], strict=True)]
    found, p_diff, p_same = judge(tests, margin)
    frame["rps_difference"] = [f if ok else "" for f, ok in zip(found, comparable, strict=True)]
    frame["rps_p"] = [t.p_value if t else math.nan for t in tests]
    frame["rps_p_holm"] = p_diff
    frame["rps_p_equivalence"] = p_same
    frame["rps_finding"] = [
        finding_text(f, int(a), int(b), margin, "FastHttpUser higher", "HttpUser higher")
        if ok else "" for f, a, b, ok in zip(found, frame["n_" + numerator],
                                             frame["n_" + denominator], comparable, strict=True)]
    frame["margin"] = margin
    return frame


def mix_ratio(points: pd.DataFrame, mix_a: str, mix_b: str) -> pd.DataFrame:
    """mix_a / mix_b per user class and users: throughput and latency ratios with intervals
    (``<metric>_interval`` names each)."""
    valid = _valid_aggregated(points)
    rows = []
    keys = [key for key in CELL_KEYS if key != "mix"]
    for values, cell in valid.groupby(keys, sort=True):
        a, b = cell[cell["mix"] == mix_a], cell[cell["mix"] == mix_b]
        if a.empty or b.empty:
            continue
        row: dict[str, object] = dict(zip(keys, values, strict=True))
        for metric in RATIO_METRICS:
            (row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"],
             row[f"{metric}_interval"]) = ratio_interval(a[metric], b[metric])
        rows.append(row)
    return pd.DataFrame(rows)


CELL_KEYS = CONFIG_KEYS
COMPARE_COLUMNS = [*CELL_KEYS, "metric", "before", "after", "change", "n_before", "n_after",
                   "noise", "p", "p_holm", "p_equivalence", "detectable", "finding", "flagged",
                   "direction", "regression"]


def compare_sweeps(before: pd.DataFrame, after: pd.DataFrame, threshold: float = 0.10,
                   metrics: tuple[str, ...] = ("rps", "p50_ms", "p95_ms", "p99_ms"),
                   confidence: float = CONFIDENCE, power: float = POWER) -> pd.DataFrame:
    """The regression table: each cell trusted in both sweeps, per metric.

    ``change`` is mean(after) / mean(before) - 1 over the repeats. Each row is tested on the
    log scale (``inference.log_welch``: Welch's t with 2 or more repeats on both sides, else
    the run-to-run spread measured over both sweeps), and the table's p-values are corrected
    together by Holm (``p_holm``); ``p_equivalence`` is TOST at ±``threshold``, Holm-corrected.
    A change is ``flagged`` when it exceeds ``threshold`` in size AND is measurably different
    after Holm; with no measured spread at all the threshold alone decides and ``noise`` says
    so. ``finding`` says what the row shows: "regression"/"improvement", "measurably different,
    within ±10%", "no difference (within ±10%, TOST)" or "inconclusive at n = 2/2".
    ``detectable`` is the smallest change in the worse direction this row's repeats would have
    found with ``power`` (80%) at the measured noise and the level Holm's first step needs
    (alpha / the number of tested rows); NaN when the noise was never measured.
    ``regression`` is True for a flagged change in the worse direction.
    """
    a, b = _valid_aggregated(before), _valid_aggregated(after)
    spreads = {metric: _pooled_spread(before, after, metric) for metric in metrics}
    alpha = 1 - confidence
    rows: list[dict[str, object]] = []
    tests: list[LogTest | None] = []
    keys = CELL_KEYS
    cells = sorted(set(map(tuple, a[keys].values)) & set(map(tuple, b[keys].values)))
    for cell in cells:
        in_a = a[(a[keys] == pd.Series(cell, index=keys)).all(axis=1)]
        in_b = b[(b[keys] == pd.Series(cell, index=keys)).all(axis=1)]
        for metric in metrics:
            xa, xb = _clean(in_a[metric]), _clean(in_b[metric])
            if xa.size == 0 or xb.size == 0 or xa.mean() <= 0 or xb.mean() <= 0:
                continue
            spread, spread_df = spreads[metric]
            tests.append(log_welch(xb, xa, threshold, spread, spread_df, confidence))
            rows.append({**dict(zip(keys, cell, strict=True)), "metric": metric,
                         "before": float(xa.mean()), "after": float(xb.mean()),
                         "change": float(xb.mean() / xa.mean() - 1),
                         "n_before": int(xa.size), "n_after": int(xb.size)})
    if not rows:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    found, p_diff, p_same = judge(tests, threshold, alpha)
    family = max(sum(t is not None for t in tests), 1)
    for row, test, finding, holm_p, same_p in zip(rows, tests, found, p_diff, p_same,
                                                  strict=True):
        metric, change = str(row["metric"]), float(row["change"])  # type: ignore[arg-type]
        n_a, n_b = int(row["n_before"]), int(row["n_after"])  # type: ignore[call-overload]
        spread, spread_df = spreads[metric]
        size = detectable_log(spread, n_a, n_b, equal_df(n_a, n_b, spread_df),
                              alpha / family, power)
        worse = change < 0 if HIGHER_IS_BETTER.get(metric, False) else change > 0
        if test is None:
            flagged = abs(change) > threshold
            noise = "unknown (n=1, no repeats to measure the spread): the threshold alone decides"
        else:
            flagged = abs(change) > threshold and finding in (HIGHER, LOWER)
            noise = f"{test.method}: p={test.p_value:.3g}, Holm p={holm_p:.3g}"
        if flagged:
            text = "regression" if worse else "improvement"
        elif finding in (HIGHER, LOWER):
            text = f"measurably different, within ±{threshold:.0%}"
        else:
            text = finding_text(finding, n_a, n_b, threshold)
        row.update({
            "noise": noise, "p": test.p_value if test else math.nan, "p_holm": holm_p,
            "p_equivalence": same_p,
            "detectable": (1 - math.exp(-size)) if HIGHER_IS_BETTER.get(metric, False)
            else math.expm1(size),
            "finding": text, "flagged": bool(flagged),
            "direction": "regression" if worse else "improvement" if change else "none",
            "regression": bool(flagged and worse)})
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def _pooled_spread(before: pd.DataFrame, after: pd.DataFrame, metric: str) -> tuple[float, int]:
    """The run-to-run spread of each sweep, pooled (each sweep's configurations on their own:
    the same configuration in A and B is two groups, never one)."""
    weighted, freedom = 0.0, 0
    for points in (before, after):
        spread, df = measured_spread(points, metric)
        if df:
            weighted += df * spread**2
            freedom += df
    return (math.sqrt(weighted / freedom), freedom) if freedom else (math.nan, 0)
