"""The power statement of a comparison: the smallest regression each metric could have shown.

``analysis compare`` prints it and exits 4 when a metric's smallest detectable regression is
larger than its threshold (``underpowered``): a regression of the threshold's size could have
gone unseen at the comparison's repeats and measured noise.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.inference import POWER


def power_summary(table: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per metric of a ``compare_sweeps`` table: the largest ``detectable`` over its cells,
    the repeats, and whether that is larger than ``threshold`` (``underpowered``: a regression
    of the threshold's size could have gone unseen; unknown noise counts as underpowered)."""
    rows = []
    for metric, group in table.groupby("metric", sort=False):
        sizes = group["detectable"].astype(float)
        worst = float(sizes.max()) if sizes.notna().all() else math.nan
        counts = sorted({f"{int(a)}/{int(b)}" for a, b in zip(group["n_before"],
                                                              group["n_after"], strict=True)})
        rows.append({"metric": metric, "detectable": worst, "cells": len(group),
                     "repeats": ", ".join(counts),
                     "underpowered": bool(math.isnan(worst) or worst > threshold)})
    return pd.DataFrame(rows, columns=["metric", "detectable", "cells", "repeats",
                                       "underpowered"])


def power_sentence(summary: pd.DataFrame, threshold: float, power: float = POWER) -> str:
    """One line: the smallest regression the comparison could have detected, per metric."""
    if summary.empty:
        return ""
    parts = []
    for row in summary.to_dict(orient="records"):
        detectable = float(row["detectable"])
        size = "unknown (noise never measured)" if math.isnan(detectable) else (
            relative_size(detectable))
        parts.append(f"{row['metric']} {size} (n = {row['repeats']})")
    verdict = ("UNDERPOWERED: a regression of the threshold's size could have gone unseen"
               if summary["underpowered"].any() else "every metric at or below the threshold")
    return (f"smallest regression detectable at {power:.0%} power (measured noise, Holm over "
            f"the table): {'; '.join(parts)}; threshold {threshold:.0%}: {verdict}")


def relative_size(change: float) -> str:
    """A relative change for reading: "12%", or "×21" from +100% up."""
    if math.isnan(change):
        return "-"
    return f"{change:.0%}" if abs(change) < 1 else f"×{1 + change:,.3g}"
