"""What the verdict looks at and what it gives: thresholds, a run's facts, the verdict itself.

A verdict signal is one probe (a ``RunFacts`` field filled from what a run left behind) plus
one rule (``Rule``): a function of (facts, thresholds, findings, evidence) that adds its causes.
The rules live by family in ``_rules_run`` (the run itself, the generator's CPU and loop),
``_rules_littles`` (Little's law, closed and open) and ``_rules_apparatus`` (stalls, steady
state, pacing, the client's share, the delay proxy, the remote service); ``_verdict`` runs them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runmodel.littles_law import TOLERANCE
from scenarios.runner.evidence._health import CpuSample, LatenessSecond

__all__ = ["CpuSample", "Findings", "LatenessSecond", "Rule", "RunFacts", "Thresholds", "Verdict"]


@dataclass(frozen=True)
class Thresholds:
    """Defaults chosen from measurements on this machine: results/README.md, "Thresholds"."""

    generator_cpu_percent: float = 90.0  # of one core
    error_ratio: float = 0.01
    min_requests: int = 100
    min_window_fraction: float = 0.8  # of the requested measured window
    saturated_share: float = 0.25  # of a process's in-window CPU samples at/above the threshold
    foreign_cpu_percent: float = 20.0  # of one core, mean over the window, other processes
    loop_late_ms: float = 15.0  # a second whose p99 event-loop lateness reaches this is late
    loop_late_share: float = 0.2  # of a process's in-window seconds
    min_evidence: int = 3  # CPU samples and whole lateness seconds per process, at least
    littles_tolerance: float = TOLERANCE  # |residual| of a closed-model point (0.15)
    # A Locust process that stood still for this share of the window (its stalls' full
    # lengths added up) sent and timed nothing meanwhile: throughput and tail are its own
    stalled_share: float = 0.01
    # A paced point that achieved less than this share of its asked rate fell behind
    pacing_shortfall: float = 0.02
    # More than this share of the client-seen mean is the client's own time: client-dominated
    client_share: float = 0.5
    # The service's CPU envelope throttled it in at least this share of the window's periods:
    # it had work for its whole quota, so it was the bottleneck (see lateness_at_saturation)
    service_saturated_throttled: float = 0.9
    # An open-model point is not valid when its generator dropped more than this share of the
    # arrivals it intended, or started them this late (schedule lag p99, ms)
    dropped_arrivals: float = 0.001
    schedule_lag_p99_ms: float = 10.0
    # A remote point's service tasks at or above this share of their reserved CPU (CloudWatch's
    # busiest-task minute): the service was the limit (service_limit)
    service_cpu_percent: float = 90.0
    # The delay proxy is the bottleneck when its busiest second with traffic used this much of a
    # core, or when its timers fired late on average by more than the larger of these (ms, and
    # share of the mean delay drawn): asyncio's timers fire up to 1 ms late by themselves
    delay_proxy_cpu_cores: float = 0.9
    delay_proxy_late_mean_ms: float = 2.0
    delay_proxy_late_share: float = 0.1


@dataclass(frozen=True, kw_only=True)
class RunFacts:
    """What the verdict looks at, all recorded during or after the run; built by field name."""

    exit_code: int | None
    interrupted: bool
    requested_window_s: float
    window_s: float | None  # None when spawning never completed
    total_requests: int | None  # None when Locust wrote no stats
    failures: int
    samples: list[CpuSample] = field(default_factory=list)
    remote_generator: bool = False  # CPU evidence from a remote master's workers
    failure_note: str | None = None  # the runner saw the run fail (e.g. it overran its deadline)
    # Per in-window sample, how busy the generator's CPUs were (all processes, percent): a core
    # kept full by other processes starves Locust as surely as Locust's own work does.
    generator_cpus_busy: list[float] = field(default_factory=list)
    service_cpus_busy: list[float] = field(default_factory=list)  # same, for the local service
    # (t, busy percent) of the generator's CPUs per in-window sample, and how many CPUs they are
    generator_host: list[tuple[float, float]] = field(default_factory=list)
    generator_cpu_count: int = 0
    # Event-loop lateness per Locust process (by name); None when none is expected (remote)
    lateness: dict[str, list[LatenessSecond]] | None = None
    window: tuple[float, float] | None = None  # epoch seconds of the window's edges
    sampler_errors: list[dict[str, Any]] = field(default_factory=list)  # in-window failures
    users: int = 0
    closed_model: bool = False  # no pacing: Little's law with zero think time applies
    rps: float | None = None
    mean_ms: float | None = None
    # Share of the CPU envelope's periods in the window in which the kernel throttled the
    # service (cpu.stat); None without an envelope
    service_throttled_ratio: float | None = None
    # The generator's own count of requests in flight (scenarios/instrumentation/_in_flight.py,
    # summed over its processes): mean over the window, still unanswered at its end; None when
    # not recorded
    in_flight: dict[str, Any] | None = None
    # The local service's socket queues at the window's edges (start, end): connections not
    # yet accepted, and connections holding a request it has not read (_accept_queue)
    service_sockets: dict[str, dict[str, int] | None] = field(default_factory=dict)
    # An open-model point's figures (scenarios/open_model/evidence.py ``summary``): arrivals
    # intended, started and dropped, the schedule lag's percentiles; None for a closed point
    open_model: dict[str, Any] | None = None
    # Each Locust process's event-loop stalls (stopped_at, stall_ms), from its stalls file
    # (_stalls.read_stalls); None when not recorded (remote)
    stalls: dict[str, list[tuple[float, float]]] | None = None
    # The window's halves compared (steady.steady_state); None without a window
    steady_state: dict[str, Any] | None = None
    # A paced point's asked rate (users x the pacing's per-user rate); None when not paced
    asked_rps: float | None = None
    # The share of the client-seen mean that is the client's own time (its calibrated floor)
    client_share: float | None = None
    # A remote point's service CPU and memory from CloudWatch over the window's minutes
    # (run.json remote.service_utilisation, scenarios/runner/remote/_service_metrics.py); None
    # when not read (a local service, or a remote master outside the stack)
    service_utilisation: dict[str, Any] | None = None
    # The delay proxy's own figures (run.json ``rtt_delay``: added_ms, lateness_ms, cpu_cores,
    # cpu_cores_busiest, ...); None without an added delay
    delay_proxy: dict[str, Any] | None = None


@dataclass
class Verdict:
    status: str
    reasons: list[str]
    evidence: dict[str, Any]
    warnings: list[str] = field(default_factory=list)  # doubts that change no status
    causes: list[str] = field(default_factory=list)  # every cause that applies, by code

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": self.reasons, "causes": self.causes,
                "evidence": self.evidence, "warnings": self.warnings}


class Findings:
    """What the rules found so far: reasons by status, causes in order, and warnings."""

    def __init__(self) -> None:
        self.by_status: dict[str, list[str]] = defaultdict(list)
        self.causes: list[str] = []
        self.warnings: list[str] = []

    def add(self, status: str, cause: str, reason: str) -> None:
        self.by_status[status].append(reason)
        self.causes.append(cause)


# A rule adds its causes, in the order their evidence is written (module docstring).
Rule = Callable[[RunFacts, Thresholds, Findings, dict[str, Any]], None]
