"""Repeats into a mean and a bootstrap 95% confidence interval, per configuration of the matrix.

A configuration (user class, mix, users) is trusted only when every one of its repeats is
``valid``: one valid repeat out of three is not a valid point (``valid_repeats``/``n`` show
k/n). ``unchecked`` (plain Locust output, no CPU evidence) is never trusted.

Intervals come from the data and never leave the range of non-negative figures:

- over repeats, a percentile bootstrap of the mean (``bootstrap_ci``): resampled means lie
  between the smallest and largest repeat, so a throughput or a latency interval cannot go
  below zero. With a single repeat there is no spread to resample: the bounds are NaN;
- for the pooled percentiles of the merged histograms, an order-statistic (binomial) interval
  on the rank of the percentile (``histograms.percentile_interval``).

"A difference" between two figures is judged against the measured run-to-run spread
(``relative_spread``: the pooled coefficient of variation of the sweep's trusted
configurations that have repeats), never against a constant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED, TRUSTED_STATUSES, VERDICT_ORDER
from analysis.histograms import PERCENTILES, merge, percentile, pooled_percentiles
from analysis.loading import POINT_KEYS

CONFIDENCE = 0.95
RESAMPLES = 4000
CI_METHOD = ("bootstrap over repeats (expanded percentile interval of the mean, 4000 "
             "resamples; never wider than the repeats' range)")
POOLED_CI_METHOD = "order-statistic interval on the merged histogram (binomial ranks)"
METRICS = ["rps", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms"]
CONFIG_KEYS = POINT_KEYS
GROUP_KEYS = [*CONFIG_KEYS, "endpoint"]


def bootstrap_ci(values: Sequence[float] | np.ndarray | pd.Series,
                 confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                 seed: int = 0) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap interval (low, high); NaN bounds with fewer than 2 values.

    The bounds are means of resampled repeats, so they stay within [min, max] of the data.
    Deterministic (seeded) so a report is reproducible.
    """
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(data.mean())
    if data.size < 2:
        return mean, math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, (resamples, data.size))].mean(axis=1)
    tail = expanded_tail(data.size, confidence)
    low, high = np.quantile(means, [tail, 1 - tail])
    return mean, float(low), float(high)


def expanded_tail(n: int, confidence: float = CONFIDENCE) -> float:
    """The tail level of Hesterberg's expanded percentile bootstrap interval for n repeats.

    The plain percentile interval is too narrow with few repeats (the sample spread
    underestimates the true one); the tail is moved out until z matches
    sqrt(n / (n - 1)) * t(n - 1). The bounds stay quantiles of resampled means, so within
    the repeats' range: with n repeats no interval of this kind covers the true mean more
    often than 1 - 2 * 0.5^n (75% for 3 repeats, 94% for 5).
    """
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    z = math.sqrt(n / (n - 1)) * float(scipy_stats.t.ppf((1 + confidence) / 2, n - 1))
    return float(scipy_stats.norm.sf(z))


mean_ci = bootstrap_ci  # the name the notebooks and earlier code use


def config_status(statuses: Sequence[str]) -> str:
    """The status of a configuration: ``valid`` only when every repeat is, else the worst."""
    found = list(statuses)
    if found and all(status == "valid" for status in found):
        return "valid"
    rank = {status: index for index, status in enumerate(VERDICT_ORDER)}
    return min((s for s in found if s != "valid"), key=lambda s: rank.get(s, -1), default="")


def status_counts(statuses: Sequence[str]) -> str:
    """``"valid 3/3"`` or ``"valid 1/3, generator-bound 2/3"``."""
    found = list(statuses)
    counts = pd.Series(found).value_counts(sort=False)
    order = sorted(counts.index, key=lambda s: (s != "valid", s))
    return ", ".join(f"{status} {int(counts[status])}/{len(found)}" for status in order)


def with_backend(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `backend`, `service_cpu`, `rtt_delay` and `payload` columns (rows made
    before those dimensions existed are memory, none, none, small)."""
    if "backend" not in frame.columns:
        frame = frame.assign(backend="memory")
    if "rtt_delay" not in frame.columns:
        frame = frame.assign(rtt_delay="none")
    if "payload" not in frame.columns:
        frame = frame.assign(payload="small")
    return frame if "service_cpu" in frame.columns else frame.assign(service_cpu="none")


def trusted_points(points: pd.DataFrame) -> pd.DataFrame:
    """The Aggregated rows of the configurations whose every repeat is valid."""
    points = with_backend(points)
    rows = points[points["endpoint"] == AGGREGATED]
    every_valid = rows.groupby(CONFIG_KEYS)["status"].transform(
        lambda column: bool(column.isin(TRUSTED_STATUSES).all()))
    return rows[every_valid.astype(bool)]


def relative_spread(points: pd.DataFrame, metric: str) -> float:
    """Run-to-run coefficient of variation of ``metric``, pooled over trusted configurations.

    sqrt(sum((n_i - 1) cv_i^2) / sum(n_i - 1)) over the configurations with 2 or more valid
    repeats; NaN when there are none (the spread was never measured).
    """
    rows = trusted_points(points)
    weighted, freedom = 0.0, 0
    for _, group in rows.groupby(CONFIG_KEYS):
        data = group[metric].to_numpy(dtype=float)
        data = data[~np.isnan(data)]
        if data.size < 2 or data.mean() <= 0:
            continue
        weighted += (data.size - 1) * float(data.var(ddof=1)) / float(data.mean()) ** 2
        freedom += data.size - 1
    return math.sqrt(weighted / freedom) if freedom else math.nan


def noise_margin(spread: float, n_a: int, n_b: int, confidence: float = CONFIDENCE) -> float:
    """The relative change that the measured spread alone would explain (two-sided, normal).

    ``z * spread * sqrt(1/n_a + 1/n_b)``; NaN when the spread is unknown.
    """
    if math.isnan(spread) or n_a < 1 or n_b < 1:
        return math.nan
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    z = float(scipy_stats.norm.ppf((1 + confidence) / 2))
    return z * spread * math.sqrt(1 / n_a + 1 / n_b)


def summarise(points: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per (user_class, mix, users, endpoint) over its repeats.

    ``points`` is ``Sweep.points`` (or any frame with its columns). ``trusted`` is True only
    when every repeat is valid; ``n`` counts the repeats, ``valid_repeats`` the valid ones,
    ``statuses`` says "valid 2/3, generator-bound 1/3". For each metric in ``METRICS`` the row
    has ``<metric>`` (mean over repeats) and ``<metric>_lo``/``_hi`` (``bootstrap_ci``).
    ``pooled_<pXX>_ms`` is read off the merged histogram of all the repeats (exact merge, not an
    average of percentiles), with ``pooled_<pXX>_ms_lo``/``_hi`` its order-statistic interval;
    ``latency_source`` says which histogram (HDR, or Locust's for a schema-1 run).
    ``pooled_mean_ms`` is the exact mean response time of all the repeats' requests.
    """
    rows = []
    points = with_backend(points)
    for keys, group in points.groupby(GROUP_KEYS, sort=True):
        row = dict(zip(GROUP_KEYS, keys, strict=True))
        statuses = [str(s) for s in group["status"]]
        row["n"] = len(group)
        row["valid_repeats"] = sum(s in TRUSTED_STATUSES for s in statuses)
        row["trusted"] = row["valid_repeats"] == row["n"]
        row["status"] = config_status(statuses)
        row["statuses"] = status_counts(statuses)
        row["reasons"] = "; ".join(sorted({r for r in group["reasons"] if r}))
        row["requests"] = int(group["requests"].sum())
        row["failures"] = int(group["failures"].sum())
        for metric in METRICS:
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = bootstrap_ci(
                group[metric], confidence)
        requests = int(group["requests"].sum())
        weighted = float((group["mean_ms"] * group["requests"]).sum())
        row["pooled_mean_ms"] = weighted / requests if requests else math.nan
        pooled, source = pooled_percentiles(group, confidence)
        for name in PERCENTILES:
            value, low, high = pooled.get(name, (math.nan, math.nan, math.nan))
            row[f"pooled_{name}_ms"] = value if requests else math.nan
            row[f"pooled_{name}_ms_lo"] = low if requests else math.nan
            row[f"pooled_{name}_ms_hi"] = high if requests else math.nan
        row["latency_source"] = source
        locust = merge(group["histogram"])
        for name, fraction in PERCENTILES.items():  # Locust's own figure, as a cross-check
            row[f"pooled_locust_{name}_ms"] = percentile(locust, fraction) if requests else (
                math.nan)
        for column in ("gen_cpu_mean", "gen_cpu_max", "service_cpu_mean", "processes", "think_s"):
            row[column] = float(group[column].mean())
        rows.append(row)
    return pd.DataFrame(rows)
