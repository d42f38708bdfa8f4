"""Repeats into a mean and an interval labelled by what it is, per configuration of the matrix.

A configuration (user class, mix, users) is trusted only when every one of its repeats is
``valid``: one valid repeat out of three is not a valid point (``valid_repeats``/``n`` show
k/n). ``unchecked`` (plain Locust output, no CPU evidence) is never trusted.

Every interval says what it is (``interval_label``, ``percentile_label``):

- a mean over repeats (``mean_interval``): with 3 or more repeats a Student-t 95% confidence
  interval ("95% CI (t, n=5)", its low end clipped at 0 for a non-negative figure); with 2
  repeats the two values, labelled "range of 2", never a CI (two values hold the true mean
  about half the time); with one repeat no interval;
- a percentile of the merged histograms of the repeats (``percentile_intervals``): with 3 or
  more repeats a Student-t interval from the spread of the repeats' own percentiles around the
  merged one ("95% CI (t over the repeats' percentiles, n=5)"); with 2 the range of the
  repeats' own percentiles. Never an interval over requests as if they were independent:
  requests of one run share its machine, its drift and its stalls.

"A difference" between two figures is judged by ``analysis.inference`` (Welch's t on the log
ratio, TOST for "no difference", Holm across a table), against the spread of the repeats or,
with one repeat on a side, the sweep's measured run-to-run spread (``relative_spread``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED, TRUSTED_STATUSES
from analysis.dimensions import DEFAULTS, EXTRA_KEYS
from analysis.histograms import PERCENTILES, merge, percentile, pooled_percentiles
from analysis.loading import POINT_KEYS
from runmodel import verdicts

CONFIDENCE = 0.95
MIN_CI_REPEATS = 3  # with fewer repeats an interval is a range, never a confidence interval
CI_METHOD = ("over repeats: Student-t 95% CI with 3 or more repeats (clipped at 0), the range "
             "of the repeats with 2, none with 1")
POOLED_CI_METHOD = ("percentiles of the merged histograms: a 95% t-interval from the repeats' "
                    "own percentiles with 3 or more repeats, their range with 2")
METRICS = ["rps", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms"]
CONFIG_KEYS = POINT_KEYS
GROUP_KEYS = [*CONFIG_KEYS, "endpoint"]


def interval_label(n: int, confidence: float = CONFIDENCE) -> str:
    """What ``mean_interval`` gives for n repeats: "95% CI (t, n=5)", "range of 2", ..."""
    if n >= MIN_CI_REPEATS:
        return f"{confidence:.0%} CI (t, n={n})"
    return f"range of {n}" if n == 2 else f"n={n}, no interval"


def percentile_label(n: int, confidence: float = CONFIDENCE) -> str:
    """What ``percentile_intervals`` gives for n repeats."""
    if n >= MIN_CI_REPEATS:
        return f"{confidence:.0%} CI (t over the repeats' percentiles, n={n})"
    return f"range of {n} repeats" if n == 2 else f"n={n}, no interval"


def mean_interval(values: Sequence[float] | np.ndarray | pd.Series,
                  confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and its interval (low, high) over repeats; ``interval_label`` names it.

    3 or more values: the Student-t interval mean ± t(n-1) s / sqrt(n), its low end clipped at
    0 when every value is non-negative (clipping a bound at a value the mean cannot take keeps
    the coverage). 2 values: their range. 1 value: NaN bounds. No values: NaN.
    """
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(data.mean())
    if data.size < 2:
        return mean, math.nan, math.nan
    if data.size < MIN_CI_REPEATS:
        return mean, float(data.min()), float(data.max())
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    half = float(scipy_stats.t.ppf((1 + confidence) / 2, data.size - 1)) * float(
        data.std(ddof=1)) / math.sqrt(data.size)
    low = mean - half
    if (data >= 0).all():
        low = max(low, 0.0)
    return mean, low, mean + half


mean_ci = mean_interval  # the name the notebooks and earlier code use


def _steps(row: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A run's histogram as sorted (values in ms, counts): HDR when it has one, else Locust's."""
    hdr = row.get("hdr")
    if hdr is not None:
        # the counts array read directly: hdrh's recorded-value iterator is pure Python and
        # about 100 times slower; the values are the same (each bucket's highest equivalent)
        counts = np.ctypeslib.as_array(hdr.counts)[:hdr.counts_len]
        filled = np.flatnonzero(counts)
        pairs = [(hdr.get_highest_equivalent_value(hdr.get_value_from_index(int(i))) / 1000.0,
                  int(counts[i])) for i in filled]
    else:
        pairs = [(float(k), int(v)) for k, v in (row.get("histogram") or {}).items()]
    pairs.sort()
    return (np.array([p[0] for p in pairs], dtype=float),
            np.array([p[1] for p in pairs], dtype=float))


def _read(cumulative: np.ndarray, values: np.ndarray, fraction: float,
          locust_rule: bool) -> np.ndarray:
    """The percentile of each row of ``cumulative`` counts over ``values`` (the same rank rules
    as ``histograms.hdr_percentile`` and Locust's)."""
    total = cumulative[:, -1]
    # Locust's rule: the bucket of the request of rank floor(N p) + 1; HDR's: ceil(N p)
    rank = np.minimum(np.floor(total * fraction) + 1, total) if locust_rule else np.maximum(
        1, np.ceil(fraction * total - 1e-9))
    index = (cumulative < rank[:, None]).sum(axis=1)
    return values[np.minimum(index, values.size - 1)]


def percentile_intervals(group: pd.DataFrame, confidence: float = CONFIDENCE
                         ) -> dict[str, tuple[float, float]]:
    """Per percentile name, its interval over the repeats in ``group`` (rows of runs).

    3 or more repeats: a Student-t interval from the spread of the repeats' own percentiles,
    centred on the percentile of the merged histogram, merged ± t(n-1) s / sqrt(n) (low end
    clipped at 0). 2 repeats: the range of the two repeats' own percentiles. Fewer: NaN.
    ``percentile_label`` names it. Not a bootstrap: resampling 5 repeats held the true p95 in
    81% of simulated sweeps (88% expanded), this interval in 94-96% (analysis/README.md).
    """
    nan2 = (math.nan, math.nan)
    rows = [row for _, row in group.iterrows()]
    if len(rows) < 2:
        return {name: nan2 for name in PERCENTILES}
    locust_rule = not all(row.get("hdr") is not None for row in rows)
    if locust_rule:
        rows = [row.drop(labels=["hdr"], errors="ignore") for row in rows]
    steps = [_steps(row) for row in rows]
    values = np.unique(np.concatenate([v for v, _ in steps]))
    if values.size == 0:
        return {name: nan2 for name in PERCENTILES}
    counts = np.zeros((len(rows), values.size))
    for index, (v, c) in enumerate(steps):
        np.add.at(counts[index], np.searchsorted(values, v), c)
    counts = counts[counts.sum(axis=1) > 0]
    size = counts.shape[0]
    if size < 2:
        return {name: nan2 for name in PERCENTILES}
    own = np.cumsum(counts, axis=1)
    merged = np.cumsum(counts.sum(axis=0))[None, :]
    out = {}
    if size >= MIN_CI_REPEATS:
        from scipy import stats as scipy_stats  # imported here: scipy is slow to import

        t = float(scipy_stats.t.ppf((1 + confidence) / 2, size - 1))
    for name, fraction in PERCENTILES.items():
        found = _read(own, values, fraction, locust_rule)
        if size < MIN_CI_REPEATS:
            out[name] = (float(found.min()), float(found.max()))
            continue
        centre = float(_read(merged, values, fraction, locust_rule)[0])
        half = t * float(found.std(ddof=1)) / math.sqrt(size)
        out[name] = (max(centre - half, 0.0), centre + half)
    return out


def config_status(statuses: Sequence[str]) -> str:
    """The status of a configuration: ``valid`` only when every repeat is, else the worst."""
    return verdicts.worst(statuses)  # valid ranks last: it is the worst only when all are valid


def status_counts(statuses: Sequence[str]) -> str:
    """``"valid 3/3"`` or ``"valid 1/3, generator-bound 2/3"``."""
    found = list(statuses)
    counts = pd.Series(found).value_counts(sort=False)
    order = sorted(counts.index, key=lambda s: (s != "valid", s))
    return ", ".join(f"{status} {int(counts[status])}/{len(found)}" for status in order)


def with_backend(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a column per series dimension (`backend`, `service_cpu`, `rtt_delay`,
    `payload`: runmodel's registry); rows made before a dimension existed have its default
    (memory, none, none, small)."""
    missing = {name: DEFAULTS[name] for name in EXTRA_KEYS if name not in frame.columns}
    return frame.assign(**missing) if missing else frame


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
    return measured_spread(points, metric)[0]


def measured_spread(points: pd.DataFrame, metric: str) -> tuple[float, int]:
    """``relative_spread`` and its degrees of freedom, sum(n_i - 1) (0 when unmeasured)."""
    rows = trusted_points(points)
    weighted, freedom = 0.0, 0
    for _, group in rows.groupby(CONFIG_KEYS):
        data = group[metric].to_numpy(dtype=float)
        data = data[~np.isnan(data)]
        if data.size < 2 or data.mean() <= 0:
            continue
        weighted += (data.size - 1) * float(data.var(ddof=1)) / float(data.mean()) ** 2
        freedom += data.size - 1
    return (math.sqrt(weighted / freedom), freedom) if freedom else (math.nan, 0)


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
    has ``<metric>`` (mean over repeats) and ``<metric>_lo``/``_hi`` (``mean_interval``), named
    by ``interval``. ``pooled_<pXX>_ms`` is read off the merged histogram of all the repeats
    (exact merge, not an average of percentiles), with ``pooled_<pXX>_ms_lo``/``_hi`` its
    interval over repeats (``percentile_intervals``), named by ``percentile_interval``;
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
        # requests open at the windows' ends, over the repeats (runmodel.censoring: which
        # pooled percentiles are lower bounds); NaN where no repeat recorded them
        for column in ("censored_open", *(f"censored_older_{n}" for n in ("p50", "p95", "p99"))):
            row[column] = (float(group[column].sum(min_count=1)) if column in group
                           else math.nan)
        for metric in METRICS:
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = mean_interval(
                group[metric], confidence)
        row["interval"] = interval_label(len(group), confidence)
        row["percentile_interval"] = percentile_label(len(group), confidence)
        requests = int(group["requests"].sum())
        weighted = float((group["mean_ms"] * group["requests"]).sum())
        row["pooled_mean_ms"] = weighted / requests if requests else math.nan
        pooled, source = pooled_percentiles(group, confidence)
        over_repeats = percentile_intervals(group, confidence) if requests else {}
        for name in PERCENTILES:
            value = pooled.get(name, (math.nan, math.nan, math.nan))[0]
            low, high = over_repeats.get(name, (math.nan, math.nan))
            row[f"pooled_{name}_ms"] = value if requests else math.nan
            # the merged figure lies within its repeats' spread; bucket edges may differ
            row[f"pooled_{name}_ms_lo"] = min(low, value) if requests else math.nan
            row[f"pooled_{name}_ms_hi"] = max(high, value) if requests else math.nan
        row["latency_source"] = source
        locust = merge(group["histogram"])
        for name, fraction in PERCENTILES.items():  # Locust's own figure, as a cross-check
            row[f"pooled_locust_{name}_ms"] = percentile(locust, fraction) if requests else (
                math.nan)
        for column in ("gen_cpu_mean", "gen_cpu_max", "service_cpu_mean", "processes", "think_s"):
            row[column] = float(group[column].mean())
        rows.append(row)
    return pd.DataFrame(rows)
