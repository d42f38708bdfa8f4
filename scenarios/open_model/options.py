"""The open model's command-line options, registered with Locust's parser (also ``LOCUST_*``
variables and ``locust.conf`` keys), and their resolution into an ``OpenModelConfig``.

``--arrival-rate R`` (iterations per second, over all processes) or ``--arrival-stages`` turns
the open model on; without either, the locustfile runs its closed loop as before. The pool of
users is ``--max-users`` (all processes together; Locust's ``--users`` is set to it), by default
``ceil(peak rate × --expected-latency × HEADROOM)``, at least ``MIN_POOL``.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any

from scenarios.open_model.schedule import (
    DISTRIBUTIONS,
    RateProfile,
    ScheduleError,
    parse_rate,
    parse_stages,
)

HEADROOM = 2.0
MIN_POOL = 10
DEFAULT_EXPECTED_LATENCY_MS = 100.0
DEFAULT_SEED = 1


@dataclass(frozen=True)
class OpenModelConfig:
    """The open model of one test, resolved and checked."""

    profile: RateProfile
    distribution: str
    max_users: int
    max_users_given: bool
    expected_latency_s: float
    seed: int
    max_backlog: int = 0

    @property
    def minimum_pool(self) -> int:
        """Little's law: the users busy on average at the peak rate and the expected latency."""
        return math.ceil(self.profile.peak_rate * self.expected_latency_s)

    def describe(self) -> str:
        if self.profile.stages:
            stages = ",".join(f"{s.rate:g}:{s.seconds:g}s" for s in self.profile.stages)
            rate = f"from {self.profile.start_rate:g}/s, stages {stages}"
        else:
            rate = f"{self.profile.start_rate:g}/s"
        return (f"open model {rate}, {self.distribution} arrivals, pool of {self.max_users} "
                f"users{'' if self.max_users_given else ' (default)'}, backlog of at most "
                f"{self.max_backlog} arrivals, seed {self.seed}")


def default_pool(peak_rate: float, expected_latency_s: float) -> int:
    """Little's law with headroom: ``ceil(peak × latency × HEADROOM)``, at least MIN_POOL."""
    return max(MIN_POOL, math.ceil(peak_rate * expected_latency_s * HEADROOM))


def _checked(parse: Any) -> Any:
    def check(text: str) -> str:
        if str(text).strip():
            try:
                parse(str(text))
            except (ScheduleError, ValueError) as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return text
    return check


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"{text!r} must be at least 1")
    return value


def _backlog(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 1_000_000:
        raise ValueError(f"{text!r} must be 0..1000000 arrivals")
    return value


def _latency_ms(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{text!r} must be a positive number of milliseconds")
    return value


def add_arguments(parser: Any) -> None:
    """Register the open model's options on Locust's parser."""
    group = parser.add_argument_group("open model (scenarios/open_model)")
    group.add_argument(
        "--arrival-rate", env_var="LOCUST_ARRIVAL_RATE", default="", type=_checked(parse_rate),
        help="open model: iterations per second over all processes (each a task of the mix); "
             "with --arrival-stages, the rate the first stage ramps from (default: closed model)")
    group.add_argument(
        "--arrival-stages", env_var="LOCUST_ARRIVAL_STAGES", default="",
        type=_checked(parse_stages),
        help="open model, ramping: RATE:DURATION,... each ramping linearly from the previous "
             "rate; the last rate holds until the test stops")
    group.add_argument(
        "--arrival-distribution", env_var="LOCUST_ARRIVAL_DISTRIBUTION", default="uniform",
        choices=list(DISTRIBUTIONS), help="inter-arrival times (default uniform)")
    group.add_argument(
        "--max-users", env_var="LOCUST_MAX_USERS", default="", type=_checked(_positive_int),
        help="open model: the pre-allocated pool of users over all processes (default: peak "
             f"rate × --expected-latency × {HEADROOM:g}, at least {MIN_POOL})")
    group.add_argument(
        "--max-backlog", env_var="LOCUST_MAX_BACKLOG", default="0", type=_checked(_backlog),
        help="open model: arrivals that may wait for a free user in each process (oldest "
             "first, their late start measured); beyond it an arrival is dropped (default 0: "
             "an arrival with no free user is dropped, as in k6)")
    group.add_argument(
        "--expected-latency", env_var="LOCUST_EXPECTED_LATENCY",
        default=str(DEFAULT_EXPECTED_LATENCY_MS), type=_checked(_latency_ms),
        help=f"open model: expected latency in ms, to size the default pool "
             f"(default {DEFAULT_EXPECTED_LATENCY_MS:g})")
    group.add_argument(
        "--arrival-seed", env_var="LOCUST_ARRIVAL_SEED", default=str(DEFAULT_SEED),
        type=_checked(int), help=f"seed of the arrival schedules (default {DEFAULT_SEED}); "
                                 "each worker derives its own from it and its index")


def resolve(options: Any) -> OpenModelConfig | None:
    """The open model the options ask for, or None (closed model). Raises ScheduleError."""
    rate_text = str(getattr(options, "arrival_rate", "") or "").strip()
    stages_text = str(getattr(options, "arrival_stages", "") or "").strip()
    if not rate_text and not stages_text:
        return None
    stages = parse_stages(stages_text) if stages_text else ()
    start = parse_rate(rate_text) if rate_text else 0.0
    profile = RateProfile(start, stages)
    try:
        latency_s = _latency_ms(str(getattr(options, "expected_latency", "")
                                    or DEFAULT_EXPECTED_LATENCY_MS)) / 1000.0
        users_text = str(getattr(options, "max_users", "") or "").strip()
        max_users = _positive_int(users_text) if users_text else 0
        seed = int(str(getattr(options, "arrival_seed", "") or DEFAULT_SEED))
        backlog = _backlog(str(getattr(options, "max_backlog", "") or 0))
    except ValueError as error:
        raise ScheduleError(f"open model options: {error}") from None
    distribution = str(getattr(options, "arrival_distribution", "uniform") or "uniform")
    if distribution not in DISTRIBUTIONS:
        raise ScheduleError(f"--arrival-distribution: {distribution!r} is not one of "
                            f"{', '.join(DISTRIBUTIONS)}")
    pool = max_users or default_pool(profile.peak_rate, latency_s)
    return OpenModelConfig(profile, distribution, pool, bool(max_users), latency_s, seed, backlog)
