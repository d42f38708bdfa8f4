"""When the measured window opens, and (``--duration auto``) when it has measured enough.

Two pure rules on per-slice or per-second request counts, used live by ``_auto_window.py`` in
the Locust process and tested on simulated series:

- :func:`throughput_settled`: the last ``CONSECUTIVE`` slices (``SLICE_S`` each) of completed
  requests after spawning completed lie within a tolerance of their mean. The tolerance is
  ``TOLERANCE`` (10%) or the noise of a count of that size (``NOISE_SIGMAS`` / sqrt(mean)),
  whichever is larger: a slice of 4 requests cannot resolve 10%. Slices that still rise (or
  fall) at every step by more than ``TOLERANCE`` in all are not settled, whatever the noise.
- :func:`batch_means`: the 95% t-interval of the window's mean per-second throughput from batch
  means (the window's whole seconds cut into at most ``BATCHES`` equal batches; the batch means
  are closer to independent than single seconds). :func:`auto_stop` ends an auto window once
  the interval's half-width is within ``TARGET`` (±5%) of the mean, never before the minimum
  window, always at the maximum.

The accept queue the settle rule waits on is read by ``_sockets.accept_queue`` (the kernel's
``/proc/net/tcp``), the same reader the runner's evidence uses at the window's edges.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import Any

WINDOW_ENV = "LOADBENCH_WINDOW"  # the runner's request to a Locust process (_auto_window.py)
OPENING_MARKER = "loadbench: the window opens"  # log lines: before the stats reset
OPENED_MARKER = "loadbench: window open"  # after it
CLOSED_MARKER = "loadbench: window closed"  # the window's end, before Locust quits
SLICE_S = 0.25  # the settle rule's slice of time
CONSECUTIVE = 4  # slices that must agree: the window opens 1 s after spawning at the soonest
TOLERANCE = 0.10  # each slice within 10% of the slices' mean ...
NOISE_SIGMAS = 2.0  # ... or within 2 sqrt(mean) requests, when that is wider
SETTLE_MAX_S = 5.0  # the longest wait for a settled ramp (the runner may choose shorter)
TARGET = 0.05  # --duration auto: the interval's half-width, relative to the mean
CONFIDENCE = 0.95
BATCHES = 10  # at most this many batch means
MIN_BATCHES = 5  # fewer cannot give a usable interval (t of 4 degrees of freedom: 2.78)
INTERVAL_LABEL = "95% t-interval of the mean per-second throughput, from batch means"

# Student's t, two-sided 95% (the 0.975 quantile), by degrees of freedom
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)



def t975(degrees: int) -> float:
    """Student's t quantile 0.975 (a two-sided 95% interval) at ``degrees`` of freedom."""
    if degrees < 1:
        raise ValueError("at least one degree of freedom")
    return _T975[degrees - 1] if degrees <= len(_T975) else 1.960 + 2.4 / degrees


@dataclass(frozen=True)
class Settling:
    """The settle rule's reading of the latest slices."""

    settled: bool
    mean: float | None  # requests per slice over the last CONSECUTIVE slices
    spread: float | None  # the largest slice's distance from that mean, relative to it
    allowed: float | None  # the tolerance it was held to

    def to_dict(self) -> dict[str, Any]:
        return {"settled": self.settled,
                "mean_per_slice": None if self.mean is None else round(self.mean, 2),
                "spread": None if self.spread is None else round(self.spread, 4),
                "allowed": None if self.allowed is None else round(self.allowed, 4)}


def throughput_settled(counts: Sequence[float], consecutive: int = CONSECUTIVE,
                       tolerance: float = TOLERANCE,
                       noise_sigmas: float = NOISE_SIGMAS) -> Settling:
    """Whether the last ``consecutive`` slice ``counts`` agree (see the module's docstring)."""
    if len(counts) < consecutive:
        return Settling(False, None, None, None)
    last = [float(c) for c in counts[-consecutive:]]
    mean = fmean(last)
    if mean <= 0:
        return Settling(False, mean, None, None)
    allowed = max(tolerance, noise_sigmas / math.sqrt(mean))
    spread = max(abs(c - mean) for c in last) / mean
    steps = [b - a for a, b in itertools.pairwise(last)]
    trending = (all(step > 0 for step in steps) or all(step < 0 for step in steps)) and abs(
        last[-1] - last[0]) > tolerance * mean  # still rising (or falling) by more than 10%
    return Settling(spread <= allowed and not trending, mean, spread, allowed)


def batch_means(per_second: Sequence[float], batches: int = BATCHES,
                min_batches: int = MIN_BATCHES) -> dict[str, Any] | None:
    """The ``INTERVAL_LABEL`` interval of ``per_second`` (requests in each whole second of the
    window): its mean, half-width (absolute and relative), the batches and their size. None
    with fewer than ``min_batches`` seconds. The earliest seconds that do not fill a batch are
    left out of the interval (not out of the window)."""
    count = min(batches, len(per_second))
    if count < min_batches:
        return None
    size = len(per_second) // count
    used = per_second[len(per_second) - count * size:]
    means = [fmean(used[i * size:(i + 1) * size]) for i in range(count)]
    mean = fmean(means)
    half = t975(count - 1) * stdev(means) / math.sqrt(count)
    return {"interval": INTERVAL_LABEL, "confidence": CONFIDENCE, "mean_rps": round(mean, 3),
            "half_width_rps": round(half, 3),
            "relative_half_width": round(half / mean, 4) if mean > 0 else None,
            "batches": count, "batch_seconds": size, "seconds": len(per_second)}


def auto_stop(elapsed_s: float, per_second: Sequence[float], min_s: float, max_s: float,
              target: float = TARGET) -> tuple[str | None, dict[str, Any] | None]:
    """Whether an auto window that has run ``elapsed_s`` stops now: ``("converged", interval)``
    once past ``min_s`` with the interval within ``target``; ``("max", interval)`` at
    ``max_s``; else ``(None, interval)``."""
    interval = batch_means(per_second)
    if elapsed_s >= max_s:
        return "max", interval
    if elapsed_s < min_s or interval is None:
        return None, interval
    relative = interval["relative_half_width"]
    return ("converged" if relative is not None and relative <= target else None), interval
