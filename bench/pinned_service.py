"""A fresh product service for a benchmark: started on loopback, pinned, seeded, stopped.

Used by bench/crosscheck_wrk.py: ``with fresh_service(cpus=[0], log_path=...) as (url, pid)``,
then ``seed_service(url, 1000)`` creates the scenarios' seed ids (``seed-000001`` ..).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from scenarios.runner.processes import (
    NotReady,
    ProcessExited,
    free_port,
    stop_process,
    wait_until_ready,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1


class ServiceError(RuntimeError):
    """The service did not start, or could not be seeded; one line."""


def die_with_parent() -> None:
    """A preexec_fn: the child gets SIGTERM when its parent dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def process_tree_cpu_s(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


@contextmanager
def pinned_server(command: list[str], port: int, cpus: list[int] | None,
                  log_path: Path) -> Iterator[tuple[str, int]]:
    """Run `command` (a server on loopback `port`) pinned to `cpus`; yield (url, pid) once
    /health answers; stop it on the way out."""
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def pin() -> None:  # in the child: die with this process (even on SIGKILL), run on `cpus`
        die_with_parent()
        if cpus:
            os.sched_setaffinity(0, cpus)

    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, preexec_fn=pin)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log_path)
        yield url, process.pid
    finally:
        stop_process(process, 10)


@contextmanager
def fresh_service(cpus: list[int] | None, log_path: Path) -> Iterator[tuple[str, int]]:
    """Start `python -m target_service` on a free loopback port; yield (url, pid); stop it."""
    port = free_port()
    command = [sys.executable, "-m", "target_service", "--host", "127.0.0.1", "--port", str(port),
               "--no-access-log", "--log-level", "warning"]
    with pinned_server(command, port, cpus, log_path) as server:
        yield server


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    def healthy() -> None:  # 200 from /health; OSError (URLError included) until then
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            if response.status != 200:
                raise urllib.error.URLError(f"/health answered {response.status}")

    try:
        wait_until_ready(healthy, process, 20, interval=0.05)
    except ProcessExited as exc:
        raise ServiceError(f"the service exited with code {exc.returncode} at "
                           f"start-up (see {log_path})") from None
    except NotReady:
        raise ServiceError(f"the service at {url} was not healthy after 20s "
                           f"(see {log_path})") from None


def seed_service(url: str, count: int) -> None:
    """Create `seed-000001` .. `seed-{count:06d}` like the sweep's seeding (409: already there)."""
    for index in range(1, count + 1):
        body = json.dumps({"productId": f"seed-{index:06d}", "name": f"Seed product {index}",
                           "price": round(1 + (index % 1000) / 100, 2)}).encode()
        request = urllib.request.Request(f"{url}/products", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as error:
            if error.code != 409:
                raise ServiceError(f"seeding {url}: POST /products answered {error.code} "
                                      f"for seed-{index:06d}") from None
        except (urllib.error.URLError, OSError) as error:
            raise ServiceError(f"seeding {url}: {error}") from None
