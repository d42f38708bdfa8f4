"""Benchmark: how far apart three runs of ``--service-cpu auto`` choose on one machine.

    flock /tmp/loadbench-load.lock .venv/bin/python -m bench.auto_envelope \
        [--runs 3] [--classes http,fast] [--mix read-heavy] [--rtt-delay 10] [--cpu-period 100]

Runs the sizing of ``--service-cpu auto`` (scenarios/runner/_auto_envelope.py) RUNS times in a
row, exactly as a sweep does before its points (the sweep's pinning, fresh services, the probes
under the quota and behind the delay), and prints per run the vCPUs chosen, every round's
choice and the quota it ran under, then the spread: each choice against the median of the
runs, and the largest over the smallest. Beside it, the same figures for the first round alone,
the unlimited probe without a quota (what ``auto`` chose before issue 20), from the same runs.

Target (issue 20): every run's choice within ±20% of the median. Exit status 0 when met, 1 when
not, 2 when the sizing cannot run here (no cgroup CPU quota). Load goes to loopback only; run
it under the team's lock (`flock /tmp/loadbench-load.lock`): another job's load changes the
generator's cost per request, which is what the sizing measures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scenarios.runner import AutoEnvelopeError, size_service_cpu
from scenarios.runner.config import SweepConfig
from scenarios.runner.target import TargetError, default_placement

TARGET = 0.20  # each run's choice within this share of the runs' median


def spread(values: list[float]) -> dict[str, float]:
    """The median, each value's largest relative distance from it, and largest / smallest."""
    median = statistics.median(values)
    return {"median": median,
            "max_deviation": max(abs(v - median) / median for v in values) if median else 0.0,
            "max_over_min": max(values) / min(values) if min(values) > 0 else float("inf")}


def _line(label: str, values: list[float]) -> str:
    figures = spread(values)
    return (f"{label}: {', '.join(f'{v:g}' for v in values)} vCPU; median {figures['median']:g}, "
            f"largest deviation from it {figures['max_deviation']:.1%}, largest / smallest "
            f"{figures['max_over_min']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.auto_envelope",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--classes", default="http,fast")
    parser.add_argument("--mix", default="read-heavy")
    parser.add_argument("--rtt-delay", default="none", help="the sweep's delay, e.g. 10")
    parser.add_argument("--cpu-period", type=float, default=100.0, help="ms")
    args = parser.parse_args()
    config = SweepConfig(user_classes=args.classes.split(","), mixes=[args.mix],
                         service_cpu=["auto"], rtt_delay=[args.rtt_delay],
                         cpu_period_ms=args.cpu_period)
    placement = default_placement(None, None, True)
    chosen: list[float] = []
    first_round: list[float] = []
    print(f"--service-cpu auto x {args.runs}: classes {args.classes}, mix {args.mix}, delay "
          f"{args.rtt_delay}, period {args.cpu_period:g} ms, service CPUs "
          f"{placement['service_cpus']}, generator CPUs {placement['generator_cpus']}")
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix="bench-auto-envelope-") as scratch:
                sizing: dict[str, Any] = size_service_cpu(config, placement, Path(scratch))
        except (AutoEnvelopeError, TargetError) as exc:
            print(f"bench/auto_envelope.py: {exc}", file=sys.stderr)
            return 2
        chosen.append(sizing["vcpu"])
        first_round.append(sizing["rounds"][0]["vcpu"])
        steps = "; ".join(
            f"round {r['round']} under "
            + (f"{r['probed_vcpu']:g} vCPU (quota {r['quota_us']} us / {r['period_us']} us)"
               if r["probed_vcpu"] is not None else "no quota")
            + f", {r['users']} users: {r['vcpu']:g} ({r['tightest']}: generator "
            f"{r['probes'][r['tightest']]['generator_cpu_ms_per_request']} ms, service "
            f"{r['probes'][r['tightest']]['service_cpu_ms_per_request_used']} ms per request)"
            for r in sizing["rounds"])
        print(f"run {run}: {sizing['vcpu']:g} vCPU in {time.monotonic() - started:.0f} s, "
              f"converged {sizing['converged']}: {steps}")
    print(_line("auto (under the quota and the delay)", chosen))
    print(_line("first round only (no quota: auto before issue 20)", first_round))
    met = spread(chosen)["max_deviation"] <= TARGET
    print(f"target: every run within ±{TARGET:.0%} of the median: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
