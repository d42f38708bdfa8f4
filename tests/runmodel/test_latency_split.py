"""The end-to-end latency split's arithmetic (runmodel.latency_split), on recorded runs.

The parts and the unexplained remainder add up to the client-seen mean exactly; a part that
was not measured is None and listed, never guessed; the remainder is kept, with its sign.
The recorded runs are the small real sweep under tests/data/sweep (recorded before the queue
times existed: their queue parts are missing) and a point of `make demo` recorded on
2026-12-04 (figures copied from its run.json, whose recorded split they reproduce).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from runmodel.latency_split import PARTS, from_blocks, from_record, mean_added_delay_ms, split

SWEEP = Path(__file__).resolve().parents[1] / "data" / "sweep"


def _adds_up(block: dict[str, object]) -> float:
    parts = block["parts_ms"]
    assert isinstance(parts, dict)
    total = sum(v for v in parts.values() if v is not None) + float(block["unexplained_ms"])
    return abs(total - float(block["client_mean_ms"]))  # type: ignore[arg-type]


def test_the_parts_and_the_remainder_add_up_to_the_client_seen_mean() -> None:
    block = split(12.5, {"client": 0.8, "network_delay": 10.0, "accept_queue": 0.01,
                         "app_queue": 0.2, "service": 0.9}, {"client": "calibrated"})
    assert block is not None
    assert block["explained_ms"] == pytest.approx(11.91)
    assert block["unexplained_ms"] == pytest.approx(0.59)
    assert block["unexplained_share"] == pytest.approx(0.59 / 12.5, abs=1e-4)
    assert block["missing"] == []
    assert _adds_up(block) < 1e-3
    assert list(block["parts_ms"]) == list(PARTS)


def test_a_part_not_measured_is_missing_and_stays_in_the_remainder() -> None:
    block = split(3.0, {"client": 0.9, "service": 0.1})
    assert block is not None
    assert block["parts_ms"]["app_queue"] is None
    assert block["missing"] == ["network_delay", "accept_queue", "app_queue"]
    assert block["unexplained_ms"] == pytest.approx(2.0)


def test_a_negative_remainder_is_kept_with_its_sign() -> None:
    block = split(0.377, {"client": 0.856, "network_delay": 0.0, "service": 0.0455})
    assert block is not None
    assert block["unexplained_ms"] == pytest.approx(-0.5245, abs=1e-4)
    assert block["unexplained_share"] < -1


def test_no_client_seen_mean_no_split_and_unknown_parts_refused() -> None:
    assert split(None, {"client": 1.0}) is None
    with pytest.raises(ValueError, match="kernel"):
        split(1.0, {"kernel": 0.5})


@pytest.mark.parametrize(("delay", "jitter"), [(10.0, 0.0), (10.0, 4.0), (2.0, 4.0), (0.5, 3.0)])
def test_the_configured_delays_mean_is_that_of_the_proxys_draws(delay: float,
                                                                jitter: float) -> None:
    rng = random.Random(42)
    draws = [max(0.0, rng.uniform(delay - jitter, delay + jitter)) for _ in range(200_000)]
    assert mean_added_delay_ms(delay, jitter) == pytest.approx(sum(draws) / len(draws),
                                                               rel=0.01)


def test_the_proxys_own_measured_delay_is_preferred_to_the_configured_one() -> None:
    measured = {"delay_ms": 10.0, "jitter_ms": 0.0,
                "added_ms": {"count": 21_000, "mean": 10.84, "p99": 12.0}}
    block = from_blocks(13.0, None, None, measured, None)
    assert block is not None
    assert block["parts_ms"]["network_delay"] == pytest.approx(10.84)
    assert block["sources"]["network_delay"].startswith("measured by the delaying proxy")
    configured = from_blocks(13.0, None, None, {"delay_ms": 10.0, "jitter_ms": 0.0,
                                                "stats_error": "the proxy wrote no stats"}, None)
    assert configured is not None
    assert configured["parts_ms"]["network_delay"] == 10.0
    assert configured["sources"]["network_delay"].startswith("configured 10 ms")
    assert from_blocks(1.0, None, None, None, None)["parts_ms"]["network_delay"] == 0.0


def _recorded_runs() -> list[dict[str, object]]:
    return [json.loads(path.read_text()) for path in sorted(SWEEP.glob("runs/*/run.json"))]


def test_recorded_runs_split_into_their_own_figures() -> None:
    calibration = json.loads((SWEEP / "manifest.json").read_text())["calibration"]
    runs = _recorded_runs()
    assert len(runs) >= 8
    for run in runs:
        params = run["params"]
        assert isinstance(params, dict)
        figures = calibration[params["user_class"]]
        block = from_record(run, figures)
        assert block is not None, run["run_id"]
        requests, server = run["requests"], run["server"]
        assert isinstance(requests, dict) and isinstance(server, dict)
        assert block["client_mean_ms"] == pytest.approx(requests["mean_ms"], abs=1e-4)
        assert block["parts_ms"]["service"] == server["load"]["mean_ms"]
        assert block["parts_ms"]["client"] == figures["floor_ms"]
        assert block["parts_ms"]["network_delay"] == 0.0  # no delay in that sweep
        assert block["missing"] == ["accept_queue", "app_queue"]  # recorded before they were
        assert _adds_up(block) < 1e-3


def test_a_recorded_demo_point_with_its_queue_times() -> None:
    """fast-read-heavy-cpufargate-256-rtt10-u0010-r1 of `make demo` on 2026-12-04 (valid): its
    run.json's requests.mean_ms, server.load, server_queues and rtt_delay.added_ms, and the
    manifest's calibration.fast.floor_ms, as recorded."""
    server = {"available": True, "load": {"requests": 5899, "mean_ms": 0.0451}}
    queues = {"available": True,
              "request_queue": {"requests": 5899, "mean_ms": 0.0772, "p99_ms": 0.5101},
              "accept_queue": {"connections": 0, "total_ms": 0.0, "mean_ms": None}}
    delay = {"delay_ms": 10.0, "jitter_ms": 0.0,
             "added_ms": {"count": 7415, "mean": 11.1445, "p99": 12.6253}}
    block = from_blocks(13.192570684204245, server, queues, delay, {"floor_ms": 0.1903})
    assert block is not None
    assert block["parts_ms"] == {"client": 0.1903, "network_delay": 11.1445,
                                 "accept_queue": 0.0, "app_queue": 0.0772, "service": 0.0451}
    assert block["explained_ms"] == 11.4571
    assert block["unexplained_ms"] == 1.7355 and block["unexplained_share"] == 0.1315
    assert block["missing"] == []
    assert _adds_up(block) < 1e-3
    # had 30 connections waited 66.24 ms in all to be accepted: 0.0112 ms per request
    accepted = from_blocks(13.19, server, {**queues, "accept_queue": {
        "connections": 30, "total_ms": 66.24, "mean_ms": 2.208}}, delay, None)
    assert accepted is not None
    assert accepted["parts_ms"]["accept_queue"] == pytest.approx(66.24 / 5899, abs=1e-4)
    assert accepted["missing"] == ["client"]


def test_a_recorded_block_is_read_as_recorded() -> None:
    block = split(2.0, {"client": 1.0, "service": 0.5})
    assert from_record({"latency_split": block, "requests": {"mean_ms": 99.0}}, None) == block
