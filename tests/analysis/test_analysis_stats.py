from __future__ import annotations

import math

import numpy as np

from analysis.compare import ratio_ci
from analysis.stats import mean_ci


def test_mean_ci_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(20261125)
    for size in (3, 5, 10):
        hits = 0
        draws = 4000
        for _ in range(draws):
            sample = rng.normal(1000.0, 80.0, size)
            _, low, high = mean_ci(sample)
            hits += low <= 1000.0 <= high
        assert 0.935 <= hits / draws <= 0.965, (size, hits / draws)


def test_mean_ci_interval_narrows_with_more_repeats() -> None:
    rng = np.random.default_rng(1)
    widths = []
    for size in (3, 30):
        _, low, high = mean_ci(rng.normal(50.0, 5.0, size))
        widths.append(high - low)
    assert widths[1] < widths[0] / 1.5


def test_one_repeat_gives_the_value_and_no_interval() -> None:
    mean, low, high = mean_ci([123.0])
    assert mean == 123.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in mean_ci([]))


def test_ratio_ci_covers_the_true_ratio() -> None:
    rng = np.random.default_rng(5)
    hits, draws = 0, 3000
    for _ in range(draws):
        fast = rng.normal(2000.0, 100.0, 5)
        slow = rng.normal(1000.0, 60.0, 4)
        _, low, high = ratio_ci(fast, slow)
        hits += low <= 2.0 <= high
    assert 0.92 <= hits / draws <= 0.98, hits / draws
    ratio, low, high = ratio_ci(np.array([10.0]), np.array([5.0, 5.5]))
    assert ratio == 10.0 / 5.25 and math.isnan(low) and math.isnan(high)
