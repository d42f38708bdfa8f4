"""Window evidence from files Locust really wrote or simulated series: steady state and stalls."""

from __future__ import annotations

import random
from pathlib import Path

from scenarios.runner.evidence import (
    WindowSecond,
    compare_halves,
    steady_state,
    window_seconds,
)

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "sweep" / "runs"


def _seconds(rates: list[float], latencies: list[float]) -> list[WindowSecond]:
    pairs = enumerate(zip(rates, latencies, strict=True))
    return [WindowSecond(float(i), round(r), m) for i, (r, m) in pairs]


def test_a_flat_noisy_window_is_steady() -> None:
    rng = random.Random(7)
    rates = [1000 + rng.gauss(0, 60) for _ in range(10)]
    latencies = [5 + rng.gauss(0, 0.4) for _ in range(10)]
    found = steady_state(_seconds(rates, latencies))
    assert found["tested"] and found["drifting"] == []


def test_a_service_slowing_down_drifts_in_latency_and_throughput() -> None:
    latencies = [5.0 + 0.8 * i for i in range(10)]  # 5 ms growing to 12 ms
    rates = [10_000 / m for m in latencies]  # a closed loop: throughput falls as latency grows
    found = steady_state(_seconds(rates, latencies))
    assert found["drifting"] == ["throughput", "latency"]
    assert found["latency"]["relative_change"] > 0.3


def test_a_small_significant_change_is_not_material() -> None:
    # 3% between the halves, far beyond their noise: significant, but under the 10% threshold
    values = [100.0] * 5 + [103.0] * 5
    values[0], values[5] = 100.1, 103.1
    assert not compare_halves(values)["drifts"]


def test_a_large_change_within_the_noise_is_not_a_drift() -> None:
    values = [100.0, 160.0, 40.0, 150.0, 50.0, 170.0, 60.0, 180.0, 70.0, 130.0]
    finding = compare_halves(values)
    assert abs(finding["relative_change"]) > 0.10 and not finding["drifts"]


def test_a_short_window_is_not_tested_and_says_why() -> None:
    found = steady_state(_seconds([100.0] * 4, [1.0] * 4))
    assert not found["tested"] and "at least 6" in found["note"]


def test_per_second_series_from_a_history_locust_wrote() -> None:
    run = FIXTURE / "fast-read-heavy-u0010-r1-p1"
    import json

    record = json.loads((run / "run.json").read_text())
    from datetime import datetime

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    start, end = epoch(record["window"]["start"]), epoch(record["window"]["end"])
    seconds = window_seconds(run / "locust_stats_history.csv", start, end)
    assert seconds, "no whole second of the window found in the history"
    # Locust writes its history about once a second and not at the window's last instant, so
    # the seconds cover part of the window; each second's rate is the window's, within its noise
    rps = record["requests"]["rps"]
    assert all(0.5 * rps <= s.requests <= 1.5 * rps for s in seconds)
    assert all(s.mean_ms is None or s.mean_ms > 0 for s in seconds)


def test_stalls_are_counted_by_their_length_inside_the_window(tmp_path: Path) -> None:
    from scenarios.runner.evidence import read_stalls, stalls_in_window

    (tmp_path / "stalls-local-42.csv").write_text(
        "stopped_at,stall_ms\n"
        "99.0,2000.0\n"  # 99.0-101.0: half of it before the window
        "104.0,100.0\n"  # one 100 ms stall inside
        "109.95,500.0\n"  # 50 ms of it inside
        "110.5,30\n")  # after the window
    stalls = read_stalls(tmp_path, {42: "locust"})
    found = stalls_in_window(stalls, (100.0, 110.0))["locust"]
    assert found["stalls"] == 3
    assert abs(found["stalled_ms"] - 1150.0) < 0.5
    assert found["longest_ms"] == 1000.0
    assert abs(found["stalled_share"] - 0.115) < 1e-3
