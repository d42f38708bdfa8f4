"""Little's law for a closed loop of users: N = X x (R + Z).

N users, each cycling through a request (response time R) and a think time Z, complete
X = N / (R + Z) requests per second. The runner's verdict checks it on every closed-model point
(a user whose time goes neither to its request nor to its think time was held by the generator);
the report prints it per point. Both use these helpers, so they compute the same residual.

The *residual* is (N - X x (R + Z)) / N: the share of the users' time spent outside their
requests and think time. Positive: the users were busy elsewhere (Locust's own work, or its
greenlets waiting to run); negative (more in flight than users): the window's count or times
are not the window's. ``TOLERANCE`` is the verdict's default bound (results/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["CLOSED_PACINGS", "TOLERANCE", "closed_model", "completed_residual", "cycle_s",
           "in_flight", "residual", "think_time"]

TOLERANCE = 0.15  # |residual| of a closed-model point that still passes
# Pacings under which each user sends its next request as soon as it can: Little's law with no
# think time (locust-default: the locustfile's own wait, none in this suite's classes).
CLOSED_PACINGS = ("none", "locust-default")


def closed_model(pacing_kind: object) -> bool:
    """True for a pacing with no think time, where N = X x R must hold."""
    return str(pacing_kind) in CLOSED_PACINGS


def think_time(pacing: Mapping[str, Any]) -> float:
    """Mean seconds a user waits between requests under a pacing (run.json ``params.pacing``);
    NaN when it is not known here (``rate``: the wait depends on the response time;
    ``locust-default`` and newer kinds: the locustfile's own wait_time)."""
    kind = pacing.get("kind", "none")
    if kind == "none":
        return 0.0
    if kind == "constant":
        return float(pacing["seconds"])
    if kind == "between":
        return (float(pacing["min_s"]) + float(pacing["max_s"])) / 2
    return math.nan


def cycle_s(mean_ms: float, think_s: float, per_user_rps: float | None = None) -> float:
    """One user's cycle in seconds: response time plus think time, or, for a rate-paced user,
    1 / its rate (the pacing fixes the cycle; the check then shows whether it kept up)."""
    if per_user_rps is not None and per_user_rps == per_user_rps:
        return 1.0 / per_user_rps if per_user_rps > 0 else math.nan
    return mean_ms / 1000.0 + think_s


def in_flight(rps: float, mean_ms: float, think_s: float = 0.0) -> float:
    """X x (R + Z): the users Little's law says were busy, from throughput and times."""
    return rps * cycle_s(mean_ms, think_s)


def residual(users: float, busy: float) -> float:
    """(users - busy) / users; NaN without users."""
    if not users or users != users:
        return math.nan
    return (users - busy) / users


def completed_residual(users: int, rps: float | None, mean_ms: float | None) -> float | None:
    """The closed model's residual over the completed requests, with no think time, rounded
    to 4 digits (run.json ``verdict.evidence.littles_law.residual``); None when a figure is
    missing."""
    if not users or rps is None or mean_ms is None:
        return None
    return round(residual(users, in_flight(rps, mean_ms)), 4)
