"""Requests open at the window's end: which percentiles become lower bounds (runmodel.censoring)."""

from __future__ import annotations

import math

from runmodel import censoring
from runmodel.percentiles import PERCENTILES


def test_a_percentile_is_bounded_when_the_open_requests_rival_its_tail() -> None:
    # 2,700 completed (a saturated 200-user point): the p99's tail is 27 requests
    assert not censoring.affected(2700, 0, 0.99)
    assert not censoring.affected(2700, 2, 0.99)  # 0.99 x 2 = 1.98 < 2.7
    assert censoring.affected(2700, 3, 0.99)  # 2.97 >= 0.1 x 27
    # 200 open (every user waiting): p95 and p99 are bounds, p50 is not (100 < 135)
    assert [censoring.affected(2700, 200, PERCENTILES[name]) for name in ("p50", "p95", "p99")] \
        == [False, True, True]
    assert censoring.affected(100, 1, 1.0)  # an empty tail: any open request bounds the max
    assert censoring.shift_share(100, 0, 1.0) == 0.0
    assert math.isclose(censoring.shift_share(1000, 10, 0.9), 0.9 * 10 / 100)


def test_a_lower_bound_reads_as_one() -> None:
    assert censoring.lower_bound_text(1234.5) == "≥ 1.23 s"
    assert censoring.lower_bound_text(1200.0) == "≥ 1.2 s"
    assert censoring.lower_bound_text(189.3) == "≥ 189 ms"
    assert censoring.lower_bound_text(0.4567) == "≥ 0.457 ms"


def test_the_run_json_block() -> None:
    # 84 open: 3 older than 350 ms, 40 more older than 189 ms, the rest young (10 ms)
    ages = [0.02, 0.5, 1.5, 0.36] + [0.2] * 40 + [0.01] * 40
    block = censoring.block(3102, ages, {"p50": 95.1, "p95": 189.3, "p99": 350.0, "p90": None},
                            PERCENTILES)
    assert block["open"] == 84 and block["completed"] == 3102
    # p99: 3 older (0.99 x 3 < 0.1 x 31 = 3.1); p95: 43 older (0.95 x 43 >= 0.1 x 155 = 15.5);
    # p50: 43 older (0.5 x 43 >= 0.1 x 1,551 = 155.1? no)
    assert block["lower_bounds"] == ["p95"]
    figures = block["percentiles"]
    assert figures["p50"]["lower_bound"] is False and figures["p50"]["shown"] is None
    assert figures["p50"]["open_older"] == 43
    assert figures["p95"]["shown"] == "≥ 189 ms"
    assert figures["p99"]["open_older"] == 3  # 0.36, 0.5 and 1.5 s are surely slower
    assert figures["p99"]["lower_bound"] is False
    assert figures["p90"]["lower_bound"] is False  # no figure, nothing to bound
    assert block["ages_s"] == {"max": 1.5, "p50": 0.2}
    nothing = censoring.block(500, [], {"p99": 3.0}, PERCENTILES)
    assert nothing["open"] == 0 and nothing["lower_bounds"] == [] and nothing["ages_s"] is None
