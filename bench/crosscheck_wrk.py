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
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil

import analysis
from analysis import AnalysisError
from analysis.capacity import fit_usl
from bench._crosscheck_rounds import CLASSES, TOLERANCE, agree, bracket, summarize
from bench._crosscheck_table import ENDPOINT, json_ready, markdown_table
from bench._service_cpu import CpuTrace, tree_cpu_s
from bench.pinned_service import (
    ServiceError,
    die_with_parent,
    fresh_service,
    seed_service,
)
from bench.wrk import WrkError, run_wrk, seeded_ids_script
from scenarios.runner.evidence import Scrape, scrape, window_view
from scenarios.runner.target import (
    DEFAULT_PERIOD_MS,
    CpuEnvelope,
    CpuLimitError,
    parse_service_cpu,
    throttling,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATOR_BOUND_PERCENT = 90.0
MIN_REQUESTS = 100
ERROR_RATIO = 0.01  # the sweep's --error-threshold default: the same rule for both tools


class CrosscheckError(RuntimeError):
    """A step of the cross-check could not run; one line."""


def _seconds(text: str) -> float:
    value = text.strip().lower()
    scale = 0.001 if value.endswith("ms") else 1.0
    number = value.removesuffix("ms").removesuffix("s")
    try:
        seconds = float(number) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (e.g. 8s, 500ms)") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: must be positive")
    return seconds


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad list {text!r} (e.g. 1,10,50)") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"bad list {text!r}: positive integers expected")
    return levels


def _rounds(text: str) -> int:
    try:
        rounds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad count {text!r} (e.g. 3)") from None
    if rounds < 1:
        raise argparse.ArgumentTypeError(f"bad count {text!r}: at least 1")
    return rounds


def _vcpu(text: str) -> float | None:
    try:
        return parse_service_cpu(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cpus(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad CPU list {text!r} (e.g. 1)") from None


def run_locust(url: str, service_pid: int | None, users: int, name: str, round_: int,
               args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """One user class, GET by id only, `users` users, through the sweep runner; the service's
    CPU traced around the call and read at the edges of Locust's measured window."""
    sweeps = out / "sweeps" / f"u{users:04d}" / f"r{round_}-{name}"
    command = [sys.executable, "-m", "scenarios.sweep", "--host", url,
               "--user-classes", name, "--weights", "get_product=1",
               "--users", str(users), "--ramp", f"{args.ramp:g}s",
               "--duration", f"{args.duration:g}s", "--repeats", "1", "--processes", "1",
               "--pacing", "none", "--seed-products", str(args.seed_products),
               "--out", str(sweeps)]
    if args.generator_cpus:
        command += ["--generator-cpus", ",".join(map(str, args.generator_cpus))]
    budget = 2 * (args.ramp + args.duration) + 120
    before = scrape(url) if service_pid else None
    trace = CpuTrace(service_pid) if service_pid else None
    try:
        with trace or contextlib.nullcontext():
            completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                                       timeout=budget, check=False, preexec_fn=die_with_parent)
    except subprocess.TimeoutExpired:
        raise CrosscheckError(f"the {name} sweep at {users} users did not finish in "
                              f"{budget:g}s") from None
    after = scrape(url) if service_pid else None
    if completed.returncode not in (0, 1):
        last = (completed.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CrosscheckError(f"the {name} sweep at {users} users exited "
                              f"{completed.returncode}: {last}")
    try:
        sweep = analysis.load(sweeps / "latest")
    except AnalysisError as error:
        raise CrosscheckError(str(error)) from None
    rows = sweep.points[sweep.points["endpoint"] == ENDPOINT]
    if len(rows) != 1:
        raise CrosscheckError(f"the {name} sweep at {users} users has {len(rows)} "
                              f"`{ENDPOINT}` rows, expected 1")
    row = rows.iloc[0]
    run_dir = sweep.run_dir(str(row["run_id"]))
    result = _locust_row(row, url, users, run_dir, out)
    result.update(round=round_, **_locust_service_cpu(run_dir, trace, result["requests"]))
    if trace is not None:
        result["call_service_cpu_s"] = trace.total_s
        result["call_service_requests"] = _served(before, after, load_only=False)
    return result


def _locust_row(row: Any, url: str, users: int, run_dir: Path, out: Path) -> dict[str, Any]:
    run = json.loads((run_dir / "run.json").read_text())
    busy = ((run.get("cpu") or {}).get("host_busy") or {}).get("generator_cpus_mean_percent")
    return {
        "users": users, "round": 0, "tool": "locust", "class": str(row["user_class"]),
        "rps": float(row["rps"]), "requests": int(row["requests"]),
        "failures": int(row["failures"]), "mean_ms": float(row["mean_ms"]),
        "p50_ms": float(row["p50_ms"]),
        "p95_ms": float(row["p95_ms"]), "p99_ms": float(row["p99_ms"]),
        "generator_cpu_percent": float(row["gen_cpu_mean"]),
        "generator_cpus_busy_percent": math.nan if busy is None else float(busy),
        "verdict": str(row["status"]), "reasons": str(row["reasons"]),
        "run_dir": str(run_dir.relative_to(out.resolve())), "target": url,
    }


def _epoch(text: str | None) -> float:
    return datetime.fromisoformat(text).timestamp() if text else math.nan


def _locust_service_cpu(run_dir: Path, trace: CpuTrace | None, requests: int,
                        ) -> dict[str, Any]:
    """The service's CPU over Locust's measured window (run.json's edges) per request the
    service completed in it: its own count between Locust's exact edges (``server.window_count``,
    by completion time), else the /metrics view scraped at the edges, else Locust's count."""
    run = json.loads((run_dir / "run.json").read_text())
    window = run.get("window") or {}
    start, end = _epoch(window.get("start")), _epoch(window.get("end"))
    server = run.get("server") or {}
    load = server.get("load") or {}
    served = ((server.get("window_count") or {}).get("service_requests") or load.get("requests")
              or requests)
    cpu_s = trace.between(start, end) if trace is not None else math.nan
    return {"service_cpu_s": cpu_s, "service_requests": served,
            "service_us_per_request": 1e6 * cpu_s / served if served else math.nan,
            "service_cpu_percent": 100 * cpu_s / (end - start) if end > start else math.nan}


def _served(before: Scrape | str | None, after: Scrape | str | None, load_only: bool,
            ) -> float:
    """Requests the service completed between two /metrics scrapes: the load's routes
    (GET /products/{id} here), or every route (with /health, /metrics)."""
    view = window_view(before, after)
    if not view["available"]:
        return math.nan
    if load_only:
        return float(view["load"]["requests"])
    return float(sum(route["requests"] for route in view["routes"].values()))


def _busy_percent(before: list[Any], after: list[Any], cpus: list[int]) -> float:
    """How busy `cpus` were between two psutil.cpu_times(percpu=True) snapshots, all processes."""
    busy = total = 0.0
    for cpu in cpus:
        spent = sum(after[cpu]) - sum(before[cpu])
        idle = (after[cpu].idle - before[cpu].idle) + (after[cpu].iowait - before[cpu].iowait)
        busy += spent - idle
        total += spent
    return 100 * busy / total if total > 0 else math.nan


def run_wrk_point(url: str, service_pid: int | None, users: int, round_: int,
                  args: argparse.Namespace) -> dict[str, Any]:
    """wrk -t1 -cN pinned to the generator CPUs, random seeded ids, for the Locust window's
    duration, with CPU evidence and the service's CPU per request it completed."""
    before = scrape(url) if service_pid else None
    service_before = tree_cpu_s(service_pid) if service_pid else math.nan
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    host_before = psutil.cpu_times(percpu=True)
    started = time.monotonic()
    try:
        result = run_wrk(f"{url}/", seconds=args.duration, connections=users, threads=1,
                         cpus=args.generator_cpus or None,
                         lua=seeded_ids_script(args.seed_products))
    except WrkError as error:
        raise CrosscheckError(f"wrk at {users} connections: {error}") from None
    elapsed = time.monotonic() - started
    service_cpu = (tree_cpu_s(service_pid) - service_before) if service_pid else math.nan
    after = scrape(url) if service_pid else None
    generator_cpus = args.generator_cpus or sorted(os.sched_getaffinity(0))
    generator_busy = _busy_percent(host_before, psutil.cpu_times(percpu=True), generator_cpus)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (children.ru_utime - children_before.ru_utime
               + children.ru_stime - children_before.ru_stime)
    generator_percent = 100 * wrk_cpu / elapsed
    served = _served(before, after, load_only=True) if service_pid else math.nan
    if math.isnan(served) or served <= 0:
        served = float(result.requests)
    reasons = []
    if result.requests < MIN_REQUESTS:
        reasons.append(f"too-few-samples: {result.requests} requests (< {MIN_REQUESTS})")
    errors = result.non_2xx + result.socket_errors
    if errors > ERROR_RATIO * max(result.requests, 1):
        reasons.append(f"sut-errors: {result.non_2xx} non-2xx answers, "
                       f"{result.socket_errors} socket errors of {result.requests} requests "
                       f"(threshold {ERROR_RATIO:.0%}, as the sweep's)")
    if generator_percent >= GENERATOR_BOUND_PERCENT:
        reasons.append(f"generator-bound: wrk at {generator_percent:.0f}% of a core")
    elif generator_busy >= GENERATOR_BOUND_PERCENT:  # the sweep's rule: a full core starves wrk
        reasons.append(f"generator-bound: the generator's CPUs were {generator_busy:.0f}% busy, "
                       f"wrk itself {generator_percent:.0f}% of a core")
    verdict = reasons[0].split(":", 1)[0] if reasons else "valid"
    return {
        "users": users, "round": round_, "tool": "wrk", "class": "-",
        "rps": result.requests_per_s,
        "requests": result.requests, "failures": result.non_2xx + result.socket_errors,
        "mean_ms": result.mean_ms, "p50_ms": result.p50_ms, "p95_ms": math.nan,
        "p99_ms": result.p99_ms,
        "generator_cpu_percent": generator_percent,
        "generator_cpus_busy_percent": generator_busy,
        "verdict": verdict, "reasons": "; ".join(reasons), "run_dir": "", "target": url,
        "service_cpu_s": service_cpu, "service_requests": served,
        "service_us_per_request": 1e6 * service_cpu / served,
        "service_cpu_percent": 100 * service_cpu / elapsed,
    }


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


def _parser() -> argparse.ArgumentParser:
    available = sorted(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(
        prog="crosscheck_wrk.py",
        description="Locust (both user classes, GET by id only) against wrk at the same number "
                    "of connections on the same fresh service; writes OUT/crosscheck.md/.json.")
    parser.add_argument("--users", type=_levels, default=[1, 2, 5, 10, 20, 50],
                        help="concurrency levels (Locust users = wrk connections), "
                             "default 1,2,5,10,20,50")
    parser.add_argument("--rounds", type=_rounds, default=3,
                        help="rounds of [Locust fast, Locust http, wrk] after a first wrk run, "
                             "per level (default 3)")
    parser.add_argument("--ramp", type=_seconds, default=2.0, help="Locust's ramp (default 2s)")
    parser.add_argument("--duration", type=_seconds, default=8.0,
                        help="measured window of Locust and wrk's run (default 8s)")
    parser.add_argument("--seed-products", type=int, default=1000,
                        help="seeded products, the ids both tools ask for (default 1000)")
    parser.add_argument("--service-cpus", type=_cpus,
                        default=available[:1] if len(available) > 1 else [],
                        help="CPUs of the service (default: the first)")
    parser.add_argument("--generator-cpus", type=_cpus,
                        default=available[1:] if len(available) > 1 else [],
                        help="CPUs of Locust and wrk (default: the others)")
    parser.add_argument("--service-cpu", type=_vcpu, default=None,
                        help="the service's CPU envelope in vCPUs (a cgroup quota, as the "
                             "sweep's --service-cpu; default none)")
    parser.add_argument("--cpu-period", type=float, default=DEFAULT_PERIOD_MS,
                        help=f"the quota's period in ms (default {DEFAULT_PERIOD_MS:g})")
    parser.add_argument("--host", help="a running service instead of a fresh local one")
    parser.add_argument("--out", type=Path, default=None,
                        help="output dir (default results/crosscheck-<UTC time>)")
    return parser


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
    args = _parser().parse_args(argv)
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
