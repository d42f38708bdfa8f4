"""The window's count, live: Locust's and the service's own count of the same window agree.

Issue 20, item 1: at saturated envelope points with 100 and 200 users, each followed by another
point (whose service starts while this one's Locust stops), Locust's count of its window and
the service's count of the responses it sent between Locust's own edges agree within 1%, and
the service's view is present. The service counts by the millisecond each response was sent
(target_service/_completions.py) and is asked after the window (``server.window_count``), so a
scrape answered a CPU period late no longer moves the count; Locust places each edge where its
event loop has read every response that arrived (scenarios/instrumentation/_window.py).

One real sweep (the real service in a 0.05 vCPU envelope, real headless Locust), short windows.
Run it alone on the machine: ``flock /tmp/loadbench-load.lock .venv/bin/pytest -m load FILE``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.load

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_locust_and_the_service_count_the_same_window(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs: one for the service, one for Locust")
    sweep = subprocess.run(
        [sys.executable, "-m", "scenarios.sweep", "--out", str(tmp_path), "--repeats", "1",
         "--user-classes", "fast", "--mixes", "read-heavy", "--seed-products", "50",
         "--service-cpus", str(cpus[0]), "--generator-cpus", str(cpus[1]),
         "--service-cpu", "0.05", "--users", "100,200,10", "--ramp", "1s", "--duration", "2s"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert sweep.returncode in (0, 1), sweep.stderr[-3000:]
    runs = {run["params"]["users"]: run for run in (
        json.loads(path.read_text()) for path in
        (tmp_path / "latest").resolve().glob("runs/*/run.json")) if run["final"]}
    assert sorted(runs) == [10, 100, 200]
    for users in (100, 200):  # each followed by another point
        run = runs[users]
        server = run["server"]
        assert server["available"], server  # the service's view is present
        counted = server["window_count"]
        assert counted["available"] and counted["complete"], counted
        assert counted["resolution_s"] == 0.001
        # saturated: the envelope throttled the service in most of the window's periods
        assert run["cpu_limit"]["throttling"]["throttled_ratio"] >= 0.5, run["cpu_limit"]
        locust, service = run["requests"]["total"], counted["service_requests"]
        assert locust >= 500, run["requests"]  # enough requests for 1% to mean something
        assert abs(locust - service) <= 0.01 * service, (users, locust, service, counted)
        # the requests still open at the end are counted, with their ages
        assert run["requests"]["censored"]["open"] >= 0
