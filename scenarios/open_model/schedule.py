"""Arrival schedules: when an open model's iterations are due (pure; imports nothing from Locust).

A rate profile is a piecewise-linear rate r(t) in iterations per second: constant
(``--arrival-rate R``) or ramping stages (``--arrival-stages R1:30s,R2:60s``: from the first
rate ramp linearly to R1 over 30 s, then to R2 over 60 s; the last rate holds until the test
stops, like k6's ``ramping-arrival-rate`` whose stages then end the test). The profile's
cumulative count Λ(t) = ∫r is inverted to turn a running "arrival number" into a time:

- ``uniform``: arrival k (k = 0, 1, ...) at Λ⁻¹(k + phase), phase in [0, 1) drawn once per
  process so that several workers do not all send in the same instant;
- ``poisson``: arrival k at Λ⁻¹(E₁ + ... + E_k) with Eᵢ ~ Exp(1): a (non-homogeneous) Poisson
  process by time rescaling.

A process that generates ``share`` of the load (a worker: its users over the pool) scales the
rate by ``share``; the shares of all processes add up to 1.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

DISTRIBUTIONS = ("uniform", "poisson")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
MAX_RATE = 1_000_000.0


class ScheduleError(ValueError):
    """An arrival rate or stage spec that cannot be used (a one-line message)."""


@dataclass(frozen=True)
class Stage:
    """Ramp linearly to ``rate`` (iterations/s) over ``seconds``."""

    rate: float
    seconds: float


def parse_rate(text: str, what: str = "--arrival-rate") -> float:
    """A positive finite rate in iterations per second."""
    try:
        rate = float(text)
    except ValueError:
        raise ScheduleError(f"{what}: {text!r} is not a number of iterations per second") from None
    if not math.isfinite(rate) or rate <= 0 or rate > MAX_RATE:
        raise ScheduleError(f"{what}: {text!r} must be a rate above 0 and at most {MAX_RATE:g}/s")
    return rate


def parse_duration(text: str, what: str) -> float:
    """``30s``, ``1.5m``, ``500ms``, ``2h`` or plain seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ScheduleError(f"{what}: bad duration {text!r}: expected e.g. 30s, 2m, 500ms")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def parse_stages(spec: str) -> tuple[Stage, ...]:
    """``"100:30s,200:60s"`` into stages (at least one; rate 0 allowed inside a ramp)."""
    stages: list[Stage] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        rate_text, sep, duration_text = part.partition(":")
        if not sep:
            raise ScheduleError(f"--arrival-stages: bad stage {part!r}: expected RATE:DURATION")
        try:
            rate = float(rate_text)
        except ValueError:
            raise ScheduleError(f"--arrival-stages: bad rate in {part!r}") from None
        if not math.isfinite(rate) or rate < 0 or rate > MAX_RATE:
            raise ScheduleError(f"--arrival-stages: rate in {part!r} must be 0..{MAX_RATE:g}")
        stages.append(Stage(rate, parse_duration(duration_text, "--arrival-stages")))
    if not stages:
        raise ScheduleError("--arrival-stages: expected RATE:DURATION[,RATE:DURATION...]")
    if stages[-1].rate <= 0:
        raise ScheduleError("--arrival-stages: the last stage's rate must be above 0 (it holds)")
    return tuple(stages)


@dataclass(frozen=True)
class RateProfile:
    """A piecewise-linear rate: ``start_rate``, then each stage ramps to its rate; the last
    rate holds for ever."""

    start_rate: float
    stages: tuple[Stage, ...] = ()

    @staticmethod
    def constant(rate: float) -> RateProfile:
        return RateProfile(rate, ())

    @property
    def peak_rate(self) -> float:
        return max([self.start_rate, *(stage.rate for stage in self.stages)])

    @property
    def final_rate(self) -> float:
        return self.stages[-1].rate if self.stages else self.start_rate

    def scaled(self, share: float) -> RateProfile:
        return RateProfile(self.start_rate * share,
                           tuple(Stage(s.rate * share, s.seconds) for s in self.stages))

    def rate_at(self, t: float) -> float:
        """r(t), t in seconds from the schedule's start."""
        begin, rate = 0.0, self.start_rate
        for stage in self.stages:
            if t < begin + stage.seconds:
                return rate + (stage.rate - rate) * (t - begin) / stage.seconds
            begin, rate = begin + stage.seconds, stage.rate
        return rate

    def time_of(self, count: float) -> float:
        """Λ⁻¹(count): the time by which ``count`` arrivals are due (inf if never)."""
        begin, rate, done = 0.0, self.start_rate, 0.0
        for stage in self.stages:
            area = (rate + stage.rate) * stage.seconds / 2.0
            if count <= done + area and area > 0:
                return begin + _ramp_time(rate, stage.rate, stage.seconds, count - done)
            begin, rate, done = begin + stage.seconds, stage.rate, done + area
        if rate <= 0:
            return math.inf
        return begin + (count - done) / rate


def _ramp_time(r0: float, r1: float, seconds: float, area: float) -> float:
    """The t in [0, seconds] where r0·t + (r1 − r0)·t²/(2·seconds) = area."""
    slope = (r1 - r0) / seconds
    if abs(slope) < 1e-12:
        return area / r0
    # slope/2 t² + r0 t − area = 0; the numerically stable root
    disc = max(r0 * r0 + 2.0 * slope * area, 0.0)
    return 2.0 * area / (r0 + math.sqrt(disc)) if r0 + math.sqrt(disc) > 0 else 0.0


def arrival_offsets(profile: RateProfile, distribution: str, seed: int) -> Iterator[float]:
    """Intended arrival times, in seconds from the schedule's start, for ever (increasing)."""
    if distribution not in DISTRIBUTIONS:
        raise ScheduleError(f"--arrival-distribution: {distribution!r} is not one of "
                            f"{', '.join(DISTRIBUTIONS)}")
    rng = random.Random(seed)
    time_of = profile.time_of
    if distribution == "uniform":
        position = rng.random()  # this process's phase
        while True:
            yield time_of(position)
            position += 1.0
    else:
        expovariate = rng.expovariate
        position = expovariate(1.0)
        while True:
            yield time_of(position)
            position += expovariate(1.0)


def process_seed(seed: int, worker_index: int) -> int:
    """A deterministic, distinct seed per worker (index 0 for a local run)."""
    return (seed * 1_000_003 + worker_index * 7_919 + 17) & 0x7FFF_FFFF
