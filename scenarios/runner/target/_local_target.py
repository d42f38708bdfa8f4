"""The local target: `python -m target_service` on loopback, pinned, and the /health preflight."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runmodel.values import Backend
from scenarios.runner.processes import (
    NotReady,
    ProcessExited,
    free_port,
    stop_process,
    wait_until_ready,
)
from scenarios.runner.target._cpu_limit import join_active

REPO_ROOT = Path(__file__).resolve().parents[3]
_PR_SET_PDEATHSIG = 1


class TargetError(RuntimeError):
    """The target did not answer, or the local service did not start; one line."""


def child_setup(cpus: list[int] | None, envelope: bool = True) -> Callable[[], None]:
    """A preexec_fn: die with the runner (even on SIGKILL), run on the given CPUs, and join the
    service's CPU envelope (when the sweep has one and ``envelope``)."""
    def setup() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if cpus:
            os.sched_setaffinity(0, cpus)
        if envelope:
            join_active()
    return setup


def health(url: str, timeout: float = 2.0) -> dict[str, Any]:
    """GET /health; the JSON body, or TargetError naming the URL and the problem."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise TargetError(f"{url}/health answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TargetError(f"{url}/health: no answer ({reason})") from None
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class LocalService:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float
    backend: Backend = field(default_factory=Backend)  # its store and cache
    payload_bytes: int = 0  # the description size of its seed products (--payload)
    reset_s: float | None = None  # the store's reset before this service's point
    health_info: dict[str, Any] | None = None  # its /health body when it was ready
    admin_token: str = ""  # its ADMIN_TOKEN: POST /admin/reset is on with this token
    # its /metrics on a listener of its own (--metrics-port): a scrape does not queue behind
    # the load's requests, so the window's edges are read when they happen
    metrics_url: str | None = None

    def wait_healthy(self, timeout: float = 20.0) -> dict[str, Any]:
        try:
            return wait_until_ready(lambda: health(self.url, timeout=1.0), self.process, timeout,
                                    interval=0.02, retry_on=(TargetError,))
        except ProcessExited as exc:
            raise TargetError(f"the local service exited with code {exc.returncode} "
                              f"at start-up (see {self.log_path})") from None
        except NotReady:
            raise TargetError(f"the local service at {self.url} was not healthy after "
                              f"{timeout:g}s (see {self.log_path})") from None

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.process, timeout)

    def reset(self, seed_count: int, payload_bytes: int = 0, timeout: float = 60.0) -> float:
        """Replace the service's products with its seed products (ids and bytes of
        scenarios/seeding.py) and empty its cache, through the service's own admin route
        (target_service/README.md, 'The service owns its data'); seconds it took."""
        started = time.perf_counter()
        body = json.dumps({"seed": seed_count, "payloadBytes": payload_bytes}).encode()
        request = urllib.request.Request(
            f"{self.url}/admin/reset", data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {self.admin_token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode(errors="replace")
            raise TargetError(f"resetting the store: POST {self.url}/admin/reset answered "
                              f"{exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise TargetError(f"resetting the store: POST {self.url}/admin/reset: {exc}") \
                from None
        return time.perf_counter() - started


def start_service(log_path: Path, workers: int, cpus: list[int] | None,
                  flags: list[str] | None = None) -> LocalService:
    """Start a fresh service on a free loopback port (not waiting for it: see wait_healthy)."""
    port = free_port()
    # /metrics on a second listener, unless the caller chose its own (one worker: with several,
    # each scrape would be one worker's view)
    metrics_port = (free_port() if workers == 1 and "--metrics-port" not in (flags or [])
                    else None)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "target_service", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--no-access-log", "--log-level", "warning",
               *(["--metrics-port", str(metrics_port)] if metrics_port else []),
               *(flags or [])]
    token = secrets.token_urlsafe(24)  # turns on the service's admin route (reset), loopback
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   # it joins the CPU envelope when its point starts
                                   # (CpuEnvelope.admit), not while the point before it runs
                                   preexec_fn=child_setup(cpus, envelope=False),
                                   env={**os.environ, "ADMIN_TOKEN": token})
    return LocalService(f"http://127.0.0.1:{port}", process, log_path, time.time(),
                        admin_token=token,
                        metrics_url=f"http://127.0.0.1:{metrics_port}" if metrics_port else None)


def keep_runner_off(generator_cpus: list[int] | None) -> list[int] | None:
    """Move this process (every thread) off the generator's CPUs; the CPUs it now runs on.

    The runner samples CPU, scrapes /metrics and reads evidence while the load runs; on the
    generator's CPUs that work preempts Locust for tens of milliseconds at a time (measured as
    event-loop lateness with Locust's CPU far from saturated), so it runs beside the service.
    """
    available = sorted(os.sched_getaffinity(0))
    others = [cpu for cpu in available if cpu not in (generator_cpus or [])]
    if not generator_cpus or not others:
        return None
    for thread in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(thread), others)
    return others


def default_placement(service_cpus: list[int] | None, generator_cpus: list[int] | None,
                      local: bool) -> dict[str, Any]:
    """Service on the first CPU, generators on the rest, when there are at least two."""
    available = sorted(os.sched_getaffinity(0))
    for name, chosen in (("--service-cpus", service_cpus), ("--generator-cpus", generator_cpus)):
        unknown = sorted(set(chosen or []) - set(available))
        if unknown:
            raise TargetError(f"{name}: CPU {unknown[0]} is not available (this process may use "
                              f"{', '.join(map(str, available))})")
    if not local:
        service_cpus = None
        generator_cpus = generator_cpus or (available if len(available) > 1 else None)
    elif service_cpus is None and generator_cpus is None and len(available) >= 2:
        service_cpus, generator_cpus = available[:1], available[1:]
    elif service_cpus is not None and generator_cpus is None:
        generator_cpus = [c for c in available if c not in service_cpus] or None
    elif generator_cpus is not None and service_cpus is None:
        service_cpus = [c for c in available if c not in generator_cpus] or None
    overlap = sorted(set(service_cpus or []) & set(generator_cpus or []))
    return {"cpu_count": len(available), "service_cpus": service_cpus,
            "generator_cpus": generator_cpus, "shared_cpus": overlap or None}
