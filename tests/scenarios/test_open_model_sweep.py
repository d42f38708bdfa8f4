"""The open model as a sweep dimension (``--arrival-rate``): the matrix, point ids, the Locust
options of a point, and the verdict's rules (quick tier: no load)."""

from __future__ import annotations

import pytest
from test_sweep_verdict import facts

from scenarios.open_model.options import default_pool
from scenarios.runner.config import ConfigError, expand, resolve_config
from scenarios.runner.evidence import judge


def open_figures(**changes: object) -> dict[str, object]:
    figures: dict[str, object] = {"intended": 10_000, "started": 10_000, "dropped": 0,
                                  "offered_rps": 1000.0, "lag_p99_ms": 1.2}
    figures.update(changes)
    return figures


def test_arrival_rates_replace_users_in_the_matrix() -> None:
    config = resolve_config({"arrival_rates": "50,200", "user_classes": "fast",
                             "mixes": "read-heavy", "repeats": "1"})
    points = expand(config)
    assert [(p.arrival_rate, p.users) for p in points] == [
        (50.0, default_pool(50, 0.1)), (200.0, default_pool(200, 0.1))]
    assert [p.point_id for p in points] == ["fast-read-heavy-a50-r1", "fast-read-heavy-a200-r1"]
    closed = expand(resolve_config({"users": "5", "user_classes": "fast", "repeats": "1",
                                    "mixes": "read-heavy"}))
    assert closed[0].arrival_rate is None and closed[0].point_id == "fast-read-heavy-u0005-r1"


@pytest.mark.parametrize(("flags", "problem"), [
    ({"arrival_rates": "50", "pacing": "constant:1"}, "--arrival-rate: the open model paces"),
    ({"arrival_rates": "0"}, "--arrival-rate: must be a rate above 0"),
    ({"arrival_rates": "fast"}, "--arrival-rate: expected a rate"),
])
def test_bad_open_model_settings_are_one_line_errors(flags: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        resolve_config(flags)
    assert str(error.value).startswith(problem) and "\n" not in str(error.value)


def test_a_clean_open_point_is_valid_and_little_uses_the_offered_rate() -> None:
    # 1000/s x 4.8 ms = 4.8 in flight, counted 4.7 by the generator; 10 users are its pool
    verdict = judge(facts(closed_model=False, rps=1000.0, open_model=open_figures(),
                          in_flight={"mean_in_flight": 4.7}))
    assert verdict.status == "valid", verdict.reasons
    law = verdict.evidence["open_model_littles_law"]
    assert law["expected_in_flight"] == pytest.approx(4.8) and abs(law["residual"]) < 0.05


def test_dropped_arrivals_make_the_point_generator_bound() -> None:
    verdict = judge(facts(closed_model=False, open_model=open_figures(dropped=11, started=9989),
                          in_flight={"mean_in_flight": 4.8}))
    assert verdict.status == "generator-bound" and "dropped-arrivals" in verdict.causes
    assert "dropped 11 of 10000 arrivals (0.11%" in " ".join(verdict.reasons)
    assert verdict.evidence["open_model"]["dropped"] == 11
    within = judge(facts(closed_model=False, open_model=open_figures(dropped=10),
                         in_flight={"mean_in_flight": 4.8}))
    assert "dropped-arrivals" not in within.causes  # 0.1% exactly is tolerated


def test_late_starts_and_a_broken_littles_law_are_causes() -> None:
    verdict = judge(facts(closed_model=False, open_model=open_figures(lag_p99_ms=25.0),
                          in_flight={"mean_in_flight": 9.0}))
    assert verdict.status == "generator-bound"
    assert {"schedule-lag", "littles-law"} <= set(verdict.causes)
