"""The cross-check's bracketed comparison: each Locust run against the wrk runs around it.

One users level runs, on one service: wrk, then K rounds of [Locust fast, Locust http, wrk].
The host's speed drifts (a shared VM: ±20% from minute to minute), so a Locust run is compared
with the mean of the two wrk runs that bracket it, not with one wrk run minutes away; the
median of those ratios over the rounds is the level's figure per user class.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

TOLERANCE = 0.10  # agreement: the median ratio within 0.90 .. 1.10
CLASSES = ("fast", "http")
# ratio column -> the figure it compares (Locust's over the bracketing wrk runs' mean)
RATIOS = {"rps_vs_wrk": "rps", "us_vs_wrk": "service_us_per_request",
          "mean_vs_wrk": "mean_ms", "p50_vs_wrk": "p50_ms"}


def _ratio(value: float, reference: float) -> float:
    if math.isnan(value) or math.isnan(reference):
        return math.nan
    return value / reference if value > 0 and reference > 0 else math.nan


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def bracket(level: list[dict[str, Any]]) -> None:
    """Fill the ratio columns of one level's rows (in run order) in place.

    A Locust row gets, for each of RATIOS, its figure over the mean of the wrk rows just before
    and just after it, and ``counted``: its verdict and both wrk verdicts are ``valid``. wrk
    rows are the references: no ratios, never counted.
    """
    wrk_indexes = [i for i, row in enumerate(level) if row["tool"] == "wrk"]
    for index, row in enumerate(level):
        if row["tool"] == "wrk":
            row.update(dict.fromkeys(RATIOS, math.nan), counted=False)
            continue
        before = [level[i] for i in wrk_indexes if i < index][-1:]
        after = [level[i] for i in wrk_indexes if i > index][:1]
        around = before + after
        for column, figure in RATIOS.items():
            row[column] = _ratio(row[figure], _mean([wrk[figure] for wrk in around]))
        row["wrk_before_rps"] = before[0]["rps"] if before else math.nan
        row["wrk_after_rps"] = after[0]["rps"] if after else math.nan
        row["counted"] = (row["verdict"] == "valid" and len(around) == 2
                          and all(wrk["verdict"] == "valid" for wrk in around)
                          and not math.isnan(row["rps_vs_wrk"]))


def _median(values: list[float]) -> float:
    values = [value for value in values if not math.isnan(value)]
    return statistics.median(values) if values else math.nan


def summarize(rows: list[dict[str, Any]], levels: list[int]) -> list[dict[str, Any]]:
    """Per level and user class: the counted runs' median ratios, their range, the verdict.

    Then one row per level for wrk itself: its runs' rps range shows the host's drift.
    """
    summary: list[dict[str, Any]] = []
    for users in levels:
        level = [row for row in rows if row["users"] == users]
        for name in CLASSES:
            runs = [row for row in level if row["tool"] == "locust" and row["class"] == name]
            if not runs:
                continue
            counted = [row for row in runs if row["counted"]]
            ratios = [row["rps_vs_wrk"] for row in counted]
            median = _median(ratios)
            summary.append({
                "users": users, "tool": "locust", "class": name, "runs": len(runs),
                "counted": len(counted), "median_rps_vs_wrk": median,
                "min_rps_vs_wrk": min(ratios, default=math.nan),
                "max_rps_vs_wrk": max(ratios, default=math.nan),
                "median_us_vs_wrk": _median([row["us_vs_wrk"] for row in counted]),
                "median_us_per_request": _median([row["service_us_per_request"]
                                                  for row in counted]),
                "within_10_percent": None if not counted else within(median)})
        wrk = [row for row in level if row["tool"] == "wrk"]
        valid = [row for row in wrk if row["verdict"] == "valid"]
        summary.append({
            "users": users, "tool": "wrk", "class": "-", "runs": len(wrk),
            "counted": len(valid), "min_rps": min((r["rps"] for r in valid), default=math.nan),
            "max_rps": max((r["rps"] for r in valid), default=math.nan),
            "median_us_per_request": _median([r["service_us_per_request"] for r in valid])})
    return summary


def within(ratio: float) -> bool:
    return not math.isnan(ratio) and 1 - TOLERANCE <= ratio <= 1 + TOLERANCE


def agree(summary: list[dict[str, Any]], levels: list[int]) -> bool:
    """Every level has a counted Locust run, and every class with one agrees within 10%."""
    for users in levels:
        classes = [s for s in summary if s["users"] == users and s["tool"] == "locust"
                   and s["counted"]]
        if not classes or not all(s["within_10_percent"] for s in classes):
            return False
    return True
