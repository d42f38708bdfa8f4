from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.compare import ratio_ci
from analysis.stats import mean_ci, relative_spread, summarise


def _coverage(size: int, draws: int, rng: np.random.Generator) -> float:
    hits = 0
    for index in range(draws):
        _, low, high = mean_ci(rng.normal(1000.0, 80.0, size), seed=index)
        hits += low <= 1000.0 <= high
    return hits / draws


def test_bootstrap_ci_covers_the_true_mean_as_the_repeats_allow() -> None:
    rng = np.random.default_rng(20261125)
    # 10 repeats: close to the nominal 95%
    assert 0.925 <= _coverage(10, 1500, rng) <= 0.97
    # 3 repeats: a resampling interval cannot be wider than the repeats' range, which holds
    # the true mean with probability 1 - 2 * 0.5^3 = 75% (documented in analysis/README.md)
    assert 0.70 <= _coverage(3, 1500, rng) <= 0.80


def test_interval_narrows_with_more_repeats() -> None:
    rng = np.random.default_rng(1)
    widths = []
    for size in (3, 30):
        bounds = [mean_ci(rng.normal(50.0, 5.0, size))[1:] for _ in range(100)]
        widths.append(float(np.mean([high - low for low, high in bounds])))
    assert widths[1] < widths[0] / 1.5


def test_one_repeat_gives_the_value_and_no_interval() -> None:
    mean, low, high = mean_ci([123.0])
    assert mean == 123.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in mean_ci([]))


def test_interval_of_a_non_negative_figure_never_crosses_zero() -> None:
    # a Student-t interval on these latencies gave 0.3 [-1.1, 1.8]: a negative latency
    values = [0.05, 0.1, 0.75]
    mean, low, high = mean_ci(values)
    assert 0.05 <= low <= mean <= high <= 0.75
    ratio, low, high = ratio_ci(np.array(values), np.array([0.2, 0.3, 0.25]))
    assert 0 < low <= ratio <= high


def test_ratio_ci_covers_the_true_ratio() -> None:
    rng = np.random.default_rng(5)
    hits, draws = 0, 1500
    for index in range(draws):
        fast = rng.normal(2000.0, 100.0, 8)
        slow = rng.normal(1000.0, 60.0, 8)
        _, low, high = ratio_ci(fast, slow, seed=index)
        hits += low <= 2.0 <= high
    assert 0.91 <= hits / draws <= 0.98, hits / draws
    ratio, low, high = ratio_ci(np.array([10.0]), np.array([5.0, 5.5]))
    assert ratio == 10.0 / 5.25 and math.isnan(low) and math.isnan(high)


def _points(statuses: list[str], rps: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "user_class": "fast", "mix": "m", "users": 10, "endpoint": "Aggregated",
        "status": statuses, "reasons": "", "requests": 100, "failures": 0, "rps": rps,
        "mean_ms": 1.0, "p50_ms": 1.0, "p90_ms": 1.0, "p95_ms": 1.0, "p99_ms": 1.0,
        "histogram": [{1: 100}] * len(rps), "gen_cpu_mean": 50.0, "gen_cpu_max": 50.0,
        "service_cpu_mean": 20.0, "processes": 1, "think_s": 0.0})


def test_one_valid_repeat_of_three_is_not_a_valid_point() -> None:
    row = summarise(_points(["valid", "generator-bound", "sut-errors"],
                            [100.0, 90.0, 80.0])).iloc[0]
    assert not row["trusted"] and row["valid_repeats"] == 1 and row["n"] == 3
    assert row["status"] == "sut-errors"
    assert row["statuses"] == "valid 1/3, generator-bound 1/3, sut-errors 1/3"
    # it does not count towards the measured spread either
    assert math.isnan(relative_spread(_points(["valid", "generator-bound"], [100.0, 150.0]),
                                      "rps"))


def test_relative_spread_is_the_pooled_coefficient_of_variation() -> None:
    points = pd.concat([_points(["valid"] * 3, [90.0, 100.0, 110.0]),
                        _points(["valid"] * 3, [180.0, 200.0, 220.0]).assign(users=20)])
    assert math.isclose(relative_spread(points, "rps"), 0.1)
