"""Response-time histograms: HDR (microseconds) and Locust's own; exact merges and percentiles.

Schema-2 runs carry HDR histograms (``hdrhistogram``, 3 significant digits, microsecond
resolution, one per endpoint, results/README.md): every percentile the suite prints, plots and
checks comes from them. Locust's own histogram (about two significant digits: whole
milliseconds below 100 ms) stays as a cross-check, and is the fallback for schema-1 runs.
Adding the counts of two histograms gives exactly the histogram of both runs together, so
repeats, processes and endpoints merge without the error averaging percentiles would bring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from hdrh.histogram import HdrHistogram

from runmodel.percentiles import (
    HDR_DIGITS,
    HDR_HIGHEST_US,
    HDR_LOWEST_US,
    PERCENTILES,
    hdr_query_percent,
    locust_percentile,
    nearest_rank,
)

Histogram = dict[int, int]
SOURCE_HDR = "HDR histogram (µs, 3 significant digits)"
SOURCE_LOCUST = "Locust's histogram (ms buckets; schema-1 run, no HDR)"


def to_histogram(raw: Mapping[str, int] | Mapping[int, int]) -> Histogram:
    """A histogram from Locust's JSON form (``{"12": 3}``), keys as whole milliseconds."""
    return {int(float(key)): int(count) for key, count in raw.items() if int(count) > 0}


def merge(histograms: Iterable[Mapping[int, int]]) -> Histogram:
    """The Locust histogram of all requests counted in ``histograms``."""
    merged: Histogram = {}
    for histogram in histograms:
        for bucket, count in histogram.items():
            merged[bucket] = merged.get(bucket, 0) + count
    return merged


def percentile(histogram: Mapping[int, int], fraction: float) -> float:
    """The response time (ms) that ``fraction`` of the requests finished within (Locust's).

    The same rule as Locust's ``calculate_response_time_percentile``
    (``runmodel.percentiles.locust_percentile``), so a percentile taken here from Locust's
    histogram equals the one Locust prints. NaN for an empty histogram.
    """
    return locust_percentile(histogram, fraction)


def percentiles(histogram: Mapping[int, int]) -> dict[str, float]:
    """The standard percentiles (p50, p90, p95, p99) of a Locust histogram, in milliseconds."""
    return {name: percentile(histogram, fraction) for name, fraction in PERCENTILES.items()}


def new_hdr() -> HdrHistogram:
    """An empty HDR histogram in the suite's settings (1 µs to one hour, 3 digits)."""
    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_DIGITS)


def decode_hdr(encoded: str) -> HdrHistogram:
    """An HDR histogram from its standard compressed base64 form (``HISTFAAA...``)."""
    histogram = new_hdr()
    histogram.decode_and_add(encoded)
    return histogram


def encode_hdr(histogram: HdrHistogram) -> str:
    """The standard compressed base64 form of an HDR histogram."""
    return bytes(histogram.encode()).decode("ascii")


def merge_hdr(histograms: Iterable[HdrHistogram | None]) -> HdrHistogram:
    """The HDR histogram of all requests in ``histograms`` (exact: counts add)."""
    merged = new_hdr()
    for histogram in histograms:
        if histogram is not None and histogram.get_total_count():
            merged.add(histogram)
    return merged


def hdr_percentile(histogram: HdrHistogram, fraction: float) -> float:
    """The ``fraction`` percentile in milliseconds: the nearest-rank value, to HDR precision.

    The value HDR reports is the top of the bucket holding the request of rank
    ceil(fraction x N), within 0.1% (3 significant digits) of that request's response time.
    """
    total = histogram.get_total_count()
    if total == 0:
        return math.nan
    return _hdr_value_at_rank(histogram, nearest_rank(total, fraction))


def _hdr_value_at_rank(histogram: HdrHistogram, rank: int) -> float:
    total = histogram.get_total_count()
    return float(histogram.get_value_at_percentile(hdr_query_percent(rank, total))) / 1000.0


def _locust_value_at_rank(histogram: Mapping[int, int], rank: int) -> float:
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return float(bucket)
    return float(max(histogram)) if histogram else math.nan


def rank_interval(total: int, fraction: float, confidence: float) -> tuple[int, int]:
    """1-based ranks (low, high) that bracket the ``fraction`` quantile with ``confidence``.

    Distribution-free: the number of requests below the true quantile is Binomial(N, p).
    """
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    tail = (1 - confidence) / 2
    low = int(scipy_stats.binom.ppf(tail, total, fraction))
    high = int(scipy_stats.binom.ppf(1 - tail, total, fraction)) + 1
    return max(low, 1), min(high, total)


def percentile_interval(histogram: HdrHistogram | Mapping[int, int], fraction: float,
                        confidence: float = 0.95) -> tuple[float, float]:
    """Order-statistic interval (ms) for the ``fraction`` quantile of a histogram's requests."""
    if isinstance(histogram, HdrHistogram):
        total = histogram.get_total_count()
        if total == 0:
            return math.nan, math.nan
        low, high = rank_interval(total, fraction, confidence)
        return _hdr_value_at_rank(histogram, low), _hdr_value_at_rank(histogram, high)
    total = sum(histogram.values())
    if total == 0:
        return math.nan, math.nan
    low, high = rank_interval(total, fraction, confidence)
    return _locust_value_at_rank(histogram, low), _locust_value_at_rank(histogram, high)


def pooled_percentiles(rows: Any, confidence: float = 0.95
                       ) -> tuple[dict[str, tuple[float, float, float]], str]:
    """Percentiles (value, low, high) in ms of the merged histograms of ``rows`` and the source.

    ``rows`` is a frame of run rows: HDR when every row has one (``hdr`` column), else
    Locust's histograms (``histogram`` column), labelled as such.
    """
    hdrs = list(rows["hdr"]) if "hdr" in rows else []
    if hdrs and all(h is not None for h in hdrs):
        merged = merge_hdr(hdrs)
        out = {name: (hdr_percentile(merged, fraction),
                      *percentile_interval(merged, fraction, confidence))
               for name, fraction in PERCENTILES.items()}
        return out, SOURCE_HDR
    locust = merge(rows["histogram"])
    out = {name: (percentile(locust, fraction), *percentile_interval(locust, fraction,
                                                                        confidence))
           for name, fraction in PERCENTILES.items()}
    return out, SOURCE_LOCUST
