"""The service's count of Locust's own window, and the requests open at its end (unit tests).

Locust's edges (``evidence/window-*.json``, scenarios/instrumentation/_window.py), the service's
count between them (``GET /completions`` on the real metrics listener, in this process), and
the ``requests.censored`` block from in-flight evidence files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gevent
import pytest
from prometheus_client import CollectorRegistry

from scenarios.instrumentation import wait_idle, write_window_edges
from scenarios.runner.evidence import (
    censored,
    read_edges,
    shown_percentile,
    window_count,
    window_view,
)
from target_service.metrics import COMPLETIONS, MetricsListener
from tests.conftest import free_port


def _write(directory: Path, name: str, document: dict[str, object]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture
def listener() -> Iterator[str]:
    server = MetricsListener("127.0.0.1", free_port(), CollectorRegistry())
    server.start()
    yield f"http://127.0.0.1:{server.server.server_address[1]}"
    server.stop()


def test_the_service_counts_exactly_locusts_window(tmp_path: Path, listener: str) -> None:
    before = time.time()
    for _ in range(3):
        COMPLETIONS.record(time.time())  # before the window: not counted
    time.sleep(0.005)
    opened = time.time()
    time.sleep(0.002)
    for _ in range(40):
        COMPLETIONS.record(time.time())
    time.sleep(0.002)
    closed = time.time()
    time.sleep(0.002)
    COMPLETIONS.record(time.time())  # after it: not counted
    _write(tmp_path, "window-local-1.json", {"role": "local", "pid": 1, "opened_at": opened,
                                             "closed_at": closed, "requests": 40})
    edges = read_edges(tmp_path)
    assert edges is not None and edges["opened_at"] == opened and edges["locust_requests"] == 40
    counted = window_count(listener, edges)
    assert counted["available"] and counted["service_requests"] == 40, counted
    assert counted["difference"] == 0.0 and counted["opened_at"] > before
    # kept in the server block, scraped or not
    assert window_view("not scraped", None, counted=counted)["window_count"] is counted


def test_workers_edges_span_them_all_and_a_master_is_left_out(tmp_path: Path) -> None:
    _write(tmp_path, "window-worker-1.json", {"role": "worker", "opened_at": 10.0,
                                              "closed_at": 20.0})
    _write(tmp_path, "window-worker-2.json", {"role": "worker", "opened_at": 10.004,
                                              "closed_at": 20.001})
    _write(tmp_path, "window-master-3.json", {"role": "master", "opened_at": 9.0,
                                              "closed_at": 21.0, "requests": 5})
    edges = read_edges(tmp_path)
    assert edges == {"opened_at": 10.0, "closed_at": 20.001, "processes": 2,
                     "edge_spread_ms": 4.0, "locust_requests": None}
    assert read_edges(tmp_path / "nothing") is None


def test_without_edges_or_a_listener_the_count_says_why() -> None:
    assert "no window edges" in window_count("http://127.0.0.1:1", None)["error"]
    edges = {"opened_at": 1.0, "closed_at": 2.0}
    assert "no metrics listener" in window_count(None, edges)["error"]
    refused = window_count(f"http://127.0.0.1:{free_port()}", edges, timeout=1.0)
    assert not refused["available"] and "no answer" in refused["error"]


def test_requests_open_at_the_end_make_tail_percentiles_lower_bounds(tmp_path: Path) -> None:
    _write(tmp_path, "in-flight-local-1.json", {
        "mean_in_flight": 99.0, "in_flight_at_end": 84, "ages_s": [0.01] * 79 + [0.4] * 5})
    block = censored(tmp_path, 3102, {"p50": 95.1, "p95": 189.3, "p99": 350.0})
    requests: dict[str, Any] = {"p50_ms": 95.1, "p95_ms": 189.3, "p99_ms": 350.0,
                                "censored": block}
    # five open requests already older than the p99 (0.99 x 5 >= 0.1 x 31); the young ones
    # are matched by the requests carried into the window at its start
    assert block is not None and block["open"] == 84 and block["lower_bounds"] == ["p99"]
    assert block["percentiles"]["p95"]["open_older"] == 5  # 400 ms > 189.3 ms
    assert shown_percentile(requests, "p50") == 95.1
    assert shown_percentile(requests, "p99") == "≥ 350 ms"
    assert censored(tmp_path / "none", 3102, {"p50": 1.0}) is None
    # an older file (no ages_s): its count at its median age
    _write(tmp_path / "old", "in-flight-local-2.json", {
        "mean_in_flight": 5.0, "in_flight_at_end": 4, "ages_at_end_s": {"max": 1, "p50": 0.2}})
    old = censored(tmp_path / "old", 100, {"p99": 50.0})
    assert old is not None and old["percentiles"]["p99"]["open_older"] == 4


def test_an_edge_waits_for_an_idle_loop_and_is_written(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    busy = gevent.spawn(lambda: [gevent.sleep(0) for _ in range(200)])  # pending work
    reached = wait_idle(1.0)
    assert reached["idle"] and busy.dead  # the loop ran everything pending first
    monkeypatch.setenv("LOADBENCH_EVIDENCE_DIR", str(tmp_path))
    edges = {"opened_at": 2.5, "closed_at": 12.5, "open_idle": reached, "close_idle": reached}
    stats = SimpleNamespace(total=SimpleNamespace(num_requests=321, num_failures=1))
    path = write_window_edges("local", stats, edges)
    assert path is not None
    written = json.loads(path.read_text())
    assert (written["opened_at"], written["closed_at"], written["requests"]) == (2.5, 12.5, 321)
    worker = write_window_edges("worker", stats, edges)
    assert worker is not None and "requests" not in json.loads(worker.read_text())
