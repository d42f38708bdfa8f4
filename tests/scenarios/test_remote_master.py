"""scenarios/runner/generator/remote_master.py against a real Locust master and worker, loopback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios.runner.generator import (
    DOWNLOADS,
    SAMPLES_FILE,
    RemoteMasterError,
    master_config,
    run_remote_point,
    wait_for_workers,
)
from tests.processes import free_port

pytestmark = pytest.mark.load

REPO = Path(__file__).resolve().parents[2]
LOCUST = [sys.executable, "-m", "locust", "-f", str(REPO / "scenarios" / "locustfile.py")]


@pytest.fixture(scope="module")
def master_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A master (web UI, --csv-full-history) with one worker, both FastProductUser."""
    logs = tmp_path_factory.mktemp("remote")
    web_port, master_port = free_port(), free_port()
    master = subprocess.Popen(
        [*LOCUST, "--master", "--web-host", "127.0.0.1", "--web-port", str(web_port),
         "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port),
         "--csv", str(logs / "master"), "--csv-full-history", "FastProductUser"],
        cwd=REPO, stdout=(logs / "master.log").open("wb"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [*LOCUST, "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port),
         "FastProductUser"],
        cwd=REPO, stdout=(logs / "worker.log").open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{web_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                wait_for_workers(url, 1, timeout_s=10)
                break
            except RemoteMasterError:
                if time.monotonic() > deadline or master.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        for process in (worker, master):
            process.terminate()
        for process in (worker, master):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stats_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open() as stats:
        return {row["Name"]: row for row in csv.DictReader(stats)}


def test_a_point_runs_on_the_master_and_its_files_come_back(
        master_url: str, service_url: str, tmp_path: Path) -> None:
    users, per_user_rps = 4, 50
    result = run_remote_point(
        master_url, expect_workers=1, users=users, spawn_rate=20, ramp_s=1, duration_s=3,
        target_host=service_url, out_dir=tmp_path,
        options={"weights": "get_product=1", "pacing": f"rate:{per_user_rps}",
                 "seed-products": 50})
    assert not result.interrupted
    assert 2.9 < result.window_seconds < 4.5
    assert result.swarm_at <= result.ramp_done_at <= result.window_start < result.window_end
    hdr_name = next(name for name in result.files if name.startswith("evidence/hdr-master-"))
    assert set(result.files) == {*DOWNLOADS.values(), hdr_name}
    for name in DOWNLOADS.values():
        assert (tmp_path / name).stat().st_size > 0
    assert result.missing == {}
    assert (tmp_path / SAMPLES_FILE).exists()
    # The options reached the worker: only reads, at the asked rate, none failed.
    rows = _stats_rows(tmp_path / "locust_stats.csv")
    assert set(rows) == {"GET /products/{id}", "Aggregated"}
    count = int(rows["Aggregated"]["Request Count"])
    assert int(rows["Aggregated"]["Failure Count"]) == 0
    # The workers' stats were reset with the master's after the ramp and flushed at the stop:
    # the count covers the window only (with one report interval of slop, it would be off by
    # up to 3 s of requests).
    expected = users * per_user_rps * result.window_seconds
    assert 0.85 * expected < count < 1.1 * expected, (count, expected)
    # The worker's HDR histograms reached the master (custom message) and came back through
    # its /scenarios/hdr route: the same window, the same requests as Locust's count.
    hdr = json.loads((tmp_path / hdr_name).read_text())
    assert hdr["sources"] == 1 and [e["name"] for e in hdr["endpoints"]] == ["GET /products/{id}"]
    assert abs(hdr["endpoints"][0]["count"] - count) <= 0.02 * count, (hdr, count)
    # locust.json: the master's merged --json-file statistics, the same requests as the CSV,
    # with each endpoint's histogram complete.
    entries = json.loads((tmp_path / "locust.json").read_text())
    assert sum(entry["num_requests"] for entry in entries) == count
    for entry in entries:
        assert sum(entry["response_times"].values()) == entry["num_requests"]
    assert "Timestamp" in (tmp_path / "locust_stats_history.csv").read_text().splitlines()[0]
    assert "<html" in (tmp_path / "locust.html").read_text()[:2000].lower()
    # CPU evidence: per-second worker samples during the window, and the master's own.
    in_window = [row for row in result.cpu_rows() if row["in_window"]]
    workers = [row for row in in_window if row["name"] == "locust-worker-1"]
    assert len(workers) >= 2 and any(row["cpu_percent"] > 0 for row in workers)
    assert any(row["name"] == "locust-master" for row in in_window)
    assert all(sample.user_count == users for sample in result.worker_samples
               if result.window_start <= sample.t <= result.window_end)


def test_a_master_without_the_class_picker_cannot_label_points(master_url: str) -> None:
    with pytest.raises(RemoteMasterError, match="restart it with --class-picker"):
        master_config(master_url)


@pytest.mark.any_cpu
def test_a_stop_event_ends_the_window_early(master_url: str, service_url: str,
                                            tmp_path: Path) -> None:
    stop = threading.Event()
    timer = threading.Timer(2.5, stop.set)
    timer.start()
    try:
        result = run_remote_point(
            master_url, expect_workers=1, users=2, spawn_rate=10, ramp_s=1, duration_s=20,
            target_host=service_url, out_dir=tmp_path,
            options={"weights": "list_products=1", "pacing": "constant:0.05"},
            stop_event=stop)
    finally:
        timer.cancel()
    assert result.interrupted
    assert result.window_seconds < 5
    assert (tmp_path / "locust_stats.csv").exists()  # what was measured is still downloaded


@pytest.mark.any_cpu
def test_too_few_workers_and_no_master_are_clear_errors(master_url: str) -> None:
    with pytest.raises(RemoteMasterError, match=r"1 of 2 workers connected after 1 s"):
        wait_for_workers(master_url, 2, timeout_s=1)
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RemoteMasterError, match=r"GET http://127\.0\.0\.1:\d+/stats/requests"):
        wait_for_workers(closed, 1, timeout_s=1)
