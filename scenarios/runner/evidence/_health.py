"""The generator-health signals behind a verdict, each a pure function of recorded evidence.

Every signal is independent of the others, so a distorted run cannot pass by looking fine on
one of them: CPU per Locust process (mean, and the share of the window at or above the
threshold), CPU taken from the generator's CPUs by other processes, the event loop's lateness
in every Locust process, how well the window is covered by samples, and, for closed-model
points, Little's law. results/README.md documents each figure; the thresholds and the
measurements behind them are in results/README.md too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from runmodel.littles_law import completed_residual


@dataclass(frozen=True)
class CpuSample:
    t: float
    role: str  # "generator" or "service"
    pid: int
    name: str
    cpu_percent: float
    cpus: str = ""
    in_window: bool = True


@dataclass(frozen=True)
class LatenessSecond:
    """One wall-clock second of a Locust process's event-loop probe
    (scenarios/instrumentation/_loop_probe.py)."""

    second: int
    wakeups: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def required_samples(window_s: float | None, minimum: int) -> int:
    """At least one sample per whole second of the window, and never fewer than ``minimum``."""
    return max(minimum, math.floor(window_s or 0.0))


def generator_cpu(samples: list[CpuSample], threshold: float,
                  window_s: float | None = None, minimum: int = 3) -> dict[str, dict[str, Any]]:
    """Per generator process: mean, max, share of samples at or above ``threshold``, coverage."""
    by_name: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        if sample.role == "generator" and sample.in_window:
            by_name[sample.name].append(sample.cpu_percent)
    need = required_samples(window_s, minimum)
    return {
        name: {"mean_percent": round(fmean(values), 1), "max_percent": round(max(values), 1),
               "samples": len(values), "required_samples": need,
               "share_at_or_above_threshold": round(
                   sum(1 for v in values if v >= threshold) / len(values), 3)}
        for name, values in by_name.items()
    }


def foreign_cpu(samples: list[CpuSample], host: list[tuple[float, float]],
                cpu_count: int) -> dict[str, Any] | None:
    """CPU the generator's CPUs gave to other processes, in percent of one core, per sample.

    ``host`` holds (t, mean busy percent of the generator's CPUs) for the in-window samples;
    Locust's own share at the same instant (all its processes, host-level) is subtracted.
    """
    if not host or cpu_count <= 0:
        return None
    own: dict[float, float] = defaultdict(float)
    for sample in samples:
        if sample.role == "generator" and sample.in_window:
            own[round(sample.t, 3)] += sample.cpu_percent
    values = [max(0.0, busy * cpu_count - own.get(round(t, 3), 0.0)) for t, busy in host]
    return {"mean_percent": round(fmean(values), 1), "max_percent": round(max(values), 1),
            "samples": len(values), "per_sample_percent": [round(v, 1) for v in values]}


def loop_lateness(lateness: dict[str, list[LatenessSecond]], late_ms: float,
                  window: tuple[float, float] | None) -> dict[str, dict[str, Any]]:
    """Per Locust process: per-second p50/p99/max lateness within the window, and late seconds.

    A second is in the window when it lies wholly inside it; a second is *late* when its p99
    lateness is at or above ``late_ms``.
    """
    result: dict[str, dict[str, Any]] = {}
    for name, seconds in lateness.items():
        inside = [s for s in seconds if window is None
                  or (s.second >= window[0] - 0.001 and s.second + 1 <= window[1] + 0.001)]
        late = sum(1 for s in inside if s.p99_ms >= late_ms)
        result[name] = {
            "seconds": len(inside), "late_seconds": late,
            "late_share": round(late / len(inside), 3) if inside else None,
            "worst_p99_ms": max((s.p99_ms for s in inside), default=None),
            "max_ms": max((s.max_ms for s in inside), default=None),
            "p50_ms": [s.p50_ms for s in inside], "p99_ms": [s.p99_ms for s in inside],
            "per_second_max_ms": [s.max_ms for s in inside],
            "wakeups": [s.wakeups for s in inside],
        }
    return result


def littles_residual(users: int, rps: float | None, mean_ms: float | None) -> float | None:
    """Closed model without think time: (users - rps x mean response time) / users
    (``runmodel.littles_law.completed_residual``, which the report's check shares).

    Positive: the users spent that share of the window outside their measured requests
    (Locust's own work between requests, or its greenlets waiting to run).
    """
    return completed_residual(users, rps, mean_ms)
