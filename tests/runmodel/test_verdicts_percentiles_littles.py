"""The verdict vocabulary's order, the percentile rules and Little's law helpers."""

from __future__ import annotations

import math

import pytest

from runmodel import littles_law, percentiles, verdicts


def test_order_is_the_runners_with_reader_statuses_before_valid() -> None:
    assert verdicts.STATUSES == ("interrupted", "failed", "too-few-samples", "sut-errors",
                                 "inconsistent", "generator-bound", "not-steady",
                                 "client-dominated", "valid")
    assert verdicts.ORDER[-1] == "valid"
    assert verdicts.rank("inconsistent") < verdicts.rank("generator-bound")
    assert verdicts.rank("generator-bound") < verdicts.rank("unchecked") < verdicts.rank("valid")
    assert verdicts.worst(["valid", "generator-bound", "inconsistent"]) == "inconsistent"
    assert verdicts.worst(["valid", "some-newer-status"]) == "some-newer-status"
    assert verdicts.worst([]) == ""
    assert not set(verdicts.RESERVED) & set(verdicts.ORDER)
    assert verdicts.is_trusted("valid") and not verdicts.is_trusted("unchecked")


def test_every_status_has_a_meaning_and_a_grade() -> None:
    """The report explains, and a comparison grades, every status the runner can write."""
    assert set(verdicts.MEANINGS) == set(verdicts.STATUSES)
    assert all(meaning.strip() for meaning in verdicts.MEANINGS.values())
    assert [verdicts.grade(s) for s in ("valid", "generator-bound", "interrupted", "sut-errors",
                                        "failed", "unchecked", "some-newer-status")] == [
        0, 1, 1, 2, 2, 1, 1]


def _reference(histogram: dict[int, int], fraction: float) -> float:
    """Locust's rule spelled out: the largest bucket with at most int(N p) requests below it."""
    total = sum(histogram.values())
    for bucket in sorted(histogram, reverse=True):
        below = sum(count for b, count in histogram.items() if b < bucket)
        if below <= int(total * fraction):
            return float(bucket)
    raise AssertionError


@pytest.mark.parametrize("histogram", [{1: 1}, {0: 5, 1: 3, 7: 1, 120: 1},
                                       {3: 50, 4: 30, 5: 15, 90: 4, 1000: 1}])
@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.95, 0.99, 1.0])
def test_locust_rule(histogram: dict[int, int], fraction: float) -> None:
    assert percentiles.locust_percentile(histogram, fraction) == _reference(histogram, fraction)


def test_locust_rule_examples() -> None:
    assert percentiles.locust_percentile({10: 90, 20: 10}, 0.9) == 20.0  # the 91st request
    assert percentiles.locust_percentile({10: 91, 20: 9}, 0.9) == 10.0
    assert math.isnan(percentiles.locust_percentile({}, 0.5))


@pytest.mark.parametrize(("total", "fraction", "rank"), [
    (1, 0.5, 1), (100, 0.95, 95), (101, 0.95, 96), (3, 0.0, 1), (10, 1.0, 10), (1000, 0.999, 999),
])
def test_nearest_rank(total: int, fraction: float, rank: int) -> None:
    assert percentiles.nearest_rank(total, fraction) == rank
    assert 0 < percentiles.hdr_query_percent(rank, total) <= 100


def test_littles_law() -> None:
    assert littles_law.in_flight(1000.0, 9.0) == pytest.approx(9.0)
    assert littles_law.completed_residual(10, 1000.0, 9.0) == pytest.approx(0.1)
    assert littles_law.completed_residual(10, None, 9.0) is None
    assert littles_law.in_flight(10.0, 100.0, think_s=0.9) == pytest.approx(10.0)
    assert littles_law.cycle_s(50.0, math.nan, per_user_rps=2.0) == 0.5
    assert math.isnan(littles_law.residual(0, 1.0))
    assert littles_law.closed_model("none") and littles_law.closed_model("locust-default")
    assert not littles_law.closed_model("constant")
    assert littles_law.think_time({"kind": "between", "min_s": 1, "max_s": 2}) == 1.5
    assert math.isnan(littles_law.think_time({"kind": "rate", "per_user_rps": 2}))
