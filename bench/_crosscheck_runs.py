"""One measured run of each tool for the cross-check (``bench/crosscheck_wrk.py``): Locust through
the sweep runner, wrk pinned to the generator CPUs; each with its verdict, CPU evidence and the
service's CPU per request it completed."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

import analysis
from analysis import AnalysisError
from bench._crosscheck_table import ENDPOINT
from bench._service_cpu import CpuTrace, tree_cpu_s
from bench.pinned_service import die_with_parent
from bench.wrk import WrkError, run_wrk, seeded_ids_script
from scenarios.runner.evidence import Scrape, scrape, window_view

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATOR_BOUND_PERCENT = 90.0
MIN_REQUESTS = 100
ERROR_RATIO = 0.01  # the sweep's --error-threshold default: the same rule for both tools


class CrosscheckError(RuntimeError):
    """A step of the cross-check could not run; one line."""


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
