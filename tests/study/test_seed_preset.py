"""scenarios/sweeps/seed.toml: the write-up's configuration, within its time budget (< 1 s)."""

from __future__ import annotations

from scenarios.runner.config import check_config, expand, pacing_params, resolve_config


def test_seed_reproduces_the_write_ups_configuration() -> None:
    seed = resolve_config({"preset": "seed"})
    check_config(seed)
    assert seed.user_classes == ["http", "fast"]
    assert seed.users == [50]
    assert seed.users[0] / seed.ramp_s == 5.0  # spawn rate 5 users/s
    assert pacing_params(seed) == {"kind": "between", "min_s": 1.0, "max_s": 2.0}
    points = expand(seed)
    weights = points[0].weights
    # GETs and POSTs, and some POSTs of existing ids that expect the 409 the write-up saw
    assert weights["get_product"] > weights["create_product"] > 0
    assert weights["create_duplicate"] > 0 and weights["list_products"] > 0
    assert {p.mix for p in points} == {"custom"}


def test_seed_stays_within_four_minutes_and_holds_enough_requests() -> None:
    seed = resolve_config({"preset": "seed"})
    points = expand(seed)
    assert seed.repeats == 3 and len(points) == 6
    assert len(points) * (seed.ramp_s + seed.duration_s) <= 225  # leaves ~15 s for overhead
    expected_rps = seed.users[0] / 1.5  # Little's law with 1.5 s mean think time
    assert expected_rps * seed.duration_s >= 600
