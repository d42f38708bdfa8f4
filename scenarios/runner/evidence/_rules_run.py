"""The rules about the run itself and its generator: exit and window, evidence coverage,
the generator's CPU (its own, its CPUs', other processes') and its event loop's lateness."""

from __future__ import annotations

from statistics import fmean
from typing import Any

from scenarios.runner.evidence._health import foreign_cpu, required_samples
from scenarios.runner.evidence._rules_littles import effective_residual
from scenarios.runner.evidence._verdict_model import Findings, RunFacts, Thresholds

__all__ = ["coverage", "generator", "run_state"]


def run_state(facts: RunFacts, thresholds: Thresholds, found: Findings,
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


def coverage(facts: RunFacts, thresholds: Thresholds, per_process: dict[str, dict[str, Any]],
             lateness: dict[str, dict[str, Any]] | None, found: Findings,
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


def generator(facts: RunFacts, thresholds: Thresholds, per_process: dict[str, dict[str, Any]],
              lateness: dict[str, dict[str, Any]] | None, found: Findings,
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
            excuse = None if saturated_cpu else lateness_at_saturation(facts, thresholds)
            if excuse is None:
                found.add("generator-bound", "generator-loop-late", reason)
            else:
                found.warnings.append(f"{reason}; {excuse}")
                evidence["loop_lateness_at_saturation"] = True


def lateness_at_saturation(facts: RunFacts, thresholds: Thresholds) -> str | None:
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
    residual = effective_residual(facts)
    if (throttled is None or throttled < thresholds.service_saturated_throttled
            or residual is None or abs(residual) > thresholds.littles_tolerance):
        return None
    return (f"not a distortion here: the service was the bottleneck (throttled in "
            f"{throttled:.0%} of its envelope's periods) and Little's law holds (residual "
            f"{residual:+.2f}), so throughput and the mean are the service's; the tail "
            f"percentiles may include the client's queueing")
