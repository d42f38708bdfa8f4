"""The verdict on one run: a pure function of its recorded evidence, stats and exit code.

``judge`` runs the run's and the generator's rules, then every rule of ``RULES`` in order, and
gives the most serious status that applies (``ORDER``) with every reason and cause. A new
verdict signal is a ``RunFacts`` field (``_verdict_model``) and one rule appended to ``RULES``.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean
from typing import Any

from runmodel.verdicts import STATUSES
from scenarios.runner.evidence._health import (
    CpuSample,
    LatenessSecond,
    generator_cpu,
    loop_lateness,
)
from scenarios.runner.evidence._rules_apparatus import (
    client_dominated,
    delay_proxy,
    pacing,
    service_limit,
    stalled,
    steady,
)
from scenarios.runner.evidence._rules_littles import littles_law, open_model
from scenarios.runner.evidence._rules_run import coverage, generator, run_state
from scenarios.runner.evidence._verdict_model import (
    Findings,
    Rule,
    RunFacts,
    Thresholds,
    Verdict,
)

__all__ = ["ORDER", "RULES", "CpuSample", "LatenessSecond", "RunFacts", "Thresholds", "Verdict",
           "generator_cpu", "judge"]

# Most serious first: the first that applies is the status (results/README.md).
ORDER = STATUSES  # runmodel.verdicts: the vocabulary the analysis ranks by too
DEFAULT_THRESHOLDS = Thresholds()

RULES: tuple[Rule, ...] = (littles_law, stalled, pacing, steady, client_dominated, open_model,
                           delay_proxy, service_limit)


def judge(facts: RunFacts, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Verdict:
    """Every cause that applies, the most serious status first, with the figures behind each."""
    found = Findings()
    evidence: dict[str, Any] = {}
    run_state(facts, thresholds, found, evidence)
    per_process = generator_cpu(facts.samples, thresholds.generator_cpu_percent, facts.window_s,
                                thresholds.min_evidence)
    evidence["generator_cpu"] = per_process
    evidence["generator_cpu_threshold"] = thresholds.generator_cpu_percent
    lateness = (loop_lateness(facts.lateness, thresholds.loop_late_ms, facts.window)
                if facts.lateness is not None else None)
    evidence["loop_lateness"] = lateness
    coverage(facts, thresholds, per_process, lateness, found, evidence)
    generator(facts, thresholds, per_process, lateness, found, evidence)
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
