"""Cross-check: the suite's figures for `GET /products/{id}` against wrk, on the same service.

    .venv/bin/python -m bench.crosscheck_wrk [--users 1,10,50] [--rounds 3] [--ramp 2s]
                                             [--duration 8s] [--service-cpu V] [--out DIR]
                                             [--host URL]

For each concurrency level N a fresh service is started (`python -m target_service`, pinned to
the service CPU like the sweep's local target, under a cgroup quota of V vCPUs with
`--service-cpu`) and seeded over HTTP with the sweep's seed ids (`seed-000001` ..). Then, on that
one service: wrk, and K (`--rounds`) rounds of [Locust fast, Locust http, wrk], so that every
Locust run is bracketed by a wrk run before and after it. A Locust run is the sweep runner for
one user class with `--weights get_product=1` (only GET by id) and N users, through `--host`; a
wrk run is wrk pinned to the generator CPUs with N connections (`-t1 -cN`, both are closed
loops) for the Locust window's duration (`--duration`), a Lua script asking for random seeded
ids. Locust's figures come from the analysis package (its histogram percentiles, the
`GET /products/{id}` row) with the runner's verdict; wrk's from its `--latency` report, with a
verdict of the same kind (its CPU time; its non-2xx answers and socket errors above 1% of its
requests, the sweep's error threshold).

The host's speed drifts (a shared VM: ±20% from minute to minute), so each Locust run's rps is
divided by the mean of its two bracketing wrk runs' (`rps / wrk's`), and a level's figure per


class is the median of those ratios over the rounds; only Locust runs whose verdict and both
bracketing wrk verdicts are `valid` are counted. Every run also gets the service's CPU per
request (µs of the service process tree's CPU per request the service completed: over wrk's
run, or over Locust's measured window), and Locust's over its bracketing wrk runs' (`µs /
wrk's`): a figure insensitive to the host's speed.

Writes OUT/crosscheck.md and OUT/crosscheck.json (every run, and the summary per level and
class; the sweeps under OUT/sweeps/); prints the tables. Exit status: 0 when every level has a
counted Locust run and every class with one has its median ratio within 0.90..1.10, 1
otherwise, 2 bad arguments or no service. With `--host URL` the target is a running service
instead (not restarted, nor pinned, no CPU figures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psutil

from analysis.capacity import fit_usl
from bench._crosscheck_args import parser
from bench._crosscheck_rounds import CLASSES, TOLERANCE, agree, bracket, summarize
from bench._crosscheck_runs import REPO_ROOT, CrosscheckError, run_locust, run_wrk_point
from bench._crosscheck_table import ENDPOINT, json_ready, markdown_table
from bench.pinned_service import ServiceError, fresh_service, seed_service
from scenarios.runner.target import CpuEnvelope, CpuLimitError, throttling


@contextlib.contextmanager
def _envelope(service_pid: int, vcpu: float | None, period_ms: float,
              ) -> Iterator[dict[str, Any]]:
    """The service's process tree under a CPU quota of ``vcpu`` (the sweep's cgroup envelope,
    scenarios/runner/target/_cpu_limit.py) while Locust and wrk run; the throttling counted,
    after."""
    counted: dict[str, Any] = {}
    if vcpu is None:
        yield counted
        return
    try:
        envelope = CpuEnvelope(period_ms)
    except CpuLimitError as error:
        raise CrosscheckError(str(error)) from None
    try:
        root = psutil.Process(service_pid)
        for process in [root, *root.children(recursive=True)]:
            (envelope.path / "cgroup.procs").write_text(str(process.pid))
        envelope.set_limit(vcpu)
        before = envelope.counters()
        yield counted
        counted.update(throttling(before, envelope.counters()) or {})
    finally:
        envelope.close()


def _level(url: str, pid: int | None, users: int, args: argparse.Namespace,
           ) -> list[dict[str, Any]]:
    """wrk, then `--rounds` rounds of [Locust fast, Locust http, wrk], on one service."""
    def note(what: str) -> None:
        print(f"crosscheck: {users} users/connections, {what} ...", file=sys.stderr, flush=True)

    note("wrk, round 0")
    level = [run_wrk_point(url, pid, users, 0, args)]
    for round_ in range(1, args.rounds + 1):
        for name in CLASSES:
            note(f"Locust {name}, round {round_}")
            level.append(run_locust(url, pid, users, name, round_, args, args.out))
        note(f"wrk, round {round_}")
        level.append(run_wrk_point(url, pid, users, round_, args))
    return level


def crosscheck(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every level of ``--users`` on its own fresh service (or on ``--host``): all runs, each
    Locust run with its ratios to its bracketing wrk runs."""
    rows: list[dict[str, Any]] = []
    for users in args.users:
        if args.host:
            seed_service(args.host, args.seed_products)
            level = _level(args.host, None, users, args)
        else:
            log_path = args.out / "services" / f"u{users:04d}.log"
            with fresh_service(args.service_cpus, log_path) as (url, pid):
                seed_service(url, args.seed_products)
                with _envelope(pid, args.service_cpu, args.cpu_period) as limit:
                    level = _level(url, pid, users, args)
                for row in level:
                    row["throttled_ratio"] = limit.get("throttled_ratio", math.nan)
        bracket(level)
        rows.extend(level)
    return rows


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM like Ctrl-C: stop the sweep and the service on the way out


def _wrk_capacity(rows: list[dict[str, Any]]) -> str:
    """The USL fitted to wrk's valid rows: the service's own scaling, measured by a generator
    that kept up, which Locust on one core cannot show."""
    points = [(row["users"], row["rps"]) for row in rows
              if row["tool"] == "wrk" and row["verdict"] == "valid"]
    fit = fit_usl(np.array([u for u, _ in points]), np.array([x for _, x in points]))
    if fit is None:
        return "\nUSL over wrk's valid rows: not estimated (needs 3 or more connection counts).\n"
    return (f"\nUSL over wrk's valid rows ({fit.points} runs at {fit.levels} connection "
            f"counts; every bracketing run, so the host's drift is in it): lambda "
            f"{fit.lam:,.0f} requests/s per connection, contention sigma {fit.sigma:.4f}, "
            f"coherency kappa {fit.kappa:.6f}, R^2 {fit.r_squared:.3f}; peak at "
            f"{fit.peak_users:,.0f} connections, {fit.max_rps:,.0f} requests/s.\n")


def main(argv: list[str] | None = None) -> int:
    """Run the cross-check, write OUT/crosscheck.md and .json, print the tables; the exit
    status (0 agree, 1 not, 2 bad arguments or no service, 130 interrupted)."""
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.seed_products < 1:
        print("crosscheck_wrk.py: error: --seed-products must be at least 1", file=sys.stderr)
        return 2
    unknown = sorted(set(args.service_cpus + args.generator_cpus) - set(os.sched_getaffinity(0)))
    if unknown:
        print(f"crosscheck_wrk.py: error: CPU {unknown[0]} is not available", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out = (args.out or REPO_ROOT / "results" / f"crosscheck-{stamp}").resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        rows = crosscheck(args)
    except (CrosscheckError, ServiceError) as error:
        print(f"crosscheck_wrk.py: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the service and the sweep were stopped on the way out
        print("crosscheck_wrk.py: interrupted", file=sys.stderr)
        return 130
    summary = summarize(rows, args.users)
    table = markdown_table(rows, summary) + _wrk_capacity(rows)
    settings = {"users": args.users, "rounds": args.rounds, "ramp_s": args.ramp,
                "duration_s": args.duration,
                "seed_products": args.seed_products, "service_cpus": args.service_cpus,
                "generator_cpus": args.generator_cpus, "host": args.host or "fresh local service",
                "service_vcpu": None if args.host else args.service_cpu,
                "cpu_period_ms": args.cpu_period,
                "created_at": stamp}
    (args.out / "crosscheck.md").write_text(table)
    document = {"settings": settings, "endpoint": ENDPOINT, "tolerance": TOLERANCE,
                "agree": agree(summary, args.users), "summary": summary, "rows": rows}
    (args.out / "crosscheck.json").write_text(
        json.dumps(json_ready(document), indent=2, default=str) + "\n")
    print(table)
    print(f"written: {args.out / 'crosscheck.md'} and crosscheck.json")
    return 0 if document["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
