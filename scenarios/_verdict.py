"""The verdict on one run: a pure function of its recorded CPU samples, stats and exit code."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

# Most serious first: the first that applies is the status (results/README.md).
ORDER = ("interrupted", "failed", "too-few-samples", "sut-errors", "generator-bound", "valid")


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
class Thresholds:
    generator_cpu_percent: float = 90.0  # of one core, mean over the window
    error_ratio: float = 0.01
    min_requests: int = 100
    min_window_fraction: float = 0.8  # of the requested measured window


@dataclass(frozen=True)
class RunFacts:
    """What the verdict looks at, all recorded during or after the run."""

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


@dataclass
class Verdict:
    status: str
    reasons: list[str]
    evidence: dict[str, Any]
    warnings: list[str] = field(default_factory=list)  # doubts that change no status

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": self.reasons, "evidence": self.evidence,
                "warnings": self.warnings}


def generator_cpu(samples: list[CpuSample]) -> dict[str, dict[str, float | int]]:
    """Per generator process: mean and max percent of one core over the window."""
    by_name: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        if sample.role == "generator" and sample.in_window:
            by_name[sample.name].append(sample.cpu_percent)
    return {
        name: {"mean_percent": round(fmean(values), 1), "max_percent": round(max(values), 1),
               "samples": len(values)}
        for name, values in by_name.items()
    }


def judge(facts: RunFacts, thresholds: Thresholds = Thresholds()) -> Verdict:
    """Every verdict that applies, the most serious first, with the figures behind each."""
    found: dict[str, str] = {}
    evidence: dict[str, Any] = {}
    if facts.interrupted:
        found["interrupted"] = "the run was stopped by a signal before its window ended"
    if facts.exit_code not in (0, 1) or facts.total_requests is None:
        why = (f"Locust exited with code {facts.exit_code}" if facts.exit_code not in (0, 1)
               else "Locust wrote no stats")
        if not facts.interrupted:
            found["failed"] = why
    if facts.failure_note and not facts.interrupted:
        found["failed"] = "; ".join(filter(None, [found.get("failed"), facts.failure_note]))
    evidence["exit_code"] = facts.exit_code
    total = facts.total_requests or 0
    evidence["requests"] = total
    evidence["window_s"] = facts.window_s
    if facts.window_s is None:
        found["too-few-samples"] = "spawning never completed, so no measured window"
    elif facts.window_s < thresholds.min_window_fraction * facts.requested_window_s:
        found["too-few-samples"] = (
            f"measured window {facts.window_s:.1f}s, shorter than "
            f"{thresholds.min_window_fraction:.0%} of the {facts.requested_window_s:g}s asked"
        )
    if facts.total_requests is not None and total < thresholds.min_requests:
        reason = f"{total} requests in the window (threshold {thresholds.min_requests})"
        found["too-few-samples"] = "; ".join(filter(None, [found.get("too-few-samples"), reason]))
    ratio = facts.failures / total if total else 0.0
    evidence["unexpected_failure_ratio"] = round(ratio, 6)
    if total and ratio > thresholds.error_ratio:
        found["sut-errors"] = (
            f"{facts.failures} unexpected failures of {total} requests ({ratio:.2%}, "
            f"threshold {thresholds.error_ratio:.2%})"
        )
    per_process = generator_cpu(facts.samples)
    evidence["generator_cpu"] = per_process
    evidence["generator_cpu_threshold"] = thresholds.generator_cpu_percent
    bound = {name: figures for name, figures in per_process.items()
             if figures["mean_percent"] >= thresholds.generator_cpu_percent}
    if bound:
        name, figures = max(bound.items(), key=lambda item: item[1]["mean_percent"])
        above = sum(1 for s in facts.samples if s.role == "generator" and s.in_window
                    and s.name == name and s.cpu_percent >= thresholds.generator_cpu_percent)
        where = "remote worker" if facts.remote_generator else "generator process"
        found["generator-bound"] = (
            f"{where} {name} at {figures['mean_percent']:.0f}% of a core on average "
            f"(threshold {thresholds.generator_cpu_percent:g}%), at or above it for "
            f"{above} of {figures['samples']} samples"
            + (f"; {len(bound)} of {len(per_process)} generator processes bound"
               if len(per_process) > 1 else "")
        )
    busy = facts.generator_cpus_busy
    if busy:
        mean_busy = fmean(busy)
        evidence["generator_cpus_busy_mean_percent"] = round(mean_busy, 1)
        if mean_busy >= thresholds.generator_cpu_percent and "generator-bound" not in found:
            own = sum(figures["mean_percent"] for figures in per_process.values())
            found["generator-bound"] = (
                f"the generator's CPUs were {mean_busy:.0f}% busy on average (threshold "
                f"{thresholds.generator_cpu_percent:g}%), Locust itself {own:.0f}% of a core: "
                f"other processes compete for the generator's CPUs"
            )
    warnings = []
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
    statuses = [status for status in ORDER if status in found] or ["valid"]
    return Verdict(statuses[0], [found[status] for status in statuses if status in found],
                   evidence, warnings)
