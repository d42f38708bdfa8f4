"""Benchmark: the storage backends' read path against bare ASGI ceilings, and the sweep's reset.

    .venv/bin/python -m bench.storage [--seconds 4] [--rounds 2] [--connections 50]

PostgreSQL and Redis (throwaway servers, scenarios/runner/target/_db_servers.py) run pinned to the
same CPU as the app under test; wrk runs pinned to another. `GET /products/{id}` over the 1,000 seed
products (random ids, a wrk Lua script) is measured in interleaved rounds, best round kept, for:

- the service with `--store postgres` (cache off) against a bare ASGI app doing the same asyncpg
  query through the same pool (the service's `create_pool`, same size);
- the service with the Redis cache, every read a hit (warmed first), against a bare ASGI app
  doing the same Redis GET with the same client settings.

Besides requests/s it reports the app's CPU time per request and the app's plus the database's
(or cache's) CPU per request, from /proc. Then it times the sweep's per-point reset (truncate +
COPY of 1,000 seed products + cache flush, through the service's `POST /admin/reset`, as the
sweep does) five times, and reports once the same reset through the admin command.
Targets: each service >= 0.7 x its bare app's requests/s; the reset of 1,000 products < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.pinned_service import pinned_server, process_tree_cpu_s
from bench.wrk import WrkError, WrkResult, run_wrk, seeded_ids_script
from scenarios.runner.processes import free_port
from scenarios.runner.target import BackendServers, ServerError

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.7
RESET_TARGET_S = 1.0
ADMIN_TOKEN = "bench-storage-admin-token"  # turns on the services' POST /admin/reset
SEEDS = 1000
POOL_SIZE = 10
UVICORN_FLAGS = ["--no-access-log", "--log-level", "warning"]
PAIRS = (("postgres, cache off", "service pg", "bare asyncpg"),
         ("cache on, hits", "service pg+cache", "bare Redis GET"))


@dataclass
class Measurement:
    wrk: WrkResult
    app_us: float  # the app's CPU per request
    total_us: float  # the app's plus the database's (or cache's) CPU per request


def command(app: str, port: int, servers: BackendServers) -> tuple[list[str], dict[str, str]]:
    assert servers.database_url is not None and servers.redis is not None
    if app.startswith("service"):
        flags = ["--store", "postgres", "--database-url", servers.database_url,
                 "--db-pool-size", str(POOL_SIZE)]
        if app == "service pg+cache":
            flags += ["--cache-url", servers.redis.url]
        return [sys.executable, "-m", "target_service", "--host", "127.0.0.1", "--port",
                str(port), *flags, *UVICORN_FLAGS], {"ADMIN_TOKEN": ADMIN_TOKEN}
    env = {"BARE_BACKEND": "postgres" if app == "bare asyncpg" else "redis",
           "DATABASE_URL": servers.database_url, "CACHE_URL": servers.redis.url,
           "DB_POOL_SIZE": str(POOL_SIZE)}
    return [sys.executable, "-m", "uvicorn", "bench._bare_storage_asgi:app", "--app-dir",
            str(REPO_ROOT), "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--lifespan", "on", "--no-server-header",
            *UVICORN_FLAGS], env


@contextmanager
def running(app: str, cpu: int | None, servers: BackendServers) -> Iterator[tuple[str, int]]:
    port = free_port()
    argv, env = command(app, port, servers)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # pinned_server passes this process's environment on
    try:
        with tempfile.TemporaryDirectory(prefix="bench-storage-") as scratch, \
                pinned_server(argv, port, None if cpu is None else [cpu],
                              Path(scratch) / "server.log") as server:
            _LOGS[server[1]] = Path(scratch) / "server.log"
            yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def measure(url: str, pid: int, backing_pid: int, args: argparse.Namespace,
            wrk_cpus: list[int] | None) -> Measurement:
    app, backing = psutil.Process(pid), psutil.Process(backing_pid)
    app_before, backing_before = process_tree_cpu_s(app), process_tree_cpu_s(backing)
    result = run_wrk(url + "/products/", seconds=args.seconds, connections=args.connections,
                     cpus=wrk_cpus, lua=seeded_ids_script(SEEDS))
    app_used = process_tree_cpu_s(app) - app_before
    backing_used = process_tree_cpu_s(backing) - backing_before
    if result.non_2xx or result.socket_errors or not result.requests:
        raise RuntimeError(f"{url}: {result.requests} requests, {result.non_2xx} non-2xx, "
                           f"{result.socket_errors} socket errors; last lines of its log: "
                           + log_tail(pid))
    return Measurement(result, app_used / result.requests * 1e6,
                       (app_used + backing_used) / result.requests * 1e6)


_LOGS: dict[int, Path] = {}


def health(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
        body: dict[str, object] = json.loads(response.read())
    return body


def route_reset(url: str) -> None:
    """POST /admin/reset: the seed products, the cache flushed (target_service/README.md)."""
    request = urllib.request.Request(
        f"{url}/admin/reset", data=json.dumps({"seed": SEEDS}).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def log_tail(pid: int) -> str:
    path = _LOGS.get(pid)
    return path.read_text(errors="replace")[-1500:] if path and path.exists() else "(none)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Storage backends' read path against bare "
                                                 "ASGI ceilings; the per-point reset.")
    parser.add_argument("--seconds", type=float, default=4.0, help="per wrk run (default 4)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    args = parser.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, wrk_cpus = (cpus[0], [cpus[1]]) if len(cpus) > 1 else (None, None)
    pinning = (f"app, PostgreSQL and Redis pinned to CPU {server_cpu}, wrk to CPU {cpus[1]}"
               if server_cpu is not None else "one CPU: everything shares it")
    apps = [app for _, service, bare in PAIRS for app in (service, bare)]
    best: dict[str, Measurement] = {}
    resets: list[float] = []
    load = os.getloadavg()[0]
    try:
        with ExitStack() as stack:
            servers = BackendServers(True, True, None if server_cpu is None else [server_cpu])
            stack.callback(servers.close)
            assert servers.postgres is not None and servers.redis is not None
            running_apps = {app: stack.enter_context(running(app, server_cpu, servers))
                            for app in apps}
            # the admin command (a child process), as a tool without a service would reset
            cli_reset = servers.reset(SEEDS)
            print(f"wrk {args.seconds:g} s x {args.rounds} rounds, {args.connections} "
                  f"connections, {SEEDS} seed products, pool {POOL_SIZE}; {pinning}; "
                  f"load average {load:.1f} at start")
            for url, _pid in running_apps.values():  # warm-up (fills the cache), not recorded
                run_wrk(url + "/products/", seconds=1, connections=args.connections,
                        cpus=wrk_cpus, lua=seeded_ids_script(SEEDS))
            for _ in range(args.rounds):
                for app, (url, pid) in running_apps.items():
                    backing = (servers.redis if "Redis" in app or "cache" in app
                               else servers.postgres)
                    result = measure(url, pid, backing.process.pid, args, wrk_cpus)
                    if app not in best or result.wrk.requests_per_s > best[app].wrk.requests_per_s:
                        best[app] = result
            cache_counts = health(running_apps["service pg+cache"][0])
            for _ in range(5):  # what the sweep does before each point: the service's route
                started = time.perf_counter()
                route_reset(running_apps["service pg+cache"][0])
                resets.append(time.perf_counter() - started)
    except (WrkError, RuntimeError, OSError, ServerError) as error:
        print(f"bench/storage.py: {error}", file=sys.stderr)
        return 2
    report(best, resets)
    print(f"the same reset through `python -m target_service.admin reset` (a child process, "
          f"interpreter start-up included): {cli_reset * 1000:.0f} ms")
    print("service pg+cache counters (/health): " + ", ".join(
        f"{key} {cache_counts.get(key)}" for key in ("cacheHits", "cacheMisses",
                                                     "cacheFallbacks", "cacheErrors")))
    if load > 1.0:
        print(f"note: the machine was busy (load average {load:.1f}); throughput figures are "
              "disturbed, CPU per request much less so")
    return 0


def report(best: dict[str, Measurement], resets: list[float]) -> None:
    print(f"\n{'GET /products/{id}':<22} {'app':<17} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'app CPU us/req':>15} {'+db/cache us/req':>17}")
    for label, service, bare in PAIRS:
        for app in (service, bare):
            m = best[app]
            print(f"{label:<22} {app:<17} {m.wrk.requests_per_s:>8.0f} {m.wrk.p50_ms:>7.2f} "
                  f"{m.wrk.p99_ms:>7.2f} {m.app_us:>15.1f} {m.total_us:>17.1f}")
    print(f"\n{'service / bare':<22} {'req/s':>8} {'by app CPU':>11} {'by total CPU':>13}")
    verdicts = []
    for label, service, bare in PAIRS:
        s, b = best[service], best[bare]
        ratio = s.wrk.requests_per_s / b.wrk.requests_per_s
        print(f"{label:<22} {ratio:>8.2f} {b.app_us / s.app_us:>11.2f} "
              f"{b.total_us / s.total_us:>13.2f}")
        verdicts.append(f"{label} >= {TARGET_RATIO}: {_verdict(ratio >= TARGET_RATIO)} "
                        f"({ratio:.2f})")
    worst = max(resets)
    print(f"\nper-point reset of {SEEDS} products through the service's admin route (truncate + "
          "COPY + cache flush), "
          f"{len(resets)} times: median {statistics.median(resets) * 1000:.0f} ms, "
          f"max {worst * 1000:.0f} ms")
    print("targets: " + "; ".join(verdicts) + f"; reset < {RESET_TARGET_S:g} s: "
          f"{_verdict(worst < RESET_TARGET_S)} ({worst:.3f} s)")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
