"""The verdict on one run: a pure function of its recorded evidence, stats and exit code."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from runmodel.littles_law import TOLERANCE
from runmodel.verdicts import STATUSES
from scenarios.runner.evidence._health import (
    CpuSample,
    LatenessSecond,
    foreign_cpu,
    generator_cpu,
    littles_residual,
    loop_lateness,
    required_samples,
)
from scenarios.runner.evidence._stalls import STALL_MIN_MS, stalls_in_window

__all__ = ["ORDER", "CpuSample", "LatenessSecond", "RunFacts", "Thresholds", "Verdict",
           "generator_cpu", "judge"]

# Most serious first: the first that applies is the status (results/README.md).
ORDER = STATUSES  # runmodel.verdicts: the vocabulary the analysis ranks by too


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
    # it had work for its whole quota, so it was the bottleneck (see _lateness_at_saturation)
    service_saturated_throttled: float = 0.9
    # An open-model point is not valid when its generator dropped more than this share of the
    # arrivals it intended, or started them this late (schedule lag p99, ms)
    dropped_arrivals: float = 0.001
    schedule_lag_p99_ms: float = 10.0
    # A remote point's service tasks at or above this share of their reserved CPU (CloudWatch's
    # busiest-task minute): the service was the limit (_service_limit)
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
    # The window's halves compared (_steady.steady_state); None without a window
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


class _Findings:
    def __init__(self) -> None:
        self.by_status: dict[str, list[str]] = defaultdict(list)
        self.causes: list[str] = []
        self.warnings: list[str] = []

    def add(self, status: str, cause: str, reason: str) -> None:
        self.by_status[status].append(reason)
        self.causes.append(cause)


def _run_state(facts: RunFacts, thresholds: Thresholds, found: _Findings,
               evidence: dict[str, Any]) -> None:
    if facts.interrupted:
        found.add("interrupted", "interrupted",
                  "the run was stopped by a signal before its window ended")
    elif facts.exit_code not in (0, 1) or facts.total_requests is None:
        found.add("failed", "locust-failed", f"Locust exited with code {facts.exit_code}"
                  if facts.exit_code not in (0, 1) else "Locust wrote no stats")
    if facts.failure_note and not facts.interrupted:
        found.add("failed", "runner-failed", facts.failure_note)
    total = facts.total_requests or 0
    evidence.update(exit_code=facts.exit_code, requests=total, window_s=facts.window_s)
    if facts.window_s is None:
        found.add("too-few-samples", "no-window", "spawning never completed, so no measured window")
    elif facts.window_s < thresholds.min_window_fraction * facts.requested_window_s:
        found.add("too-few-samples", "short-window",
                  f"measured window {facts.window_s:.1f}s, shorter than "
                  f"{thresholds.min_window_fraction:.0%} of the "
                  f"{facts.requested_window_s:g}s asked")
    if facts.total_requests is not None and total < thresholds.min_requests:
        found.add("too-few-samples", "few-requests",
                  f"{total} requests in the window (threshold {thresholds.min_requests})")
    ratio = facts.failures / total if total else 0.0
    evidence["unexpected_failure_ratio"] = round(ratio, 6)
    if total and ratio > thresholds.error_ratio:
        found.add("sut-errors", "sut-errors",
                  f"{facts.failures} unexpected failures of {total} requests ({ratio:.2%}, "
                  f"threshold {thresholds.error_ratio:.2%})")


def _coverage(facts: RunFacts, thresholds: Thresholds, per_process: dict[str, dict[str, Any]],
              lateness: dict[str, dict[str, Any]] | None, found: _Findings,
              evidence: dict[str, Any]) -> None:
    if facts.window_s is None:
        return
    need = required_samples(facts.window_s, thresholds.min_evidence)
    need_seconds = max(thresholds.min_evidence, int(facts.window_s) - 1)
    short = [f"{name} {figures['samples']}" for name, figures in per_process.items()
             if figures["samples"] < need]
    names = set(per_process) | set(lateness or {})
    if not per_process:
        short.append("every generator process 0")
    if short:
        found.add("too-few-samples", "few-cpu-samples",
                  f"CPU samples in the {facts.window_s:.1f}s window: {', '.join(sorted(short))} "
                  f"(need {need}: one per second of the window, at least "
                  f"{thresholds.min_evidence})")
    if lateness is not None:
        thin = [f"{name} {lateness[name]['seconds'] if name in lateness else 0}"
                for name in sorted(names) if name not in lateness
                or lateness[name]["seconds"] < need_seconds]
        if thin:
            found.add("too-few-samples", "few-loop-seconds",
                      f"event-loop lateness seconds in the window: {', '.join(thin)} "
                      f"(need {need_seconds})")
    errors = [e for e in facts.sampler_errors if e.get("role") == "generator"]
    evidence["sampler_errors"] = {"count": len(facts.sampler_errors),
                                  "first": facts.sampler_errors[:10]}
    evidence["coverage"] = {"required_cpu_samples": need, "required_loop_seconds": need_seconds,
                            "generator_sampler_errors": len(errors)}


def _generator(facts: RunFacts, thresholds: Thresholds, per_process: dict[str, dict[str, Any]],
               lateness: dict[str, dict[str, Any]] | None, found: _Findings,
               evidence: dict[str, Any]) -> None:
    limit = thresholds.generator_cpu_percent
    where = "remote worker" if facts.remote_generator else "generator process"
    for name, fig in sorted(per_process.items()):
        share = fig["share_at_or_above_threshold"]
        if fig["mean_percent"] >= limit or share >= thresholds.saturated_share:
            found.add("generator-bound", "generator-cpu-saturated",
                      f"{where} {name} at {fig['mean_percent']:.0f}% of a core on average, at or "
                      f"above {limit:g}% for {share:.0%} of its {fig['samples']} samples "
                      f"(thresholds: mean {limit:g}%, share {thresholds.saturated_share:.0%})")
    busy = facts.generator_cpus_busy
    own = sum(fig["mean_percent"] for fig in per_process.values())
    if busy:
        mean_busy = fmean(busy)
        evidence["generator_cpus_busy_mean_percent"] = round(mean_busy, 1)
        if mean_busy >= limit:
            found.add("generator-bound", "generator-cpus-full",
                      f"the generator's CPUs were {mean_busy:.0f}% busy on average (threshold "
                      f"{limit:g}%), Locust itself {own:.0f}% of a core")
    foreign = foreign_cpu(facts.samples, facts.generator_host, facts.generator_cpu_count)
    evidence["foreign_cpu"] = foreign
    if foreign and foreign["mean_percent"] >= thresholds.foreign_cpu_percent:
        found.add("generator-bound", "generator-cpu-contended",
                  f"contention: other processes took {foreign['mean_percent']:.0f}% of a core "
                  f"of the generator's CPUs on average (max {foreign['max_percent']:.0f}%, "
                  f"threshold {thresholds.foreign_cpu_percent:g}%) while Locust used "
                  f"{own:.0f}%")
    saturated_cpu = any(cause == "generator-cpu-saturated" for cause in found.causes)
    for name, fig in sorted((lateness or {}).items()):
        if fig["late_share"] is not None and fig["late_share"] >= thresholds.loop_late_share:
            reason = (f"{name}'s event loop ran late: p99 lateness at or above "
                      f"{thresholds.loop_late_ms:g} ms in {fig['late_seconds']} of "
                      f"{fig['seconds']} seconds (worst p99 {fig['worst_p99_ms']:.1f} ms, max "
                      f"{fig['max_ms']:.1f} ms, threshold {thresholds.loop_late_share:.0%} of "
                      f"the seconds)")
            excuse = None if saturated_cpu else _lateness_at_saturation(facts, thresholds)
            if excuse is None:
                found.add("generator-bound", "generator-loop-late", reason)
            else:
                found.warnings.append(f"{reason}; {excuse}")
                evidence["loop_lateness_at_saturation"] = True


def _lateness_at_saturation(facts: RunFacts, thresholds: Thresholds) -> str | None:
    """Why a late event loop did not distort this point, or None when it may have.

    A closed-loop point whose service is the bottleneck has a fixed cycle: its N users and the
    service's capacity X set the mean response time to N / X minus the time the users spend
    outside their requests. A late client loop then only moves waiting from the service's
    queue to the client's: the service still has work (it was throttled in nearly every period
    of its envelope) and the users are still inside their requests (Little's law holds), so
    throughput and mean response time are the service's, as any other generator would measure
    them. The tail's shape may still carry the client's queueing: a warning says so.
    """
    throttled = facts.service_throttled_ratio
    residual = _effective_residual(facts)
    if (throttled is None or throttled < thresholds.service_saturated_throttled
            or residual is None or abs(residual) > thresholds.littles_tolerance):
        return None
    return (f"not a distortion here: the service was the bottleneck (throttled in "
            f"{throttled:.0%} of its envelope's periods) and Little's law holds (residual "
            f"{residual:+.2f}), so throughput and the mean are the service's; the tail "
            f"percentiles may include the client's queueing")


def _measured_residual(facts: RunFacts) -> float | None:
    """(users - the generator's measured mean requests in flight) / users, closed model only."""
    measured = (facts.in_flight or {}).get("mean_in_flight")
    if not facts.closed_model or not facts.users or not isinstance(measured, (int, float)):
        return None
    return round((facts.users - measured) / facts.users, 4)


def _completed_residual(facts: RunFacts) -> float | None:
    """(users - rps x mean response time) / users over the completed requests, closed model."""
    return littles_residual(facts.users, facts.rps, facts.mean_ms) if facts.closed_model \
        else None


def _effective_residual(facts: RunFacts) -> float | None:
    """The share of the window the users spent outside their requests: measured by the
    generator where it counted its requests in flight, else inferred from completed requests."""
    measured = _measured_residual(facts)
    return measured if measured is not None else _completed_residual(facts)


def _unanswered(facts: RunFacts) -> str:
    flight = facts.in_flight or {}
    text = f"{flight.get('in_flight_at_end', 0)} requests were still unanswered at its end"
    if flight.get("oldest_s") is not None:
        text += f" (the oldest sent {flight['oldest_s']:.1f} s before)"
    for edge, queues in facts.service_sockets.items():
        accept, unread = (queues or {}).get("accept_queue", 0), (queues or {}).get(
            "unread_connections", 0)
        if accept or unread:
            text += (f"; at the window's {edge} the service had {accept} connections waiting "
                     f"to be accepted and {unread} holding a request it had not read")
    return text


def _littles_law(facts: RunFacts, thresholds: Thresholds, found: _Findings,
                 evidence: dict[str, Any]) -> None:
    residual = _completed_residual(facts)
    measured = _measured_residual(facts)
    flight = facts.in_flight or {}
    evidence["littles_law"] = {"closed_model": facts.closed_model, "users": facts.users,
                               "rps": facts.rps, "mean_ms": facts.mean_ms, "residual": residual,
                               "measured_in_flight": flight.get("mean_in_flight"),
                               "measured_residual": measured,
                               "in_flight_at_end": flight.get("in_flight_at_end"),
                               "oldest_in_flight_s": flight.get("oldest_s"),
                               "censored_request_seconds": flight.get("censored_request_seconds"),
                               "carried_in_request_seconds":
                                   flight.get("carried_in_request_seconds"),
                               "service_sockets": facts.service_sockets or None,
                               "tolerance": thresholds.littles_tolerance}
    if residual is None or facts.total_requests is None:
        return
    tolerance = thresholds.littles_tolerance
    in_flight = facts.users * (1 - residual)
    completed = (f"{facts.rps:.0f} rps x {facts.mean_ms:.2f} ms = {in_flight:.1f} requests in "
                 f"flight")
    if measured is not None and measured > tolerance:
        found.add("generator-bound", "littles-law",
                  f"Little's law: the generator counted {flight['mean_in_flight']:.1f} requests "
                  f"in flight on average for {facts.users} users ({completed}): the users spent "
                  f"{measured:.0%} of the window outside their requests (tolerance "
                  f"{tolerance:.0%})")
    elif (residual > tolerance and measured is not None
          and _censoring_explains(facts, residual, tolerance)):
        found.warnings.append(
            f"Little's law over completed requests gives {completed} for {facts.users} users, "
            f"but the generator counted {flight['mean_in_flight']:.1f} in flight on average "
            f"(residual {measured:+.2f}): the users were waiting on the service, and "
            f"{_unanswered(facts)}; the latency figures leave those requests out")
    elif residual > tolerance and measured is not None:
        found.add("generator-bound", "littles-law",
                  f"Little's law: {facts.users} users but {completed} by Locust's completed "
                  f"requests, against {flight['mean_in_flight']:.1f} counted by the generator, "
                  f"and the requests open at the window's end do not account for the gap "
                  f"(tolerance {tolerance:.0%}): the window's figures cannot be trusted")
    elif residual > tolerance:
        found.add("generator-bound", "littles-law",
                  f"Little's law: {facts.users} users but {completed}: the users spent "
                  f"{residual:.0%} of the window outside their requests (tolerance "
                  f"{tolerance:.0%})")
    elif residual < -tolerance:
        found.add("inconsistent", "littles-law",
                  f"Little's law: {completed}, more than the {facts.users} users (residual "
                  f"{residual:.0%}, tolerance {tolerance:.0%}): the window's count or times "
                  f"are not the window's")


def _censoring_explains(facts: RunFacts, residual: float, tolerance: float) -> bool:
    """The gap between the measured and the inferred requests in flight is the time of the
    requests still open at the window's end, less the time before the window of those that
    completed in it (which their response times carry in), within the tolerance, in users."""
    flight = facts.in_flight or {}
    window = flight.get("window_s") or facts.window_s
    censored = flight.get("censored_request_seconds")
    if not window or censored is None or not facts.users:
        return False
    carried_in = float(flight.get("carried_in_request_seconds") or 0.0)
    gap = flight["mean_in_flight"] - facts.users * (1 - residual)
    return abs(gap - (censored - carried_in) / window) <= facts.users * tolerance


def _stalled(facts: RunFacts, thresholds: Thresholds, found: _Findings,
             evidence: dict[str, Any]) -> None:
    """A Locust process that stood still long enough to change the window's throughput or tail,
    judged by the stalls' full lengths however few seconds they touch. A stall counts when it is
    longer than the window's mean response time (and 10 ms): shorter ones delay responses less
    than the service itself does (a saturated point's 10 ms stalls against a 100 ms mean)."""
    if facts.stalls is None:
        evidence["loop_stalls"] = None
        return
    counted = stalls_in_window(facts.stalls, facts.window, max(STALL_MIN_MS, facts.mean_ms or 0))
    evidence["loop_stalls"] = counted
    for name, fig in sorted(counted.items()):
        if fig["stalled_share"] >= thresholds.stalled_share:
            found.add("generator-bound", "generator-loop-stalled",
                      f"{name}'s event loop stood still for {fig['stalled_ms']:.0f} ms of the "
                      f"window ({fig['stalled_share']:.1%}; {fig['stalls']} stalls, the longest "
                      f"{fig['longest_ms']:.0f} ms; threshold {thresholds.stalled_share:.0%}): it "
                      f"sent and timed nothing meanwhile")


def _steady(facts: RunFacts, thresholds: Thresholds, found: _Findings,
            evidence: dict[str, Any]) -> None:
    """A window whose throughput or latency drifted describes no single state of the service."""
    steady = facts.steady_state
    evidence["steady_state"] = steady
    if not steady or not steady.get("tested"):
        return
    for series in steady.get("drifting", []):
        fig = steady[series]
        found.add("not-steady", f"not-steady-{series}",
                  f"the window's {series} drifted: its second half's mean "
                  f"{fig['second_half_mean']:g} against the first's {fig['first_half_mean']:g} "
                  f"({fig['relative_change']:+.0%}, beyond {steady['relative_threshold']:.0%} "
                  f"and {steady['z']:g} standard errors {fig['standard_error']:g})")


def _pacing(facts: RunFacts, thresholds: Thresholds, found: _Findings,
            evidence: dict[str, Any]) -> None:
    """A paced point that fell short of its asked rate, unless the service explains it: users
    whose requests took longer than their pacing interval could not keep the pace."""
    if facts.asked_rps is None or facts.rps is None or facts.total_requests is None:
        return
    achieved = facts.rps / facts.asked_rps
    block: dict[str, Any] = {"asked_rps": round(facts.asked_rps, 3), "achieved_rps": facts.rps,
                             "achieved_share": round(achieved, 4),
                             "threshold": thresholds.pacing_shortfall}
    evidence["pacing"] = block
    if achieved >= 1 - thresholds.pacing_shortfall:
        return
    interval_ms = 1000.0 * facts.users / facts.asked_rps
    measured = (facts.in_flight or {}).get("mean_in_flight")
    busy = (measured / facts.users if isinstance(measured, (int, float)) and facts.users
            else None)
    # The service explains it when each user's request took at least its pacing interval:
    # the users were inside their requests for (nearly) the whole window.
    on_service = (facts.mean_ms is not None and facts.mean_ms >= interval_ms
                  and (busy is None or busy >= 1 - TOLERANCE))
    block.update(pacing_interval_ms=round(interval_ms, 3), users_busy_share=busy,
                 shortfall_on_service=on_service)
    text = (f"paced at {facts.asked_rps:g} requests/s, the point achieved {facts.rps:.1f} "
            f"({achieved:.1%}, threshold {1 - thresholds.pacing_shortfall:.0%})")
    if on_service:
        found.warnings.append(f"{text}: the service's mean response time "
                              f"({facts.mean_ms:.1f} ms) is longer than the users' pacing "
                              f"interval ({interval_ms:.1f} ms), so the shortfall is the service's")
    else:
        found.add("generator-bound", "pacing-shortfall",
                  f"{text}, while the service answered in {facts.mean_ms or 0:.1f} ms on "
                  f"average, within the {interval_ms:.1f} ms pacing interval: the generator "
                  f"fell behind its schedule")


def _client_dominated(facts: RunFacts, thresholds: Thresholds, found: _Findings,
                      evidence: dict[str, Any]) -> None:
    """Most of the client-seen mean is the client's own time: the throughput may answer a
    capacity question, but the latency is the client's, not the service's."""
    share = facts.client_share
    evidence["client_share"] = None if share is None else round(share, 3)
    if share is not None and share > thresholds.client_share:
        found.add("client-dominated", "client-dominated",
                  f"{share:.0%} of the client-seen mean response time ({facts.mean_ms or 0:.3f} "
                  f"ms) is the client's own calibrated time (threshold "
                  f"{thresholds.client_share:.0%}): the latency figures describe the client")


# A verdict signal is one probe (a RunFacts field filled from what a run left behind) plus one
# rule here: a function of (facts, thresholds, findings, evidence) that adds its causes, in the
# order their evidence is written.
Rule = Callable[[RunFacts, Thresholds, _Findings, dict[str, Any]], None]
def _open_model(facts: RunFacts, thresholds: Thresholds, found: _Findings,
                evidence: dict[str, Any]) -> None:
    """An open-model point whose generator dropped arrivals or started them late did not
    offer the load it names: generator-bound, with the counts as evidence."""
    figures = facts.open_model
    if figures is None:
        return
    evidence["open_model"] = figures
    intended, dropped = int(figures.get("intended") or 0), int(figures.get("dropped") or 0)
    if intended and dropped / intended > thresholds.dropped_arrivals:
        found.add("generator-bound", "dropped-arrivals",
                  f"the generator dropped {dropped} of {intended} arrivals "
                  f"({100 * dropped / intended:.2f}%, above {100 * thresholds.dropped_arrivals:g}%"
                  "): no free user in its pool; the offered rate was not the one asked")
    _open_littles_law(facts, figures, thresholds, found, evidence)
    lag = figures.get("lag_p99_ms")
    if lag is not None and lag > thresholds.schedule_lag_p99_ms:
        found.add("generator-bound", "schedule-lag",
                  f"the generator started its arrivals late: schedule lag p99 {lag:.1f} ms "
                  f"(above {thresholds.schedule_lag_p99_ms:g} ms)")


def _open_littles_law(facts: RunFacts, figures: dict[str, Any], thresholds: Thresholds,
                      found: _Findings, evidence: dict[str, Any]) -> None:
    """Little's law with the offered rate: requests in flight = offered rate × mean time from
    the send, against the generator's own count (an open model has no fixed population)."""
    offered, flight = figures.get("offered_rps"), (facts.in_flight or {}).get("mean_in_flight")
    if not offered or facts.mean_ms is None or flight is None:
        return
    expected = float(offered) * facts.mean_ms / 1000.0
    residual = 1 - float(flight) / expected if expected > 0 else None
    evidence["open_model_littles_law"] = {
        "offered_rps": offered, "mean_ms": facts.mean_ms, "expected_in_flight": expected,
        "measured_in_flight": flight, "residual": residual,
        "tolerance": thresholds.littles_tolerance}
    if (residual is not None and abs(residual) > thresholds.littles_tolerance
            and abs(float(flight) - expected) >= 1.0):
        found.add("generator-bound", "littles-law",
                  f"Little's law with the offered rate: {offered:.1f}/s × {facts.mean_ms:.2f} ms "
                  f"= {expected:.1f} requests in flight, but the generator counted {flight:.1f}: "
                  f"the offered load was not the one sent (tolerance "
                  f"{thresholds.littles_tolerance:.0%})")


def _delay_proxy(facts: RunFacts, thresholds: Thresholds, found: _Findings,
                 evidence: dict[str, Any]) -> None:
    """The delay proxy is part of the load's apparatus: when it ran out of CPU, or its timers
    fired late enough to change the delay added, the latency is the proxy's as well."""
    proxy = facts.delay_proxy
    if proxy is None:
        return
    late = proxy.get("lateness_ms") or {}
    drawn = (proxy.get("intended_ms") or {}).get("mean")
    busiest = proxy.get("cpu_cores_busiest")
    limit = max(thresholds.delay_proxy_late_mean_ms,
                thresholds.delay_proxy_late_share * (drawn or 0.0))
    evidence["delay_proxy"] = {
        "cpu_cores": proxy.get("cpu_cores"), "cpu_cores_busiest": busiest,
        "lateness_mean_ms": late.get("mean"), "lateness_p99_ms": late.get("p99"),
        "lateness_limit_ms": round(limit, 4), "intended_mean_ms": drawn,
        "added_mean_ms": (proxy.get("added_ms") or {}).get("mean"),
        "stats_error": proxy.get("stats_error"),
        "thresholds": {"cpu_cores": thresholds.delay_proxy_cpu_cores,
                       "late_mean_ms": thresholds.delay_proxy_late_mean_ms,
                       "late_share": thresholds.delay_proxy_late_share}}
    if proxy.get("stats_error"):
        found.warnings.append(f"the delay proxy's own figures are missing: "
                              f"{proxy['stats_error']}")
        return
    if isinstance(busiest, (int, float)) and busiest >= thresholds.delay_proxy_cpu_cores:
        found.add("generator-bound", "delay-proxy-cpu",
                  f"the delay proxy used {busiest:.2f} of a core in its busiest second "
                  f"(threshold {thresholds.delay_proxy_cpu_cores:g}): it, not the service, may "
                  f"have been the bottleneck")
    mean_late = late.get("mean")
    if isinstance(mean_late, (int, float)) and mean_late > limit:
        found.add("generator-bound", "delay-proxy-late",
                  f"the delay proxy's timers fired {mean_late:.1f} ms late on average (p99 "
                  f"{late.get('p99') or 0:.1f} ms) against the {drawn or 0:.1f} ms drawn, more "
                  f"than {limit:.1f} ms (the larger of {thresholds.delay_proxy_late_mean_ms:g} ms "
                  f"and {thresholds.delay_proxy_late_share:.0%} of the delay): the delay added "
                  f"was not the one asked")


def _service_limit(facts: RunFacts, thresholds: Thresholds, found: _Findings,
                   evidence: dict[str, Any]) -> None:
    """A remote point: whether the service was the limit, from its tasks' CPU in CloudWatch
    (percent of their reservation per minute over the window). Changes no status: it says
    whose limit a point's throughput is, beside the generator's evidence."""
    block = facts.service_utilisation
    if not block:
        return
    cpu = block.get("cpu_percent") or {}
    memory = block.get("memory_percent") or {}
    busiest, mean = cpu.get("max"), cpu.get("mean")
    evidence["service_cpu_percent"] = {"mean": mean, "max": busiest,
                                       "complete": block.get("complete")}
    if block.get("error") or busiest is None:
        found.warnings.append("the service's CPU could not be read from CloudWatch: "
                              f"{block.get('error') or 'no value for the window'}")
        return
    limit = busiest >= thresholds.service_cpu_percent
    evidence["service_was_the_limit"] = limit
    partial = "" if block.get("complete") else (
        f" (CloudWatch had {cpu.get('minutes')} of the window's "
        f"{block.get('minutes_expected')} minutes)")
    if limit:
        found.warnings.append(
            f"the service was the limit: its busiest task used {busiest:.0f}% of its reserved "
            f"CPU in a minute of the window (the tasks' mean {mean:.0f}%, memory "
            f"{memory.get('max') or 0:.0f}% at most, threshold "
            f"{thresholds.service_cpu_percent:g}%){partial}")


RULES: tuple[Rule, ...] = (_littles_law, _stalled, _pacing, _steady, _client_dominated,
                           _open_model, _delay_proxy,
                           _service_limit)


def judge(facts: RunFacts, thresholds: Thresholds = Thresholds()) -> Verdict:
    """Every cause that applies, the most serious status first, with the figures behind each."""
    found = _Findings()
    evidence: dict[str, Any] = {}
    _run_state(facts, thresholds, found, evidence)
    per_process = generator_cpu(facts.samples, thresholds.generator_cpu_percent, facts.window_s,
                                thresholds.min_evidence)
    evidence["generator_cpu"] = per_process
    evidence["generator_cpu_threshold"] = thresholds.generator_cpu_percent
    lateness = (loop_lateness(facts.lateness, thresholds.loop_late_ms, facts.window)
                if facts.lateness is not None else None)
    evidence["loop_lateness"] = lateness
    _coverage(facts, thresholds, per_process, lateness, found, evidence)
    _generator(facts, thresholds, per_process, lateness, found, evidence)
    for rule in RULES:
        rule(facts, thresholds, found, evidence)
    if evidence.get("loop_lateness_at_saturation"):
        evidence["latency_includes_client_queueing"] = True  # throughput only: see the warning
    warnings = list(found.warnings)
    if facts.lateness is None and not facts.interrupted:
        warnings.append("no event-loop lateness evidence: the generator runs elsewhere")
    if facts.service_cpus_busy:
        mean_busy = fmean(facts.service_cpus_busy)
        by_t: dict[float, float] = defaultdict(float)  # the service's process tree per sample
        for sample in facts.samples:
            if sample.role == "service" and sample.in_window:
                by_t[sample.t] += sample.cpu_percent
        own = fmean(by_t.values()) if by_t else 0.0
        evidence["service_cpus_busy_mean_percent"] = round(mean_busy, 1)
        if mean_busy >= thresholds.generator_cpu_percent and mean_busy - own >= 25.0:
            warnings.append(
                f"the service's CPUs were {mean_busy:.0f}% busy on average, the service itself "
                f"{own:.0f}%: other processes competed with the service")
    statuses = [status for status in ORDER if status in found.by_status] or ["valid"]
    reasons = [reason for status in statuses for reason in found.by_status.get(status, [])]
    evidence["thresholds"] = dict(vars(thresholds))
    return Verdict(statuses[0], reasons, evidence, warnings, found.causes)
