"""Percentile rules: Locust's own, and the nearest-rank convention of the HDR histograms.

Locust's rule (``locust.stats.calculate_response_time_percentile``) walks its histogram of
whole-millisecond buckets (about two significant digits) from the top, so a percentile read here
from a Locust histogram equals the one Locust prints. The suite's own percentiles come from HDR
histograms (``hdrhistogram``: 1 µs to one hour, 3 significant digits, results/README.md): the
value of the request of rank ceil(p x N), to HDR's precision. This module holds the rules and
the settings; the histogram objects live with their users (runmodel imports no third-party
package).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["HDR_DIGITS", "HDR_HIGHEST_US", "HDR_LOWEST_US", "PERCENTILES", "hdr_query_percent",
           "locust_percentile", "nearest_rank"]

# The percentiles the suite reports, by name.
PERCENTILES: dict[str, float] = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}

# The HDR histograms' settings: 1 µs to one hour, 3 significant digits.
HDR_LOWEST_US = 1
HDR_HIGHEST_US = 3_600_000_000
HDR_DIGITS = 3


def locust_percentile(histogram: Mapping[int, int], fraction: float) -> float:
    """The response time (ms) that ``fraction`` of the requests finished within, by Locust's
    rule over a histogram of whole-millisecond buckets (``{bucket_ms: count}``); NaN when empty.
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


def nearest_rank(total: int, fraction: float) -> int:
    """The 1-based rank of the ``fraction`` percentile among ``total`` requests:
    ceil(fraction x total), at least 1 and at most ``total`` (a float's rounding forgiven)."""
    return max(1, min(total, math.ceil(fraction * total - 1e-9)))


def hdr_query_percent(rank: int, total: int) -> float:
    """The percentile (0-100) to ask an HDR histogram for the value of the request of ``rank``
    (``get_value_at_percentile``); its answer in µs is that request's time to 3 digits."""
    rank = min(max(rank, 1), total)
    return 100.0 * rank / total
