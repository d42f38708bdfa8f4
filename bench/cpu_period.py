"""Benchmark: what the CPU quota's period does to a service limited to a fraction of a core.

    .venv/bin/python -m bench.cpu_period [--vcpu 0.25] [--periods 100,20,10,5]
                                         [--connections 10] [--seconds 5] [--rounds 3]

One service (`python -m target_service`, seeded with the sweep's 1,000 seed products) runs pinned to
the first CPU inside the sweep's CPU envelope (scenarios/runner/target/_cpu_limit.py: a cgroup
CPU quota of VCPU cores per period). wrk, pinned to the other CPU, keeps a fixed closed-loop load
(`-t1 -cN`, random seeded `GET /products/{id}`) for SECONDS per measurement; the periods are
measured in interleaved rounds on that one service. Per period it prints the median over rounds of
requests/s, p50, p99 and the share of periods the kernel throttled (cpu.stat), plus each p99 as a
ratio to the shortest period's. Exit status 2 when no cgroup CPU quota can be written."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.wrk import WrkError, run_wrk, seeded_ids_script
from scenarios.runner.target import (
    CpuEnvelope,
    CpuLimitError,
    TargetError,
    seed_pipelined,
    start_service,
    throttling,
)

SEED = 1000


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/cpu_period.py", description=__doc__.split("\n")[0])
    parser.add_argument("--vcpu", type=float, default=0.25)
    parser.add_argument("--periods", default="100,20,10,5", help="periods in ms")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    periods = [float(p) for p in args.periods.split(",")]
    cpus = sorted(os.sched_getaffinity(0))
    service_cpus, wrk_cpus = cpus[:1], cpus[1:] or cpus
    try:
        envelope = CpuEnvelope(periods[0])
    except CpuLimitError as exc:
        print(f"bench/cpu_period.py: {exc}", file=sys.stderr)
        return 2
    envelope.activate()
    figures: dict[float, list[tuple[float, float, float, float]]] = {p: [] for p in periods}
    with tempfile.TemporaryDirectory(prefix="cpu-period-") as tmp:
        service = start_service(Path(tmp) / "service.log", 1, service_cpus)
        try:
            service.wait_healthy()
            seed_pipelined(service.url, SEED)
            script = seeded_ids_script(SEED)
            for _ in range(args.rounds):
                for period in periods:
                    envelope.period_us = round(period * 1000)
                    envelope.set_limit(args.vcpu)
                    before = envelope.counters()
                    result = run_wrk(f"{service.url}/", seconds=args.seconds,
                                     connections=args.connections, cpus=wrk_cpus, lua=script)
                    counted = throttling(before, envelope.counters()) or {}
                    envelope.set_limit(None)
                    figures[period].append((result.requests_per_s, result.p50_ms, result.p99_ms,
                                            counted.get("throttled_ratio") or 0.0))
        except (TargetError, WrkError, CpuLimitError, OSError) as exc:
            print(f"bench/cpu_period.py: {exc}", file=sys.stderr)
            return 1
        finally:
            service.stop()
            envelope.close()
    shortest = min(periods)
    base_p99 = statistics.median(f[2] for f in figures[shortest])
    print(f"service limited to {args.vcpu:g} vCPU (CPU {service_cpus}), wrk -t1 "
          f"-c{args.connections} on CPU {wrk_cpus}, {args.seconds:g}s x {args.rounds} rounds, "
          "medians")
    print(f"{'period ms':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'throttled':>9} "
          f"{'p99 / p99@' + format(shortest, 'g') + 'ms':>14}")
    for period in periods:
        rows = figures[period]
        rps, p50, p99, ratio = (statistics.median(r[i] for r in rows) for i in range(4))
        print(f"{period:>9g} {rps:>8.0f} {p50:>7.1f} {p99:>7.1f} {ratio:>9.0%} "
              f"{p99 / base_p99 if base_p99 else float('nan'):>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
