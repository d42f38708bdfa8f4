"""Locust ``wait_time`` functions for the pacing specs of ``scenarios/pacing.py``.

``poisson:RPS`` schedules each user's arrivals against its own clock: arrival times are a running
sum of exponential gaps, and after each task the user sleeps until its next arrival. Unlike
Locust's ``poisson()`` (an exponential wait *after* each response, so slow responses lower the
rate), the offered rate stays at RPS per user while the responses are faster than the gaps.
How it degrades: a user is one greenlet with one request in flight, so an arrival that falls due
while the previous request is still running starts late (at once, when that request ends).
The schedule is kept, so a user that fell behind sends back to back until it catches up, and the
mean rate is kept over the run as long as the service and the generator can catch up. When they
cannot (response time above 1/RPS, or a saturated generator), the user degrades into a closed
loop at its maximum speed. Each process counts its late arrivals and logs them at test stop
(see ``PoissonLateness``): many late arrivals mean the run was not an open load.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from locust import User, between, constant, constant_throughput

WaitTime = Callable[[Any], float]

LATE_TOLERANCE_S = 0.001  # an arrival started this much after its time is not counted late


@dataclass
class PoissonLateness:
    """Per-process counters of scheduled Poisson arrivals that started late."""

    arrivals: int = 0
    late: int = 0
    total_lag_s: float = 0.0
    max_lag_s: float = 0.0

    def reset(self) -> None:
        self.arrivals = self.late = 0
        self.total_lag_s = self.max_lag_s = 0.0

    def summary(self) -> str:
        if not self.arrivals:
            return "poisson pacing: no arrivals scheduled"
        mean_lag_ms = 1000 * self.total_lag_s / self.late if self.late else 0.0
        return (
            f"poisson pacing: {self.late} of {self.arrivals} arrivals "
            f"({100 * self.late / self.arrivals:.1f}%) started late, "
            f"mean lag {mean_lag_ms:.1f} ms, max lag {1000 * self.max_lag_s:.1f} ms"
        )


LATENESS = PoissonLateness()


def _no_wait(user: Any) -> float:
    return 0.0


def scheduled_poisson(per_user_rps: float, lateness: PoissonLateness = LATENESS) -> WaitTime:
    """Exponential inter-arrival times, scheduled against each user's clock."""
    if per_user_rps <= 0:
        raise ValueError(f"scheduled_poisson needs a positive rate, got {per_user_rps}")
    expovariate = random.expovariate
    clock = time.monotonic

    def wait_time(user: Any) -> float:
        now = clock()
        last_arrival = user.__dict__.get("_poisson_arrival", now)
        arrival = last_arrival + expovariate(per_user_rps)
        user._poisson_arrival = arrival
        lateness.arrivals += 1
        delay = arrival - now
        if delay >= -LATE_TOLERANCE_S:
            return max(delay, 0.0)
        lateness.late += 1
        lateness.total_lag_s -= delay
        lateness.max_lag_s = max(lateness.max_lag_s, -delay)
        return 0.0

    return wait_time


def wait_time_for(pacing: dict[str, Any]) -> WaitTime:
    """The ``wait_time`` function for a parsed pacing dict."""
    kind = pacing["kind"]
    if kind == "none":
        return _no_wait
    if kind == "locust-default":
        return User.__dict__["wait_time"]
    if kind == "constant":
        return constant(float(pacing["seconds"]))
    if kind == "between":
        return between(float(pacing["min_s"]), float(pacing["max_s"]))
    if kind == "rate" and pacing.get("poisson"):
        return scheduled_poisson(float(pacing["per_user_rps"]))
    if kind == "rate":
        return constant_throughput(float(pacing["per_user_rps"]))
    raise ValueError(f"unknown pacing kind {kind!r}")
