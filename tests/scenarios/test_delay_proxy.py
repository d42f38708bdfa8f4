"""The delay proxy: what it records (in process, against an echo server, a few hundred small
messages: no service, no Locust) and the verdict's rule on a proxy that became the bottleneck
(synthetic facts)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scenarios.runner.evidence import CpuSample, LatenessSecond, RunFacts, judge

REPO = Path(__file__).resolve().parents[2]
T0 = 1000.0


def facts(**changes: Any) -> RunFacts:
    """A clean 10 s run (test_sweep_verdict.py's), with ``changes``."""
    base: dict[str, Any] = {
        "exit_code": 0, "interrupted": False, "requested_window_s": 10.0, "window_s": 10.0,
        "total_requests": 20_000, "failures": 0,
        "samples": [CpuSample(T0 + 0.5 * (i + 1), "generator", 42, "locust", 58.0, "1")
                    for i in range(20)],
        "generator_host": [(T0 + 0.5 * (i + 1), 61.0) for i in range(20)],
        "generator_cpu_count": 1,
        "lateness": {"locust": [LatenessSecond(int(T0) + i, 98, 0.1, 0.4, 0.7)
                                for i in range(10)]},
        "window": (T0, T0 + 10.0), "users": 10, "closed_model": True, "rps": 2000.0,
        "mean_ms": 4.8}
    base.update(changes)
    return RunFacts(**base)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


def _start_proxy(port: int, delay: str, stats: Path) -> subprocess.Popen[bytes]:
    """The delay proxy in front of 127.0.0.1:``port``; it prints its own port first."""
    return subprocess.Popen(
        [sys.executable, "-m", "scenarios.runner.target._delay_proxy", "--upstream",
         f"127.0.0.1:{port}", "--delay", delay, "--stats", str(stats)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


async def _through_proxy(delay: str, stats: Path, clients: int, each: int
                         ) -> tuple[list[float], subprocess.Popen[bytes]]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy = _start_proxy(port, delay, stats)
    assert proxy.stdout is not None
    proxy_port = int(proxy.stdout.readline())
    seen: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        for _ in range(each):
            start = time.monotonic()
            writer.write(b"GET / HTTP/1.1\r\n\r\n")
            await reader.readexactly(18)
            seen.append(1000 * (time.monotonic() - start))
        writer.close()

    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        proxy.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proxy.wait(5)
        server.close()
    return seen, proxy


def test_the_proxy_records_the_delays_it_drew_and_added(tmp_path: Path) -> None:
    """400 messages at a lognormal of mean 4 ms and p95 10 ms: the draws are the seeded
    stream's, so their mean and p95 are known to within the sample's noise (the first 400
    draws of seed 42: mean 4.0, p95 9.9); the added delay is each draw plus the timer's
    lateness, so it is at least the draw and its mean is within a few ms."""
    stats_path = tmp_path / "delay_proxy.json"
    seen, proxy = asyncio.run(_through_proxy("lognormal:4:10", stats_path, 20, 20))
    assert proxy.returncode == 0
    stats: dict[str, Any] = json.loads(stats_path.read_text())
    assert stats["delayed"] == 400 and stats["connections"] == 20 and stats["rides"] == 0
    drawn, added, late = stats["intended_ms"], stats["added_ms"], stats["lateness_ms"]
    assert drawn["count"] == added["count"] == late["count"] == 400
    assert drawn["mean"] == pytest.approx(4.0, rel=0.15)
    assert drawn["p95"] == pytest.approx(10.0, rel=0.25)
    assert added["mean"] >= drawn["mean"] and added["p95"] >= drawn["p95"] * 0.99
    assert added["mean"] - drawn["mean"] == pytest.approx(late["mean"], abs=0.01)
    assert 0 <= late["p50"] < 20  # asyncio's timer: about 1 ms, more on a busy machine
    assert stats["distribution"]["sigma"] == pytest.approx(0.7105, abs=1e-3)
    assert stats["cpu_s"] > 0 and 0 < stats["cpu_cores"] < 1.5
    # the client saw every message delayed by the proxy's added delay (and the echo's time)
    assert sum(seen) / len(seen) >= added["mean"] * 0.99


def test_a_bad_delay_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scenarios.runner.target._delay_proxy", "--upstream",
         "127.0.0.1:9", "--delay", "lognormal:44"], cwd=REPO, capture_output=True, text=True,
        timeout=30)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "--delay" in result.stderr


def _proxy(**changes: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "delay_ms": 44.0, "intended_ms": {"mean": 44.1, "p99": 178.0},
        "added_ms": {"mean": 45.2, "p99": 180.0}, "lateness_ms": {"mean": 1.1, "p99": 4.0},
        "cpu_cores": 0.05, "cpu_cores_busiest": 0.12}
    block.update(changes)
    return block


def test_a_quiet_proxy_changes_nothing() -> None:
    verdict = judge(facts(delay_proxy=_proxy()))
    assert verdict.status == "valid", verdict.reasons
    assert verdict.evidence["delay_proxy"]["lateness_limit_ms"] == pytest.approx(4.41)


@pytest.mark.parametrize(("changes", "cause"), [
    ({"cpu_cores_busiest": 0.95}, "delay-proxy-cpu"),
    ({"lateness_ms": {"mean": 5.0, "p99": 30.0}}, "delay-proxy-late"),
    # a 10 ms delay: the 2 ms floor applies, not 10% of it
    ({"intended_ms": {"mean": 10.0}, "lateness_ms": {"mean": 2.5, "p99": 9.0}},
     "delay-proxy-late"),
])
def test_a_proxy_that_became_the_bottleneck_invalidates_the_point(
        changes: dict[str, Any], cause: str) -> None:
    verdict = judge(facts(delay_proxy=_proxy(**changes)))
    assert verdict.status == "generator-bound" and verdict.causes == [cause], verdict.reasons
    assert "delay proxy" in verdict.reasons[0]


def test_missing_proxy_figures_are_a_warning() -> None:
    verdict = judge(facts(delay_proxy={"delay_ms": 10.0, "stats_error": "the proxy wrote no "
                                                                          "stats"}))
    assert verdict.status == "valid"
    assert any("delay proxy's own figures are missing" in w for w in verdict.warnings)


async def _split_requests(delay: str, stats: Path, count: int) -> list[float]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy = _start_proxy(port, delay, stats)
    assert proxy.stdout is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy.stdout.readline()))
    seen = []
    try:
        for _ in range(count):
            start = time.monotonic()
            writer.write(b"GET ")
            await writer.drain()
            await asyncio.sleep(0.002)  # the rest of the request 2 ms later: a second chunk
            writer.write(b"/ HTTP/1.1\r\n\r\n")
            await reader.readexactly(18)
            seen.append(1000 * (time.monotonic() - start))
        writer.close()
    finally:
        proxy.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proxy.wait(5)
        server.close()
    return seen


def test_a_request_in_two_chunks_gets_one_delay(tmp_path: Path) -> None:
    """The second chunk rides with the first (no draw of its own): one delay per request, and
    the request's time is the first chunk's delay (30 ms), not the second's on top of it."""
    stats_path = tmp_path / "delay_proxy.json"
    seen = asyncio.run(_split_requests("30", stats_path, 5))
    stats = json.loads(stats_path.read_text())
    assert stats["delayed"] == 5 and stats["rides"] == 5, stats
    assert stats["intended_ms"]["mean"] == 30.0
    assert all(29 <= ms < 58 for ms in seen), seen  # one delay, far from two (60 ms)
