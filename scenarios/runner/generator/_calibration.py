"""Client-overhead calibration, once per sweep and user class (manifest ``calibration``).

One Locust user of the class, no wait, ``GET /health`` for a short window on the same loopback
path and CPUs as the sweep's points (scenarios/calibration_locustfile.py). From Locust's stats,
the service's /metrics at the window's edges and the Locust process's CPU time:

- ``client_mean_ms``: what Locust saw per request; ``server_mean_ms``: what the service spent;
- ``floor_ms`` = client minus server: the client's own latency floor on this path;
- ``cpu_ms_per_request``: Locust's CPU time per request (all of it: the client's cost).

Test only: with ``LOADBENCH_TEST_CALIBRATION_CACHE`` naming a folder, a sweep against its own
local service reuses the figures an earlier sweep of the same test session calibrated on this
machine for the same class, CPUs, service workers and backend (tests/conftest.py sets it; a
test of the calibration itself unsets it). A sweep outside the tests always calibrates. The
envelope check (scenarios/runner/_auto_envelope.py) keeps its figures in the same folder
(``session_cache``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from scenarios.runner.evidence import scrape, window_view
from scenarios.runner.generator._locust_output import aggregated_figures
from scenarios.runner.generator._locust_process import LocustForkServer, LocustOptions, LocustRun
from scenarios.user_classes import USER_CLASSES

CALIBRATION_LOCUSTFILE = "scenarios/calibration_locustfile.py"
# Locust's run time (whole seconds): its one user spawns at once, so the window is about as long.
# 1 s gave 630-1,155 (HttpUser) and 1,798-2,556 (FastHttpUser) requests on the 2-core machine on
# 2026-12-04 (two sweeps), and costs each sweep 2 s less than the 3 s run it replaced
# (bench/sweep_overhead.py).
WINDOW_S = 1.0
ENDPOINT = "GET /health"
CACHE_ENV = "LOADBENCH_TEST_CALIBRATION_CACHE"  # test only (module docstring)


@dataclass(frozen=True)
class ShortRun:
    """One short single-process Locust run: its stats row and Locust's CPU over the window."""

    exit_code: int | None
    row: dict[str, Any] | None
    window_s: float | None
    requests: int
    locust_cpu_s: float | None  # the Locust process's CPU time between the window's edges


def short_run(server: LocustForkServer, options: LocustOptions, cpus: list[int] | None,
              timeout_s: float, on_edge: Callable[[str], None] | None = None) -> ShortRun:
    """Run one Locust process in a scratch directory (calibration, ``--service-cpu auto``).

    ``on_edge`` is called at each window edge before Locust's CPU is read there. OSError and
    RuntimeError from starting or collecting the run reach the caller.
    """
    with tempfile.TemporaryDirectory(prefix="loadbench-short-run-") as scratch:
        run = LocustRun(Path(scratch), server, ["locust"], cpus)
        cpu: dict[str, float] = {}

        def edge(name: str) -> None:
            if on_edge is not None:
                on_edge(name)
            try:
                times = psutil.Process(run.main.pid).cpu_times()
                cpu[name] = times.user + times.system
            except psutil.Error:
                pass

        run.on_edge = edge
        run.start(options)
        run.wait(timeout_s)
        run.collect()
        window_s = (run.window_end - run.window_start
                    if run.window_start is not None and run.window_end is not None else None)
        row = aggregated_figures(Path(scratch), window_s)
    return ShortRun(run.exit_code, row, window_s,
                    int(float(row["Request Count"])) if row else 0,
                    cpu["end"] - cpu["start"] if "start" in cpu and "end" in cpu else None)


def calibrate(server: LocustForkServer, host: str, short_name: str,
              cpus: list[int] | None, reuse_key: str | None = None) -> dict[str, Any]:
    """Calibrate one user class against ``host``; figures, or ``{"error": ...}``.

    ``reuse_key`` (the runner's own local service: its CPUs, workers and backend) names the
    figures in the test-only cache (module docstring); without the cache it changes nothing.
    """
    cached = session_cache(f"{short_name}-{reuse_key}") if reuse_key is not None else None
    if cached is not None and cached.is_file():
        figures: dict[str, Any] = json.loads(cached.read_text())
        return figures
    figures = _calibrate(server, host, short_name, cpus)
    if cached is not None and "error" not in figures:
        keep_in_session_cache(cached, figures)
    return figures


def session_cache(name: str) -> Path | None:
    """Test only: the file of the test session's cache (``LOADBENCH_TEST_CALIBRATION_CACHE``)
    that holds the figures named ``name``; None outside the tests (always measure)."""
    folder = os.environ.get(CACHE_ENV)
    return Path(folder) / f"{name}.json" if folder else None


def keep_in_session_cache(path: Path, figures: dict[str, Any]) -> None:
    """Write ``figures`` to ``path`` of the session cache whole (a rename), for the next sweep."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(figures))
    partial.replace(path)


def _calibrate(server: LocustForkServer, host: str, short_name: str,
               cpus: list[int] | None) -> dict[str, Any]:
    scrapes: dict[str, Any] = {}

    def on_edge(edge: str) -> None:
        scrapes[edge] = scrape(host)

    options = LocustOptions(CALIBRATION_LOCUSTFILE, host, USER_CLASSES[short_name], 1, 1.0,
                            WINDOW_S, ["--mix", "read-only"], "none", 0, "calibration",
                            html_report=False)
    try:
        run = short_run(server, options, cpus, WINDOW_S + 60, on_edge)
    except (OSError, RuntimeError) as error:
        return {"error": f"calibration of {short_name} failed: {error}"}
    server_view = window_view(scrapes.get("start"), scrapes.get("end"))
    row, window_s, requests, cpu_s = run.row, run.window_s, run.requests, run.locust_cpu_s
    if not requests or run.exit_code not in (0, 1):
        return {"error": f"calibration of {short_name}: Locust exited with {run.exit_code}, "
                         f"{requests} requests"}
    client_ms = float(row["Average Response Time"]) if row else None
    route = server_view.get("routes", {}).get("GET /health 200") if server_view else None
    server_ms = route["mean_ms"] if route else None
    return {
        "endpoint": ENDPOINT, "users": 1, "window_s": round(window_s or 0.0, 3),
        "requests": requests, "client_mean_ms": _round(client_ms),
        "client_p50_ms": _round(float(row["50%"])) if row and row["50%"] is not None else None,
        "server_mean_ms": _round(server_ms),
        "floor_ms": _round(client_ms - server_ms) if client_ms is not None
        and server_ms is not None else None,
        "cpu_ms_per_request": _round(cpu_s * 1000.0 / requests) if cpu_s is not None else None,
        "server_available": bool(server_view.get("available")),
    }


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
