"""Finer CPU evidence from Locust processes for a remote master's API.

Locust 2.47 measures a process's CPU only every 10 s (``CPU_MONITOR_INTERVAL``), so the
``cpu_usage`` a master shows per worker is a 10-second average that lags. A worker running this
locustfile refreshes it every second instead (the worker's heartbeat sends it to the master once
a second), and a master serves its own CPU at ``/scenarios/master-cpu``.
"""

from __future__ import annotations

from typing import Any

import gevent
import psutil

SAMPLE_INTERVAL_S = 1.0


def _refresh_worker_cpu(runner: Any) -> None:
    process = psutil.Process()
    process.cpu_percent()
    while True:
        gevent.sleep(SAMPLE_INTERVAL_S)
        runner.current_cpu_usage = process.cpu_percent()


def start_worker_cpu_refresh(runner: Any) -> None:
    """Refresh ``runner.current_cpu_usage`` every second in a background greenlet."""
    gevent.spawn(_refresh_worker_cpu, runner)


def add_master_cpu_route(web_ui: Any) -> None:
    """Serve ``GET /scenarios/master-cpu``: the master's CPU since the previous call."""
    process = psutil.Process()
    process.cpu_percent()

    @web_ui.app.route("/scenarios/master-cpu")
    def master_cpu() -> dict[str, Any]:
        return {"pid": process.pid, "cpu_percent": process.cpu_percent()}
