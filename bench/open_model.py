"""Benchmark: the open model's cost per request and its schedule lag, beside the closed loop.

1. Saturation: FastProductUser's closed loop (no wait, ``--users``) with Locust pinned to one
   core and the service to the other: the highest rate of this pair (on this 2-core machine the
   service's core saturates first, so "half the generator's capacity" is bounded by it).
2. At half that rate, alternately (``--repeats`` rounds, the order rotating):
   - ``closed``: the same closed loop paced by the suite's scheduled Poisson pacing
     (``--pacing poisson:R/users``): Poisson arrivals per user, the same schedule as the open
     model's Poisson arrivals in total. This is the comparator of the target;
   - ``closed-rate``: paced by Locust's ``constant_throughput`` (``--pacing rate:R/users``), for
     information: Locust spawns users in per-second batches, so its users send in bursts, which
     batch the wake-ups (cheaper per request) and queue at the service (higher latency);
   - ``open``: ``--arrival-rate R --arrival-distribution poisson`` with a pool of the same users.
   Generator CPU per request (psutil, user + system, from every user spawned to the run-time
   limit), and the open model's schedule lag p99 and achieved rate (its evidence).

Targets: open / closed CPU per request <= 1.05 (median of the rounds' ratios); the schedule
lag p99 <= 2 ms (median over rounds). Run it alone, on a quiet machine:

    .venv/bin/python -m bench.open_model [--users 50] [--duration 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.user_classes import SPAWNED, STOPPING, wait_for_log
from scenarios.open_model import evidence
from scenarios.seeding import seed_products

REPO = Path(__file__).resolve().parent.parent
CPU_TARGET = 1.05
LAG_TARGET_MS = 2.0


@dataclass(frozen=True)
class Run:
    kind: str  # "capacity", "closed", "closed-rate" or "open"
    requests: int
    seconds: float
    cpu_seconds: float
    lag_p99_ms: float | None = None
    offered_rps: float | None = None
    dropped: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.cpu_seconds / max(self.requests, 1)


def run_locust(kind: str, host: str, users: int, duration: float, cpu: int | None,
               work: Path, rate: float = 0.0) -> Run:
    """One headless run of FastProductUser (GET /products/{id} only); its figures."""
    name = f"{kind}-{time.time_ns()}"
    evidence_dir = work / name
    args = ["-u", str(users), "-r", str(users)]
    if kind == "closed":
        args += ["--pacing", f"poisson:{rate / users:.6g}"]
    elif kind == "closed-rate":
        args += ["--pacing", f"rate:{rate / users:.6g}"]
    elif kind == "open":
        args = ["--arrival-rate", f"{rate:.6g}", "--max-users", str(users), "-r", str(users),
                "--arrival-distribution", "poisson"]
    command = [*(["taskset", "-c", str(cpu)] if cpu is not None else []),
               sys.executable, "-m", "locust", "-f", str(REPO / "scenarios" / "locustfile.py"),
               "FastProductUser", "--headless", "--host", host, "--weights", "get_product=1",
               "--seed-products", "1000", "-t", f"{duration + 1:g}s", "--reset-stats",
               "--json-file", str(work / name), "--loglevel", "INFO", *args]
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                   env={**os.environ, "LOADBENCH_EVIDENCE_DIR": str(evidence_dir)})
    try:
        start_wall, start_cpu = wait_for_log(SPAWNED, log, process, timeout=30)
        end_wall, end_cpu = wait_for_log(STOPPING, log, process, timeout=duration + 30)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    entries = json.loads((work / f"{name}.json").read_text())
    requests = sum(int(entry["num_requests"]) for entry in entries)
    run = Run(kind, requests, end_wall - start_wall, end_cpu - start_cpu)
    document = evidence.read(evidence_dir)
    if document is None:
        return run
    figures = evidence.summary(document)
    return Run(kind, requests, run.seconds, run.cpu_seconds, figures["lag_p99_ms"],
               figures["offered_rps"], figures["dropped"])


def start_service(port: int, cpu: int | None) -> subprocess.Popen[bytes]:
    command = [*(["taskset", "-c", str(cpu)] if cpu is not None else []), sys.executable, "-m",
               "target_service", "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
               "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the service did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="the rate to compare at (default: half the measured capacity)")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    service_cpu, locust_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    service = start_service(port, service_cpu)
    host = f"http://127.0.0.1:{port}"
    try:
        seed_products(host, 1000)  # once: every run then finds them there
        with tempfile.TemporaryDirectory(prefix="bench-open-model-") as tmp:
            work = Path(tmp)
            rate = args.rate
            if rate <= 0:
                capacity = run_locust("capacity", host, args.users, args.duration, locust_cpu,
                                      work)
                rate = capacity.rps / 2
                print(f"saturation (closed loop, no wait, {args.users} users, Locust on cpu "
                      f"{locust_cpu}, service on cpu {service_cpu}): {capacity.rps:.0f} "
                      f"requests/s with Locust at {capacity.cpu_seconds / capacity.seconds:.2f} "
                      f"cores; comparing at half: {rate:.0f}/s")
            ratios: list[float] = []
            lags: list[float] = []
            for round_number in range(1, args.repeats + 1):
                kinds = ["closed", "open", "closed-rate"]
                shift = (round_number - 1) % len(kinds)
                order = kinds[shift:] + kinds[:shift]
                runs = {kind: run_locust(kind, host, args.users, args.duration, locust_cpu,
                                         work, rate) for kind in order}
                closed, open_, bursty = runs["closed"], runs["open"], runs["closed-rate"]
                ratio = open_.cpu_us_per_request / closed.cpu_us_per_request
                ratios.append(ratio)
                if open_.lag_p99_ms is not None:
                    lags.append(open_.lag_p99_ms)
                print(f"round {round_number}: closed {closed.rps:.1f} req/s "
                      f"{closed.cpu_us_per_request:.0f} µs CPU/request; open {open_.rps:.1f} "
                      f"req/s (offered {open_.offered_rps or 0:.1f}/s, dropped {open_.dropped}) "
                      f"{open_.cpu_us_per_request:.0f} µs CPU/request, schedule lag p99 "
                      f"{open_.lag_p99_ms} ms; open/closed CPU per request {ratio:.3f} "
                      f"(closed-rate {bursty.rps:.1f} req/s {bursty.cpu_us_per_request:.0f} µs; "
                      f"open/closed-rate "
                      f"{open_.cpu_us_per_request / bursty.cpu_us_per_request:.3f})")
    finally:
        service.terminate()
        service.wait(timeout=10)
    ratio = statistics.median(ratios)
    lag = statistics.median(lags) if lags else float("nan")
    cpu_ok, lag_ok = ratio <= CPU_TARGET, lag <= LAG_TARGET_MS
    print(f"open/closed generator CPU per request at {rate:.0f}/s: median {ratio:.3f} of "
          f"{len(ratios)} rounds (target <= {CPU_TARGET}): {'PASS' if cpu_ok else 'FAIL'}")
    print(f"schedule lag p99: median {lag:.2f} ms (target <= {LAG_TARGET_MS} ms): "
          f"{'PASS' if lag_ok else 'FAIL'}")
    return 0 if cpu_ok and lag_ok else 1


if __name__ == "__main__":
    sys.exit(main())
