"""Percentiles that requests open at the window's end make lower bounds read "≥" in the tables."""

from __future__ import annotations

import math

import pandas as pd

from analysis.tables import bounded_ms


def test_a_bounded_percentile_reads_as_a_lower_bound() -> None:
    rows = pd.DataFrame({"requests": [3102, 3102, 3102, 500],
                         "censored_open": [90.0, 90.0, math.nan, 0.0],
                         "censored_older_p99": [84.0, 2.0, math.nan, 0.0],
                         "censored_older_p50": [0.0, 0.0, math.nan, 0.0],
                         "p99_ms": [350.0, 350.0, 350.0, 12.3456]})
    # 84 open requests older than the p99: 0.99 x 84 >= 0.1 x 31; 2 older: 1.98 < 3.1; not
    # recorded; none open. The p50: no open request older than it.
    assert bounded_ms(rows, "p99_ms", 0.99) == ["≥ 350", "350", "350", "12.3"]
    assert bounded_ms(rows, "p99_ms", 0.50) == ["350", "350", "350", "12.3"]
    # a sweep from before the fields
    without = rows.drop(columns=["censored_open", "censored_older_p99", "censored_older_p50"])
    assert bounded_ms(without, "p99_ms", 0.99)[0] == "350"
