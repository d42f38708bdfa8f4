from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.compare import ratio_ci, ratio_interval
from analysis.histograms import percentile
from analysis.stats import (
    interval_label,
    mean_ci,
    percentile_intervals,
    percentile_label,
    relative_spread,
    summarise,
)


def _coverage(size: int, draws: int, rng: np.random.Generator, lognormal: bool = False) -> float:
    hits = 0
    for _ in range(draws):
        values = (rng.lognormal(math.log(1000.0), 0.3, size) if lognormal
                  else rng.normal(1000.0, 80.0, size))
        truth = 1000.0 * math.exp(0.3**2 / 2) if lognormal else 1000.0
        _, low, high = mean_ci(values)
        hits += low <= truth <= high
    return hits / draws


def test_a_labelled_95_percent_interval_covers_the_true_mean_at_n5() -> None:
    # 1,000 simulated sweeps of 5 repeats each (seeded): a nominal 95% t-interval must hold
    # the true mean at least 90% of the time, on normal and on skewed (lognormal) repeats
    assert interval_label(5) == "95% CI (t, n=5)"
    rng = np.random.default_rng(20261204)
    normal, skewed = _coverage(5, 1000, rng), _coverage(5, 1000, rng, lognormal=True)
    print(f"coverage at n=5 over 1,000 simulations: normal {normal:.3f}, lognormal {skewed:.3f}")
    assert normal >= 0.90 and skewed >= 0.90
    assert normal <= 0.98  # and it is not a vacuous, ever-wider interval


def test_two_repeats_give_a_range_labelled_as_such_never_a_ci() -> None:
    assert interval_label(2) == "range of 2" and "CI" not in interval_label(2)
    assert interval_label(1) == "n=1, no interval"
    assert percentile_label(2) == "range of 2 repeats"
    assert percentile_label(5) == "95% CI (t over the repeats' percentiles, n=5)"
    assert mean_ci([10.0, 14.0]) == (12.0, 10.0, 14.0)
    # and the range of two holds the true mean only about half the time: why it is no CI
    rng = np.random.default_rng(7)
    hits = sum(lo <= 0.0 <= hi for _, lo, hi in (mean_ci(rng.normal(0, 1, 2))
                                                  for _ in range(1000)))
    assert 0.40 <= hits / 1000 <= 0.60


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
    # an unclipped Student-t interval on these latencies gives 0.3 [-1.1, 1.8]
    values = [0.05, 0.1, 0.75]
    mean, low, high = mean_ci(values)
    assert low == 0.0 and low <= mean <= high
    ratio, low, high = ratio_ci(np.array(values), np.array([0.2, 0.3, 0.25]))
    assert 0 < low <= ratio <= high


def test_ratio_interval_covers_the_true_ratio_and_says_what_it_is() -> None:
    rng = np.random.default_rng(5)
    hits, draws = 0, 1000
    for _ in range(draws):
        fast = rng.normal(2000.0, 100.0, 5)
        slow = rng.normal(1000.0, 60.0, 5)
        _, low, high = ratio_ci(fast, slow)
        hits += low <= 2.0 <= high
    assert 0.90 <= hits / draws <= 0.98, hits / draws
    assert ratio_interval(fast, slow)[3] == "95% CI (Welch t, log scale, n=5/5)"
    ratio, low, high, label = ratio_interval(np.array([10.0, 12.0]), np.array([5.0, 6.0]))
    assert (low, high) == (10.0 / 6.0, 12.0 / 5.0) and label == "range of repeat ratios (n=2/2)"
    ratio, low, high = ratio_ci(np.array([10.0]), np.array([5.0]))
    assert ratio == 2.0 and math.isnan(low) and math.isnan(high)


def _histogram_rows(shifts: list[int]) -> pd.DataFrame:
    base = {value: 10 for value in range(1, 101)}  # 1..100 ms, 10 requests each
    return pd.DataFrame({"hdr": [None] * len(shifts),
                         "histogram": [{k + s: v for k, v in base.items()} for s in shifts]})


def _percentile_coverage(name: str, fraction: float, draws: int,
                         rng: np.random.Generator) -> float:
    """Sweeps of 5 repeats, each with its own run effect (sd 10% on the log scale) and 2,000
    lognormal requests: how often the interval holds the configuration's true percentile."""
    population = (rng.lognormal(0, 0.5, 2_000_000) * np.exp(rng.normal(0, 0.10, 2_000_000))
                  * 1000)
    truth = float(np.quantile(population, fraction))
    hits = 0
    for _ in range(draws):
        runs = []
        for _ in range(5):
            times = np.round(rng.lognormal(0, 0.5, 2000) * math.exp(rng.normal(0, 0.10)) * 1000)
            values, counts = np.unique(times.astype(int), return_counts=True)
            runs.append(dict(zip(values.tolist(), counts.tolist(), strict=True)))
        low, high = percentile_intervals(pd.DataFrame({"hdr": [None] * 5,
                                                       "histogram": runs}))[name]
        hits += low <= truth <= high
    return hits / draws


def test_a_labelled_percentile_interval_covers_the_true_percentile_at_n5() -> None:
    rng = np.random.default_rng(20261204)
    p50, p95 = (_percentile_coverage(name, fraction, 300, rng)
                for name, fraction in (("p50", 0.5), ("p95", 0.95)))
    print(f"percentile interval coverage at n=5 over 300 simulations: p50 {p50:.3f}, "
          f"p95 {p95:.3f}")
    assert p50 >= 0.90 and p95 >= 0.90


def test_percentile_intervals_come_from_repeats_not_from_requests() -> None:
    # five repeats with 1,000 requests each: an interval over requests (order statistic) would
    # be about ±2 ms around p50; the repeats move p50 by 0 to 40 ms, and the interval shows it
    spread = percentile_intervals(_histogram_rows([0, 10, 20, 30, 40]))
    low, high = spread["p50"]
    assert low <= 60 and high >= 80 and high - low >= 20
    # identical repeats: no spread between them, so a zero-width interval
    low, high = percentile_intervals(_histogram_rows([0, 0, 0]))["p50"]
    assert low == high == percentile(_histogram_rows([0])["histogram"][0], 0.5)
    # two repeats: the range of their own percentiles (Locust's rule, as histograms.percentile)
    two = _histogram_rows([0, 30])
    assert percentile_intervals(two)["p50"] == (51.0, 81.0)
    assert percentile_intervals(two)["p95"] == tuple(
        float(percentile(h, 0.95)) for h in two["histogram"]) == (96.0, 126.0)
    assert all(math.isnan(v) for v in percentile_intervals(_histogram_rows([5]))["p95"])


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
