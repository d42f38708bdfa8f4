"""Steady state: did the window's per-second throughput or latency drift while it was measured?

A mean over a window describes the service only when the window is one state of it. A service
that slows down (a cache filling, a table growing, a queue building behind a saturated envelope)
or a generator still ramping gives a mean that belongs to no moment of the window. The test is
the window's halves compared against their own noise: the window drifts in a series when its
second half differs from its first by more than ``relative`` of the series' mean *and* by more
than ``z`` standard errors of that difference (Welch). Both are needed: on a quiet machine a 2%
drift is significant and immaterial; on a noisy one a 15% difference between halves can be noise.

The per-second series come from Locust's stats history (``locust_stats_history.csv``, one
``Aggregated`` row a second): throughput is the growth of the total request count, latency the
growth of the total response time divided by it. A window with fewer than ``MIN_SECONDS`` whole
seconds is not tested (the evidence says so): six seconds are the fewest whose halves each have
a standard deviation from three values.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, stdev
from typing import Any

MIN_SECONDS = 6
RELATIVE = 0.10  # the drift must exceed this share of the series' mean
Z = 3.0  # and this many standard errors of the difference between the halves


@dataclass(frozen=True)
class WindowSecond:
    """One second of the window: requests completed in it and their mean response time."""

    t: float
    requests: int
    mean_ms: float | None


def window_seconds(history: Path, start: float, end: float) -> list[WindowSecond]:
    """Per-second requests and mean latency of the Aggregated rows inside [start, end]."""
    rows: list[tuple[float, int, float]] = []
    try:
        with history.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("Name") != "Aggregated":
                    continue
                try:
                    rows.append((float(row["Timestamp"]), int(row["Total Request Count"]),
                                 float(row["Total Average Response Time"])))
                except (KeyError, TypeError, ValueError):
                    continue
    except OSError:
        return []
    rows.sort()
    seconds: list[WindowSecond] = []
    for (t0, n0, avg0), (t1, n1, avg1) in itertools.pairwise(rows):
        if t0 < start - 0.5 or t1 > end + 0.5 or t1 <= t0 or n1 < n0:
            continue  # outside the window, or across a stats reset
        done = n1 - n0
        total_ms = avg1 * n1 - avg0 * n0
        mean = total_ms / done if done > 0 and total_ms >= 0 else None
        seconds.append(WindowSecond(t1, round(done / (t1 - t0)), mean))
    return seconds


def compare_halves(values: list[float], relative: float = RELATIVE,
                   z: float = Z) -> dict[str, Any]:
    """The halves of ``values`` compared: their means, the change, its noise, and the finding."""
    half = len(values) // 2
    first, second = values[:half], values[len(values) - half:]
    mean = fmean(values)
    m1, m2 = fmean(first), fmean(second)
    se = math.sqrt(stdev(first) ** 2 / len(first) + stdev(second) ** 2 / len(second))
    change = (m2 - m1) / mean if mean else 0.0
    drifts = abs(m2 - m1) > relative * abs(mean) and abs(m2 - m1) > z * se
    return {"first_half_mean": round(m1, 3), "second_half_mean": round(m2, 3),
            "relative_change": round(change, 4), "standard_error": round(se, 3),
            "drifts": drifts}


def steady_state(seconds: list[WindowSecond], relative: float = RELATIVE,
                 z: float = Z) -> dict[str, Any]:
    """run.json's ``steady_state`` block: tested or not, and each series' halves."""
    evidence: dict[str, Any] = {"seconds": len(seconds), "relative_threshold": relative,
                                "z": z, "tested": len(seconds) >= MIN_SECONDS}
    if not evidence["tested"]:
        evidence["note"] = (f"{len(seconds)} whole seconds in the window: at least "
                            f"{MIN_SECONDS} are needed to test its halves")
        return evidence
    evidence["throughput"] = compare_halves([float(s.requests) for s in seconds], relative, z)
    latencies = [s.mean_ms for s in seconds if s.mean_ms is not None]
    if len(latencies) >= MIN_SECONDS:
        evidence["latency"] = compare_halves(latencies, relative, z)
    evidence["drifting"] = [name for name in ("throughput", "latency")
                            if evidence.get(name, {}).get("drifts")]
    return evidence
