"""Locust response-time histograms: merge them exactly and read percentiles off them.

Locust records each response time rounded to about two significant digits (whole milliseconds
below 100 ms) and counts how many requests fell in each bucket. Adding the counts of two
histograms gives exactly the histogram of both runs together, so repeats and endpoints merge
without the error that averaging percentiles would bring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

Histogram = dict[int, int]

PERCENTILES: dict[str, float] = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}


def to_histogram(raw: Mapping[str, int] | Mapping[int, int]) -> Histogram:
    """A histogram from Locust's JSON form (``{"12": 3}``), keys as whole milliseconds."""
    return {int(float(key)): int(count) for key, count in raw.items() if int(count) > 0}


def merge(histograms: Iterable[Mapping[int, int]]) -> Histogram:
    """The histogram of all requests counted in ``histograms``."""
    merged: Histogram = {}
    for histogram in histograms:
        for bucket, count in histogram.items():
            merged[bucket] = merged.get(bucket, 0) + count
    return merged


def percentile(histogram: Mapping[int, int], fraction: float) -> float:
    """The response time (ms) that ``fraction`` of the requests finished within.

    The same rule as Locust's ``calculate_response_time_percentile``, so a percentile taken
    here from Locust's histogram equals the one Locust prints. NaN for an empty histogram.
    """
    total = sum(histogram.values())
    if total == 0:
        return math.nan
    allowed_above = int(total * fraction)
    processed = 0
    for bucket in sorted(histogram, reverse=True):
        processed += histogram[bucket]
        if total - processed <= allowed_above:
            return float(bucket)
    return 0.0


def percentiles(histogram: Mapping[int, int]) -> dict[str, float]:
    """The standard percentiles (p50, p90, p95, p99) of a histogram, in milliseconds."""
    return {name: percentile(histogram, fraction) for name, fraction in PERCENTILES.items()}
