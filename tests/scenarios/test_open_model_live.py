"""Live: the open model against a service that stalls 1 s in every 5 s, and against the real
service (real headless Locust, short windows; about 25 s in all). An 8 s run keeps a window of
over 6 s after the reset, so every stalled run's window holds at least one whole stall.

- At 100 arrivals/s the latency from the intended start sees the stalls (p99 ≥ 500 ms). With a
  small pool whose arrivals wait in a backlog (wrk2's semantics) the service time stays small:
  only the few requests in flight at a stall's start see it from their send.
- The closed model on the same service shows the omission: its p99 is small.
- A pool too small without a backlog drops arrivals, and counts them.
- At a modest rate (well under half this generator's capacity) the achieved rate is within 1%
  of the target, with 2 local worker processes sharing it.

The three open-model runs against the stalling server run at once (``open_runs``): each sends
100 requests/s, a few percent of a core, so none of them changes what another measures, and the
module takes one 8 s window for them instead of three. The closed model, which sends as fast as
its users can, runs alone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scenarios.instrumentation import percentile_ms, read_evidence
from scenarios.open_model import evidence

pytestmark = pytest.mark.load

REPO = Path(__file__).resolve().parents[2]
STALL_SERVER = Path(__file__).resolve().parent / "stall_server.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stall_url() -> Iterator[str]:
    """The stalling server (1 s in every 5 s) on a free loopback port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(STALL_SERVER), str(port)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _command(host: str, seconds: int, user_class: str, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", "scenarios/locustfile.py", user_class,
            "--headless", "--host", host, "-t", f"{seconds}s", "--only-summary", "--reset-stats",
            "--mix", "read-only", "--seed-products", "20", *args]


def run_locust(host: str, directory: Path, *args: str, seconds: int = 8,
               user_class: str = "FastProductUser") -> tuple[str, Path]:
    """Headless Locust on the product locustfile; its log and its evidence directory."""
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        _command(host, seconds, user_class, args), cwd=REPO, capture_output=True, text=True,
        timeout=seconds + 60, env={**os.environ, "LOADBENCH_EVIDENCE_DIR": str(directory)})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr, directory


OPEN_RUNS = {  # 100 arrivals/s each, against the stalling server
    "backlog": ("--arrival-rate", "100", "--max-users", "2", "--max-backlog", "1000"),
    "large_pool": ("--arrival-rate", "100", "--max-users", "150"),
    "undersized": ("--arrival-rate", "100", "--max-users", "3"),
}


@pytest.fixture(scope="module")
def open_runs(stall_url: str, tmp_path_factory: pytest.TempPathFactory
              ) -> dict[str, tuple[str, Path]]:
    """The OPEN_RUNS, started together and waited for: each one's log and evidence directory."""
    seconds = 8
    started = {}
    for name, args in OPEN_RUNS.items():
        directory = tmp_path_factory.mktemp(name)
        (directory / "evidence").mkdir()
        log = (directory / "locust.log").open("w+")
        process = subprocess.Popen(
            _command(stall_url, seconds, "FastProductUser", args), cwd=REPO, text=True,
            stdout=subprocess.DEVNULL, stderr=log,
            env={**os.environ, "LOADBENCH_EVIDENCE_DIR": str(directory / "evidence")})
        started[name] = (process, log, directory / "evidence")
    runs = {}
    for name, (process, log, directory) in started.items():
        try:
            returncode = process.wait(timeout=seconds + 60)
        finally:
            process.kill()
        log.seek(0)
        text = log.read()
        log.close()
        assert returncode == 0, f"{name}: {text[-3000:]}"
        runs[name] = (text, directory)
    return runs


def open_figures(directory: Path) -> dict[str, Any]:
    document = evidence.read(directory)
    assert document is not None, sorted(p.name for p in directory.iterdir())
    return evidence.summary(document)


def test_intended_start_latency_sees_the_stall(open_runs: dict[str, tuple[str, Path]]) -> None:
    _log, directory = open_runs["backlog"]
    figures = open_figures(directory)
    print(figures)
    # every arrival of the window was scheduled: 100/s over a window holding a whole stall
    assert figures["window_s"] >= 6 and figures["dropped"] == 0
    assert figures["intended"] >= 0.95 * 100 * figures["window_s"]
    assert figures["intended_p99_ms"] >= 500
    assert figures["lag_p99_ms"] >= 400  # the backlog's arrivals started late, measured
    assert figures["service_p99_ms"] < 100  # only the ≤ 2 requests per stall in flight


def test_large_pool_sends_on_time_and_the_service_time_sees_the_stall(
        open_runs: dict[str, tuple[str, Path]]) -> None:
    _log, directory = open_runs["large_pool"]
    figures = open_figures(directory)
    print(figures)
    assert figures["dropped"] == 0
    assert figures["intended_p99_ms"] >= 500 and figures["service_p99_ms"] >= 500
    # most arrivals were sent on time (the burst of answers at a stall's end delays a few)
    assert figures["lag_p50_ms"] < 10 and figures["lag_p99_ms"] < figures["service_p99_ms"] / 4


def test_closed_model_shows_the_omission(stall_url: str, tmp_path: Path) -> None:
    _log, directory = run_locust(stall_url, tmp_path, "-u", "5", "-r", "5")
    histogram, files = read_evidence(directory)
    assert histogram is not None and files == 1
    assert evidence.read(directory) is None  # closed: no open-model evidence
    p99 = percentile_ms(histogram, 0.99)
    maximum = histogram.get_max_value() / 1000.0
    print({"requests": histogram.get_total_count(), "p99_ms": p99, "max_ms": maximum})
    assert p99 is not None and p99 < 100  # 5 users see each stall: a handful of requests
    assert maximum >= 500  # while the stall was there all along


def test_undersized_pool_drops_and_counts(open_runs: dict[str, tuple[str, Path]]) -> None:
    log, directory = open_runs["undersized"]
    figures = open_figures(directory)
    print(figures)
    assert "open model pool undersized" in log and "arrivals dropped" in log
    assert figures["dropped"] >= 50  # each stall (1 s at 100/s) drops about 97
    assert figures["started"] + figures["dropped"] == figures["intended"]


def test_achieved_rate_with_two_processes(service_url: str, tmp_path: Path) -> None:
    rate = 200.0
    _log, directory = run_locust(service_url, tmp_path, "--arrival-rate", str(rate),
                                 "--max-users", "40", "--processes", "2", seconds=7,
                                 user_class="HttpProductUser")
    document = evidence.read(directory)
    assert document is not None and document["sources"] == 2
    assert document["share"] == pytest.approx(1.0)
    figures = evidence.summary(document)
    print(figures)
    assert figures["dropped"] == 0
    # the two workers' schedules (uniform, half the rate each) add up; achieved = completed
    # requests over the window (those still in flight at the end: about rate × 2 ms)
    achieved = figures["service_count"] / figures["window_s"]
    assert abs(achieved - rate) <= 0.01 * rate, achieved
    assert figures["lag_p99_ms"] < 20
