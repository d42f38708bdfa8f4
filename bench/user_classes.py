"""Benchmark: the scenario user classes against bare Locust users, requests/s per core.

For HttpUser and FastHttpUser, alternately runs bench/bare_locustfile.py (a bare user doing only
GET /products/{id}) and scenarios/locustfile.py restricted to the same request
(``--weights get_product=1 --pacing none``), headless, same users and duration, Locust pinned to
one core and the service to the other. The Locust process's CPU time over the measured window
(from every user spawned to the run-time limit) comes from psutil; requests from --json-file.
Target: scenario / bare requests per CPU-second >= 0.9 for both classes (the geometric mean
over repeats of the ratio of two back-to-back runs).
It also runs the scenario with its generator instrumentation switched off
(``LOADBENCH_INSTRUMENTATION=off``: no event-loop probe, no HDR recording of response times)
beside the instrumented one (which writes its evidence files as in a sweep). Target:
instrumented / uninstrumented requests per
CPU-second >= 0.95 (the instrumentation costs at most 5% of generator throughput per core).

    .venv/bin/python -m bench.user_classes [--users 50] [--duration 8] [--repeats 4]
                                           [--concurrent]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from scenarios.runner.processes import NotReady, free_port, wait_until_ready
from scenarios.seeding import seed_products

REPO = Path(__file__).resolve().parent.parent

LOCUST = [sys.executable, "-m", "locust"]
TARGET_RATIO = 0.9
INSTRUMENTATION_TARGET = 0.95
VARIANTS = ("bare", "scenario", "uninstrumented")
CLASSES = {  # client: (bare class, scenario class)
    "http": ("BareHttpUser", "HttpProductUser"),
    "fast": ("BareFastUser", "FastProductUser"),
}
SPAWNED = re.compile(r"All users spawned")  # Locust's log: the window opens
STOPPING = re.compile(r"--run-time limit reached")  # ... and closes


@dataclass(frozen=True)
class Run:
    client: str
    variant: str  # "bare", "scenario" or "uninstrumented" (the scenario, instrumentation off)
    requests: int
    failures: int
    seconds: float
    cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def rps_per_core(self) -> float:
        return self.requests / self.cpu_seconds

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds


def _taskset(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


def cpu_seconds(process: psutil.Process) -> float:
    """A process's CPU time so far (user + system), in seconds."""
    times = process.cpu_times()
    return float(times.user + times.system)


def wait_for_log(pattern: re.Pattern[str], log: Path, process: subprocess.Popen[bytes],
              timeout: float) -> tuple[float, float]:
    """Poll the log until pattern appears; return (wall time, Locust CPU seconds) at that moment."""
    watched = psutil.Process(process.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pattern.search(log.read_text(errors="replace")):
            return time.monotonic(), cpu_seconds(watched)
        if process.poll() is not None:
            break
        time.sleep(0.01)
    raise RuntimeError(f"{log}: {pattern.pattern!r} not seen:\n{log.read_text()[-1500:]}")


class LocustRun:
    """One headless Locust run, started now; ``finish()`` waits for it and returns its figures."""

    def __init__(self, client: str, variant: str, host: str, users: int, duration: float,
                 cpu: int | None, work: Path) -> None:
        bare_class, scenario_class = CLASSES[client]
        ramp = 1.0
        self.client, self.variant, self.duration = client, variant, duration
        self.json_file = work / f"{client}-{variant}.json"
        self.log = work / f"{client}-{variant}.log"
        env = dict(os.environ)
        if variant == "bare":
            args = ["-f", str(REPO / "bench" / "bare_locustfile.py"), bare_class]
        else:
            if variant == "uninstrumented":
                env["LOADBENCH_INSTRUMENTATION"] = "off"
            else:
                env["LOADBENCH_EVIDENCE_DIR"] = str(work / f"evidence-{client}-{time.time_ns()}")
            args = ["-f", str(REPO / "scenarios" / "locustfile.py"), scenario_class,
                    "--weights", "get_product=1", "--pacing", "none", "--seed-products", "1000"]
        command = [*_taskset(cpu), *LOCUST, *args, "--headless", "--host", host,
                   "-u", str(users), "-r", str(users / ramp), "-t", f"{ramp + duration:g}s",
                   "--reset-stats", "--json-file", str(self.json_file.with_suffix("")),
                   "--loglevel", "INFO"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                            cwd=REPO, env=env)

    def wait_spawned(self) -> None:
        self.start_wall, self.start_cpu = wait_for_log(SPAWNED, self.log, self.process, timeout=30)

    def finish(self) -> Run:
        try:
            end_wall, end_cpu = wait_for_log(STOPPING, self.log, self.process,
                                          timeout=self.duration + 30)
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        entries = json.loads(self.json_file.read_text())
        requests = sum(int(entry["num_requests"]) for entry in entries)
        failures = sum(int(entry["num_failures"]) for entry in entries)
        return Run(self.client, self.variant, requests, failures, end_wall - self.start_wall,
                   end_cpu - self.start_cpu)


def run_variants(client: str, variants: tuple[str, ...], concurrent: bool, host: str,
                 users: int, duration: float, cpu: int | None, work: Path) -> list[Run]:
    """Run the variants one after the other, or all at once on the same core."""
    if not concurrent:
        runs = []
        for variant in variants:
            run = LocustRun(client, variant, host, users, duration, cpu, work)
            run.wait_spawned()
            runs.append(run.finish())
        return runs
    started = [LocustRun(client, variant, host, users, duration, cpu, work)
               for variant in variants]
    try:
        for run in started:
            run.wait_spawned()
    except BaseException:
        for run in started:
            run.process.kill()
            run.process.wait()
        raise
    return [run.finish() for run in started]


def start_service(port: int, cpu: int | None) -> subprocess.Popen[bytes]:
    command = [*_taskset(cpu), sys.executable, "-m", "target_service", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)

    def healthy() -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
            return

    try:
        wait_until_ready(healthy, None, timeout=10.0, interval=0.05)
    except NotReady:
        process.kill()
        raise RuntimeError("the service did not start") from None
    return process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each variant; a multiple of 3, since the order rotates")
    parser.add_argument("--clients", default="http,fast")
    parser.add_argument("--concurrent", action="store_true",
                        help="run each bare/scenario pair at the same time on the Locust core "
                             "(both see the same machine noise) instead of one after the other")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    service_cpu, locust_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    print(f"cpus {cpus}: service on {service_cpu}, Locust on {locust_cpu}; {args.users} users, "
          f"{args.duration:g} s measured per run, {args.repeats} runs per variant "
          f"{'at the same time' if args.concurrent else 'alternated'}")
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    service = start_service(port, service_cpu)
    runs: list[Run] = []
    try:
        seed_products(host, 1000)
        with tempfile.TemporaryDirectory(prefix="bench-user-classes-") as tmp:
            for client in args.clients.split(","):
                for repeat in range(args.repeats):
                    # Rotate which variant goes first, so that drift hits all alike.
                    shift = repeat % len(VARIANTS)
                    order = VARIANTS[shift:] + VARIANTS[:shift]
                    for run in run_variants(client, order, args.concurrent, host, args.users,
                                            args.duration, locust_cpu, Path(tmp)):
                        runs.append(run)
                        print(f"  {client:4} {run.variant:8} {run.rps:8.0f} req/s  "
                              f"{100 * run.cores:5.1f}% of a core  {run.rps_per_core:8.0f} "
                              f"req/s per core  ({run.requests} requests, {run.failures} failed)",
                              flush=True)
    finally:
        service.terminate()
        service.wait(timeout=10)
    print()
    print(f"{'client':6} {'bare req/s/core':>16} {'scenario req/s/core':>20} {'ratio':>6} "
          f"{'pair ratios':>24}  target >= {TARGET_RATIO}")
    ok = True
    for client in args.clients.split(","):
        bare = [r.rps_per_core for r in runs if r.client == client and r.variant == "bare"]
        scenario = [r.rps_per_core for r in runs if r.client == client and r.variant == "scenario"]
        # Each repeat's two runs ran back to back (or at once): their ratio is the least exposed to
        # the machine's drift. Which one goes first alternates (the first started tends to do
        # better), so the verdict uses the geometric mean of the pair ratios over an even count.
        pairs = [s / b for s, b in zip(scenario, bare, strict=True)]
        ratio = statistics.geometric_mean(pairs)
        ok = ok and ratio >= TARGET_RATIO
        print(f"{client:6} {statistics.median(bare):16.0f} {statistics.median(scenario):20.0f} "
              f"{ratio:6.3f} {' '.join(f'{p:.3f}' for p in pairs):>24}  "
              f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")
    print(f"\n{'client':6} {'uninstrumented':>15} {'instrumented':>13} {'ratio':>6} "
          f"{'per-repeat ratios':>24}  target >= {INSTRUMENTATION_TARGET} (req/s per core)")
    for client in args.clients.split(","):
        on = [r.rps_per_core for r in runs if r.client == client and r.variant == "scenario"]
        off = [r.rps_per_core for r in runs
               if r.client == client and r.variant == "uninstrumented"]
        pairs = [a / b for a, b in zip(on, off, strict=True)]
        ratio = statistics.geometric_mean(pairs)
        ok = ok and ratio >= INSTRUMENTATION_TARGET
        print(f"{client:6} {statistics.median(off):15.0f} {statistics.median(on):13.0f} "
              f"{ratio:6.3f} {' '.join(f'{p:.3f}' for p in pairs):>24}  "
              f"{'PASS' if ratio >= INSTRUMENTATION_TARGET else 'FAIL'}")
    failed = sum(r.failures for r in runs)
    if failed:
        print(f"warning: {failed} failed requests across the runs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
