"""Benchmark: the product service against a bare ASGI ceiling, driven by wrk on loopback.

    .venv/bin/python -m bench.service [--seconds 4] [--rounds 2] [--connections 50]

Both apps run on uvicorn with the same settings, pinned to one CPU; wrk runs pinned to another.
Each is seeded with the same products over HTTP; then `GET /products/{id}` (random ids, a wrk Lua
script), `GET /products` (first page) and `GET /products?limit=20` (the same page through the
service's Starlette routing instead of its fast path) are measured in interleaved rounds, best
round kept.
Besides requests/s it reports the server's CPU time per request (from /proc), which other load on
a shared machine disturbs much less than throughput.
Target: the service reaches at least 0.65 of the bare app's requests/s for `GET /products/{id}`.
It also runs the service without its /metrics layer (target_service/metrics.py) side by side:
the layer may cost at most 5% of the service's throughput (ratio with/without >= 0.95).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.pinned_service import pinned_server
from bench.wrk import WrkError, WrkResult, random_path_script, run_wrk
from scenarios.runner.processes import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.65
METRICS_TARGET = 0.95
NO_METRICS = "no /metrics"
ID_PREFIX = "bench-"
UVICORN_FLAGS = ["--no-access-log", "--log-level", "warning"]
APPS = ("service", NO_METRICS, "bare ASGI")


@dataclass
class Measurement:
    wrk: WrkResult
    cpu_us_per_request: float


def server_command(app: str, port: int) -> list[str]:
    if app == "service":
        return [sys.executable, "-m", "target_service", "--host", "127.0.0.1",
                "--port", str(port), *UVICORN_FLAGS]
    # The same uvicorn settings as target_service/__main__.py.
    target = ["bench._service_without_metrics:create_app", "--factory"] if app == NO_METRICS \
        else ["bench._bare_asgi:app"]
    return [sys.executable, "-m", "uvicorn", *target, "--app-dir", str(REPO_ROOT),
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--lifespan", "on", "--no-server-header", *UVICORN_FLAGS]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(app: str, cpu: int | None) -> Iterator[tuple[str, int]]:
    """Start a server pinned to `cpu`; yield (url, pid) once /health answers; SIGTERM on exit."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as scratch, \
            pinned_server(server_command(app, port), port, None if cpu is None else [cpu],
                          Path(scratch) / "server.log") as server:
        yield server


def seed(url: str, count: int) -> None:
    for index in range(count):
        body = json.dumps({"productId": f"{ID_PREFIX}{index}", "name": f"Product {index}",
                           "price": round(1 + index * 0.25, 2)}).encode()
        request = urllib.request.Request(f"{url}/products", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status != 201:
                raise RuntimeError(f"seeding {url}: POST answered {response.status}")


def measure(url: str, pid: int, args: argparse.Namespace, wrk_cpus: list[int] | None,
            path: str, lua: str | None) -> Measurement:
    before = cpu_seconds(pid)
    result = run_wrk(url + path, seconds=args.seconds, connections=args.connections,
                     cpus=wrk_cpus, lua=lua)
    used = cpu_seconds(pid) - before
    if result.non_2xx or result.socket_errors or not result.requests:
        raise RuntimeError(f"{url}{path}: {result.requests} requests, {result.non_2xx} non-2xx, "
                           f"{result.socket_errors} socket errors")
    return Measurement(result, used / result.requests * 1e6)


def choose_cpus() -> tuple[int | None, list[int] | None, str]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None, "only one CPU available: server and wrk share it (figures are lower)"
    return cpus[0], [cpus[1]], f"server pinned to CPU {cpus[0]}, wrk to CPU {cpus[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The product service against a bare ASGI "
                                                 "ceiling, driven by wrk on loopback.")
    parser.add_argument("--seconds", type=float, default=4.0, help="per wrk run (default 4)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    parser.add_argument("--products", type=int, default=1000, help="products seeded (default 1000)")
    args = parser.parse_args(argv)
    server_cpu, wrk_cpus, pinning = choose_cpus()
    endpoints = {
        "GET /products/{id}": ("/products/", random_path_script(f"/products/{ID_PREFIX}",
                                                                args.products)),
        "GET /products": ("/products", None),
        # the same first page, but a query string sends it through Starlette's routing
        "GET /products?limit=20": ("/products?limit=20", None),
    }
    best: dict[tuple[str, str], Measurement] = {}
    load = os.getloadavg()[0]
    try:
        with ExitStack() as stack:
            servers = {app: stack.enter_context(running(app, server_cpu)) for app in APPS}
            for url, _ in servers.values():
                seed(url, args.products)
            print(f"wrk {args.seconds:g} s x {args.rounds} rounds, {args.connections} connections, "
                  f"{args.products} products; {pinning}; load average {load:.1f} at start")
            for path, lua in endpoints.values():  # warm-up, not recorded
                for url, _ in servers.values():
                    run_wrk(url + path, seconds=1, connections=args.connections, cpus=wrk_cpus,
                            lua=lua)
            for _ in range(args.rounds):
                for endpoint, (path, lua) in endpoints.items():
                    for app, (url, pid) in servers.items():
                        result = measure(url, pid, args, wrk_cpus, path, lua)
                        key = (endpoint, app)
                        if key not in best or \
                                result.wrk.requests_per_s > best[key].wrk.requests_per_s:
                            best[key] = result
    except (WrkError, RuntimeError, OSError) as error:
        print(f"bench/service.py: {error}", file=sys.stderr)
        return 2
    report(best, list(endpoints))
    report_metrics_cost(best, list(endpoints))
    if load > 1.0:
        print(f"note: the machine was busy (load average {load:.1f}); throughput figures are "
              "disturbed, CPU per request much less so")
    return 0


def report(best: dict[tuple[str, str], Measurement], endpoints: Iterable[str]) -> None:
    print(f"\n{'endpoint':<22} {'app':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU us/req':>11}")
    for endpoint in endpoints:
        for app in APPS:
            m = best[(endpoint, app)]
            print(f"{endpoint:<22} {app:<10} {m.wrk.requests_per_s:>9.0f} {m.wrk.p50_ms:>8.2f} "
                  f"{m.wrk.p99_ms:>8.2f} {m.cpu_us_per_request:>11.1f}")
    print(f"\n{'service / bare ASGI':<22} {'req/s':>10} {'by CPU/req':>12}")
    for endpoint in endpoints:
        service, bare = best[(endpoint, "service")], best[(endpoint, "bare ASGI")]
        by_rate = service.wrk.requests_per_s / bare.wrk.requests_per_s
        by_cpu = bare.cpu_us_per_request / service.cpu_us_per_request
        print(f"{endpoint:<22} {by_rate:>10.2f} {by_cpu:>12.2f}")
    lookup, listing = best[("GET /products/{id}", "service")], best[("GET /products", "service")]
    print(f"\nservice listing / service lookup (req/s): "
          f"{listing.wrk.requests_per_s / lookup.wrk.requests_per_s:.2f}")
    ceiling = best[("GET /products/{id}", "bare ASGI")]
    get_ratio = lookup.wrk.requests_per_s / ceiling.wrk.requests_per_s
    cpu_ratio = ceiling.cpu_us_per_request / lookup.cpu_us_per_request
    print(f"target: GET /products/{{id}} >= {TARGET_RATIO} of bare ASGI req/s: "
          f"{_verdict(get_ratio)} ({get_ratio:.2f}); "
          f"cross-check by CPU per request: {_verdict(cpu_ratio)} ({cpu_ratio:.2f})")


def _verdict(ratio: float, target: float = TARGET_RATIO) -> str:
    return "PASS" if ratio >= target else "FAIL"


def report_metrics_cost(best: dict[tuple[str, str], Measurement],
                        endpoints: Iterable[str]) -> None:
    print(f"\n{'with / without /metrics':<24} {'req/s':>8} {'by CPU/req':>12}")
    worst = 1.0
    for endpoint in endpoints:
        on, off = best[(endpoint, "service")], best[(endpoint, NO_METRICS)]
        by_rate = on.wrk.requests_per_s / off.wrk.requests_per_s
        by_cpu = off.cpu_us_per_request / on.cpu_us_per_request
        worst = min(worst, by_rate)
        print(f"{endpoint:<24} {by_rate:>8.3f} {by_cpu:>12.3f}")
    print(f"target: /metrics costs at most 5% of throughput (ratio >= {METRICS_TARGET}): "
          f"{_verdict(worst, METRICS_TARGET)} (worst endpoint {worst:.3f})")


if __name__ == "__main__":
    sys.exit(main())
