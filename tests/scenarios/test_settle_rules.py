"""The window's settle rule and --duration auto's stop rule, on simulated series (quick tier).

The rules run live inside the Locust process (scenarios/instrumentation/_auto_window.py); here
they read per-slice and per-second counts made up to look like a ramp that settles, one that
does not, a steady point and a noisy one. The parsing of ``--duration`` and the runner's side
(the request it passes to Locust, the evidence it reads back) are checked too.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from runmodel.values import DimensionError, WindowDuration, parse_window_duration
from scenarios.instrumentation import (
    INTERVAL_LABEL,
    WINDOW_ENV,
    accept_queue_of,
    auto_stop,
    batch_means,
    throughput_settled,
)
from scenarios.runner.config import ConfigError, resolve_config
from scenarios.runner.evidence import (
    read_settle,
    run_time_bound,
    settle_slice,
    settle_warning,
    window_blocks,
    window_request,
)


def test_a_ramp_settles_once_four_slices_agree() -> None:
    counts = [20, 60, 110, 240, 251, 246, 249]  # the accept queue drains, then a plateau
    assert not throughput_settled(counts[:5]).settled
    assert not throughput_settled(counts[:6]).settled  # 110 is still in the last four
    reading = throughput_settled(counts)
    assert reading.settled and reading.spread is not None and reading.spread < 0.1


def test_a_rise_at_every_step_is_not_settled_even_within_the_noise() -> None:
    assert not throughput_settled([80, 85, 90, 101]).settled  # within 2 sqrt(90), but rising
    assert throughput_settled([95, 101, 98, 97]).settled


def test_small_counts_are_held_to_their_noise_not_to_ten_percent() -> None:
    reading = throughput_settled([4, 6, 5, 5])  # 5 requests a slice cannot resolve 10%
    assert reading.settled and reading.allowed is not None and reading.allowed > 0.5
    assert not throughput_settled([0, 0, 0, 0]).settled  # nothing completes: not settled
    assert not throughput_settled([100, 100, 100]).settled  # too few slices


def test_batch_means_interval_is_labelled_and_needs_five_seconds() -> None:
    assert batch_means([100.0] * 4) is None
    interval = batch_means([100.0, 104.0, 96.0, 100.0, 98.0, 102.0])
    assert interval is not None and interval["interval"] == INTERVAL_LABEL
    assert interval["confidence"] == 0.95 and interval["batches"] == 6
    # t(5) = 2.571, the batch means' sd 2.828 over sqrt(6): half-width 2.97 of a mean of 100
    assert interval["half_width_rps"] == pytest.approx(2.968, abs=0.01)
    longer = batch_means([100.0] * 25)
    assert longer is not None and longer["batches"] == 10 and longer["batch_seconds"] == 2


def test_a_steady_point_stops_at_its_minimum_a_noisy_one_at_its_maximum() -> None:
    rng = random.Random(20)
    steady = [1000 + rng.gauss(0, 20) for _ in range(40)]
    assert auto_stop(4.0, steady[:3], min_s=5, max_s=30)[0] is None  # before the minimum
    reason, interval = auto_stop(10.1, steady[:9], min_s=10, max_s=30)
    assert reason == "converged" and interval is not None
    assert interval["relative_half_width"] <= 0.05
    noisy = [rng.choice((200.0, 1800.0)) for _ in range(40)]  # a bursty service
    assert auto_stop(20.0, noisy[:19], min_s=10, max_s=30)[0] is None
    reason, interval = auto_stop(30.0, noisy[:29], min_s=10, max_s=30)
    assert reason == "max" and interval is not None and interval["relative_half_width"] > 0.05


def test_the_coverage_of_the_batch_means_interval_is_about_95_percent() -> None:
    """Independent seconds: the labelled 95% interval covers the true mean 90-99% of 1,000."""
    rng = random.Random(7)
    covered = 0
    for _ in range(1000):
        series = [rng.gauss(500, 50) for _ in range(20)]
        interval = batch_means(series)
        assert interval is not None
        covered += abs(interval["mean_rps"] - 500) <= interval["half_width_rps"]
    assert 900 <= covered <= 990


@pytest.mark.parametrize(("text", "expected"), [
    ("8s", WindowDuration(8.0)), ("500ms", WindowDuration(0.5)), (12, WindowDuration(12.0)),
    ("auto", WindowDuration(10.0, 60.0)), ("auto:30s", WindowDuration(10.0, 30.0)),
    ("auto:3s:12s", WindowDuration(3.0, 12.0)), ("auto:1m", WindowDuration(10.0, 60.0)),
])
def test_duration_parses(text: object, expected: WindowDuration) -> None:
    assert parse_window_duration(text) == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("soon", "expected a duration"), ("0s", "longer than 0s"), ("auto:5s", "shorter than"),
    ("auto:x", "expected a maximum"), ("auto:1:2:3", "auto:MIN:MAX"), (True, "expected"),
])
def test_bad_durations_are_one_line(text: object, problem: str) -> None:
    with pytest.raises(DimensionError, match=problem) as error:
        parse_window_duration(text)
    assert "\n" not in str(error.value)


def test_the_config_carries_the_auto_window() -> None:
    config = resolve_config({"duration_s": "auto:4s:20s"})
    assert (config.duration_s, config.duration_max_s) == (4.0, 20.0)
    assert resolve_config({"duration_s": "7s"}).duration_max_s is None
    with pytest.raises(ConfigError, match=r"^--duration: "):
        resolve_config({"duration_s": "auto:nope"})


def test_the_runner_asks_for_a_bounded_window() -> None:
    env = window_request(3.0, 12.0, 5, 8123)
    spec = json.loads(env[WINDOW_ENV])
    assert spec == {"min_s": 3.0, "max_s": 12.0, "settle_max_s": 2.0, "users": 5,
                    "service_port": 8123, "slice_s": 0.25}
    assert json.loads(window_request(30.0, None, None, None)[WINDOW_ENV])["settle_max_s"] == 5
    assert json.loads(window_request(8.0, None, None, None)[WINDOW_ENV])["settle_max_s"] == 4
    assert run_time_bound(1.0, 3.0, 12.0) == 20  # ramp + settle bound + max + 5 s slack
    assert run_time_bound(2.0, 10.0, None) == 22


def test_the_evidence_becomes_the_window_blocks_and_warnings(tmp_path: Path) -> None:
    assert read_settle(tmp_path) is None and window_blocks(None) == {}
    assert settle_warning(None) == [] and "single Locust process" in settle_warning(None, True)[0]
    settled = {"settle": {"opened_by": "settled", "settle_s": 1.6},
               "duration": {"rule": "auto", "stopped_by": "converged", "seconds": 10.3}}
    (tmp_path / "settle-local-42.json").write_text(json.dumps(settled), encoding="utf-8")
    document = read_settle(tmp_path)
    assert window_blocks(document) == settled and settle_warning(document) == []
    unsettled = {"settle": {"opened_by": "bound", "settle_max_s": 3.0, "slices": [5, 90, 200],
                            "throughput": {"settled": False}, "users": 50,
                            "users_answered": 41, "accept_queue": 9},
                 "duration": {"rule": "auto", "stopped_by": "max", "max_s": 30.0,
                              "target": 0.05, "interval": {"interval": INTERVAL_LABEL,
                                                           "relative_half_width": 0.081}}}
    bound, maximum = settle_warning(unsettled)
    assert "settle bound" in bound and "41 of 50 users" in bound and "9 connections" in bound
    assert "±8.1%" in maximum and "95% t-interval" in maximum


def test_the_accept_queue_of_a_listening_port(tmp_path: Path) -> None:
    header = "  sl  local_address rem_address   st tx_queue rx_queue\n"
    (tmp_path / "tcp").write_text(
        header + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000007 00:00000000\n"
        "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000010 00:00000000\n",
        encoding="ascii")
    assert accept_queue_of(0x1F90, tmp_path) == 7  # the established socket's bytes are not it
    assert accept_queue_of(81, tmp_path) is None


@pytest.mark.parametrize("period_s", [0.1, 0.0303, 0.2])
def test_under_a_quota_the_slices_hold_whole_periods_and_a_steady_load_settles(
        period_s: float) -> None:
    """A quota'd service answers in one burst per CFS period. Quarter-second slices hold 2 or 3
    bursts of a 100 ms period, so their counts differ by half and a steady load never settles;
    slices of whole periods agree."""
    def counts(slice_s: float, seconds: float = 3.0, burst: int = 250) -> list[float]:
        bursts = [k * period_s + 0.3 * period_s for k in range(int(seconds / period_s))]
        slices = [0.0] * int(seconds / slice_s)
        for at in bursts:
            if int(at / slice_s) < len(slices):
                slices[int(at / slice_s)] += burst
        return slices

    slice_s = settle_slice(period_s)
    assert slice_s >= 0.25 and abs(slice_s / period_s - round(slice_s / period_s)) < 1e-6
    assert throughput_settled(counts(slice_s)).settled
    if period_s == 0.1:
        assert not throughput_settled(counts(0.25)).settled
    assert settle_slice(None) == 0.25
    spec = json.loads(window_request(4.0, None, 10, None, period_s)[WINDOW_ENV])
    assert spec["slice_s"] == slice_s
