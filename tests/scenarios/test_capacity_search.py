"""The capacity search's logic (scenarios/runner/_capacity_search.py) against a simulated
service, its reading of run.json records, and --find-capacity's bad input (quick tier: no load)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios.runner import CAPACITY_MAX_RATE as MAX_RATE
from scenarios.runner import CapacitySearch, CapacitySpec, judge_run, round_rate
from scenarios.runner import CapacityTrial as Trial
from scenarios.runner import describe_capacity as describe
from scenarios.sweep import main


def simulate(spec: CapacitySpec, passes: Callable[[float, int], bool]) -> CapacitySearch:
    """Run a search where ``passes(rate, nth run at that rate)`` plays the service."""
    search = CapacitySearch(spec)
    while (step := search.next_step()) is not None:
        rate, phase = step
        nth = len(search.runs(rate)) + 1
        search.record(Trial(rate, phase, f"a{rate:g}-r{nth}", passes(rate, nth)))
    return search


@pytest.mark.parametrize("start", [10.0, 100.0, 437.0, 3000.0])
@pytest.mark.parametrize("resolution", [0.05, 0.02])
def test_a_sharp_capacity_is_bracketed_to_the_resolution(start: float, resolution: float) -> None:
    true = 437.0
    search = simulate(CapacitySpec(start=start, resolution=resolution, max_runs=40),
                      lambda rate, _nth: rate <= true)
    result = search.result()
    low, high = result["interval"]["low"], result["interval"]["high"]
    assert result["stopped"] == "resolved" and result["resolved"]
    assert low <= true < high and high - low <= resolution * low
    assert result["capacity_rps"] == low and result["interval"]["kind"] == "bracket"
    assert "not a confidence interval" in result["interval"]["label"]
    assert len(search.runs(low)) == 2 and len(search.runs(high)) == 2  # the deciding rates
    assert sorted(result["deciding_runs"]) == sorted(
        t.run_id for t in search.trials if t.rate in (low, high))
    phases = [t.phase for t in search.trials]
    assert phases[0] == "bracket" and phases[-2:] == ["repeat", "repeat"]
    assert result["disagreeing_rates"] == [] and result["passing_above_failing"] == []


def test_a_repeat_that_fails_at_the_highest_passing_rate_moves_the_bracket_down() -> None:
    # 400-437/s passes on its first run and fails on the second: a noisy edge
    search = simulate(CapacitySpec(start=100, max_runs=40),
                      lambda rate, nth: rate < 400 or (rate <= 437 and nth == 1))
    result = search.result()
    low, high = result["interval"]["low"], result["interval"]["high"]
    assert low < 400 <= high <= 437 and high - low <= 0.05 * low
    assert result["resolved"] and result["disagreeing_rates"]  # the rate whose runs split
    assert all(rate >= 400 for rate in result["disagreeing_rates"])
    assert all(search.passes(rate) is False for rate in result["disagreeing_rates"])


def test_a_lowest_failing_rate_that_passes_its_repeat_stays_failing() -> None:
    first_failure: dict[str, float] = {}

    def passes(rate: float, nth: int) -> bool:
        if rate > 437:
            return False
        if rate > 400 and nth == 1 and "rate" not in first_failure:
            first_failure["rate"] = rate  # one unlucky first run, then it passes
            return False
        return True

    result = simulate(CapacitySpec(start=100, max_runs=40), passes).result()
    assert result["interval"]["high"] == first_failure["rate"]
    assert result["disagreeing_rates"] == [first_failure["rate"]]


def test_the_budget_stops_an_unresolved_search_and_says_so() -> None:
    result = simulate(CapacitySpec(start=1, max_runs=5), lambda rate, _: rate < 10_000).result()
    assert result["stopped"] == "budget" and not result["resolved"] and result["runs"] == 5
    assert result["interval"]["high"] is None and result["capacity_rps"] == 16
    assert "not resolved: budget" in describe(result)


def test_no_passing_rate_and_no_failing_rate_end_the_search() -> None:
    never = simulate(CapacitySpec(start=2, max_runs=40), lambda _rate, _nth: False).result()
    assert never["stopped"] == "no-passing-rate" and never["capacity_rps"] is None
    assert "no passing rate" in describe(never)
    always = simulate(CapacitySpec(start=MAX_RATE / 4, max_runs=40), lambda _r, _n: True)
    assert always.result()["stopped"] == "no-failing-rate"
    assert always.result()["interval"] == {**always.result()["interval"], "low": MAX_RATE,
                                          "high": None}


def test_a_noisy_service_lands_near_its_capacity() -> None:
    """A service whose pass/fail edge jitters by +-3% around 800/s: the search's capacity is
    within its own bracket's width plus the jitter of the true edge."""
    rng = random.Random(7)
    for _ in range(20):
        result = simulate(CapacitySpec(start=100, max_runs=40),
                          lambda rate, _nth: rate <= 800 * rng.uniform(0.97, 1.03)).result()
        assert 800 * 0.97 / 1.05 <= result["capacity_rps"] <= 800 * 1.03


def test_a_run_that_says_nothing_about_its_rate_stops_the_search() -> None:
    search = CapacitySearch(CapacitySpec(start=200))
    search.record(judge_run(record(status="too-few-samples"), "bracket"))
    assert search.next_step() is None and search.result()["stopped"] == "unusable-run"
    assert not search.result()["resolved"]
    overloaded = CapacitySearch(CapacitySpec(start=500))  # too few answered, and the SLO missed
    overloaded.record(judge_run(record(status="too-few-samples", violations=("p99<100ms: 3725",)),
                                "bracket"))
    assert overloaded.next_step() == (250.0, "bracket")  # the run was at 500/s: halve it


def test_rates_round_to_three_significant_figures() -> None:
    assert [round_rate(r) for r in (1234.5, 87.66, 0.5, 100.0)] == [1230.0, 87.7, 0.5, 100.0]


def record(status: str = "valid", violations: tuple[str, ...] = (), dropped: int = 0,
           open_model: bool = True) -> dict[str, object]:
    figures = {"intended": 10_000, "dropped": dropped, "dropped_share": dropped / 10_000,
               "offered_rps": 500.0, "intended_p99_ms": 42.0} if open_model else None
    return {"run_id": "fast-read-heavy-a500-r1-p1", "params": {"arrival_rate": 500.0},
            "verdict": {"status": status, "reasons": ["the reason"] if status != "valid" else []},
            "slo": {"violations": list(violations)}, "requests": {"rps": 499.0},
            "open_model": figures}


@pytest.mark.parametrize(("run", "failed_on"), [
    (record(), ()),
    (record(status="client-dominated"), ()),  # latency with the client's time: an upper bound
    (record(violations=("p99<100ms: measured 180",)), ("slo",)),
    (record(dropped=11), ("dropped",)),  # 0.11%
    (record(dropped=10), ()),  # 0.1% exactly is tolerated
    (record(status="generator-bound", dropped=50), ("dropped", "verdict:generator-bound")),
    (record(status="not-steady"), ("verdict:not-steady",)),
    (record(open_model=False), ("no-evidence",)),
])
def test_a_run_passes_only_valid_within_the_slo_and_without_drops(
        run: dict[str, object], failed_on: tuple[str, ...]) -> None:
    trial = judge_run(run, "bisect")
    assert trial.rate == 500.0 and trial.failed_on == failed_on and trial.passed == (not failed_on)
    assert len(trial.reasons) == len(failed_on)


@pytest.mark.parametrize(("argv", "needle"), [
    (["--find-capacity", "--slo", "p99<<100ms"], "--slo: bad objective"),
    (["--find-capacity", "--slo", "p99<100ms", "--users", "10"], "--find-capacity with --users"),
    (["--find-capacity"], "--find-capacity: give --slo"),
    (["--capacity-repeats", "3"], "--capacity-repeats: only with --find-capacity"),
    (["--find-capacity", "--slo", "p99<100ms", "--capacity-resolution", "x"],
     "--capacity-resolution: expected"),
    (["--find-capacity", "--slo", "p99<100ms", "--capacity-resolution", "80%"],
     "--capacity-resolution: from 0.1% to 50%"),
    (["--find-capacity", "--slo", "p99<100ms", "--arrival-rate", "10,20"],
     "--arrival-rate: a capacity search starts from one rate"),
    (["--find-capacity", "--slo", "p99<100ms", "--pacing", "constant:1"],
     "--arrival-rate: the open model paces"),
    (["--find-capacity", "--slo", "p99<100ms", "--repeats", "3"], "--find-capacity with --repeats"),
])
def test_bad_capacity_input_is_one_line_exit_2_and_no_sweep(
        argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_the_capacity_sweep_runs_the_searchs_points_and_writes_capacity_json(
        tmp_path: Path) -> None:
    """The runner's loop (no load: each run is a simulated service's record): one search per
    configuration, points added to the manifest as they run, capacity.json after each run."""
    from scenarios.runner import CapacitySweep
    from scenarios.runner.config import Point, expand, parse_slo, resolve_config

    config = resolve_config({"arrival_rates": "100", "user_classes": "fast,http",
                             "mixes": "read-heavy", "out": str(tmp_path)})
    spec = CapacitySpec(start=100, max_runs=12)
    sweep = CapacitySweep(config, expand(config), parse_slo("p99<100ms"), spec)
    assert [p.user_class for p in sweep.points] == ["fast", "http"]
    sweep.sweep_dir.mkdir(parents=True)
    sweep.manifest = {"points": []}
    capacities = {"fast": 430.0, "http": 260.0}

    def run_point(point: Point, _index: int, last: bool) -> dict[str, Any]:
        assert point.arrival_rate is not None and not last
        ok = point.arrival_rate <= capacities[point.user_class]
        return {**record(violations=() if ok else ("p99<100ms: measured 180",)),
                "run_id": point.run_id(1), "params": {"arrival_rate": point.arrival_rate}}

    sweep._run_point = run_point  # type: ignore[method-assign,assignment]
    assert sweep._run_points() == "complete"
    document = json.loads((sweep.sweep_dir / "capacity.json").read_text())
    assert document["slo"] == ["p99<100ms"] and document["latency"] == "intended-start"
    found = {s["configuration"]["user_class"]: s for s in document["searches"]}
    for name, true in capacities.items():
        low, high = found[name]["interval"]["low"], found[name]["interval"]["high"]
        assert low <= true < high and found[name]["resolved"]
    ids = sweep.manifest["points"]
    assert len(ids) == sum(s["runs"] for s in document["searches"]) == len(set(ids))
    assert ids[0] == "fast-read-heavy-a100-r1" and "fast-read-heavy-a100-r2" not in ids
    assert any(i.endswith("-r2") for i in ids)  # the deciding rates' repeats


def test_a_capacity_sweep_is_not_resumed(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from scenarios.runner.record import SCHEMA_VERSION

    (tmp_path / "manifest.json").write_text(json.dumps(
        {"schema_version": SCHEMA_VERSION, "config": {}, "capacity": {"file": "capacity.json"}}))
    assert main(["--resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "a capacity search (--find-capacity) cannot be resumed" in err
    assert err.count("\n") == 1


def test_halving_stops_where_the_window_would_hold_too_few_requests() -> None:
    from scenarios.runner import capacity_spec
    from scenarios.runner.config import resolve_config

    config = resolve_config({"arrival_rates": "300", "duration_s": "4s", "slo": "p99<100ms"})
    spec = capacity_spec(config, {})
    assert spec.start == 300 and spec.min_rate == 27.5  # 100 requests / 4 s, 10% over
    search = simulate(spec, lambda _rate, _nth: False)
    assert min(t.rate for t in search.trials) == 27.5
    assert search.result()["stopped"] == "no-passing-rate"


def test_a_capacity_search_starts_at_its_config_files_rate_and_refuses_its_users(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A preset's or --config file's arrival rate is the search's start (the flag's default only
    fills a gap), and users set in the file are refused like --users."""
    from scenarios.runner import capacity_flags, capacity_spec
    from scenarios.runner.config import resolve_config

    flags: dict[str, Any] = {"find_capacity": True, "preset": "study-v3-capacity",
                             "arrival_rates": None, "slo": "p95<110ms"}
    settings = capacity_flags(flags)
    assert settings is not None and flags["arrival_rates"] is None
    assert capacity_spec(resolve_config(flags), settings).start == 500
    config = tmp_path / "users.toml"
    config.write_text('users = [10]\narrival-rates = [200]\n')
    assert main(["--find-capacity", "--slo", "p99<100ms", "--config", str(config),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "users.toml sets users" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()
