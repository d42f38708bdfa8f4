"""Which configurations changed verdict between two sweeps, and how many both sweeps have.

``analysis compare`` lists the changes beside the regression table and exits 1 when a verdict
got worse (a configuration that was valid and no longer is, or one whose service now errs).
"""

from __future__ import annotations

import pandas as pd

from analysis._locust import AGGREGATED
from analysis.compare import CELL_KEYS
from analysis.stats import with_backend
from runmodel import verdicts

# How bad a configuration's verdict is for a comparison: a measurement that cannot be trusted
# (1) is worse than a valid one (0); a service that errs or a run that broke (2) is worse still.
# The grades are the shared vocabulary's (runmodel.verdicts.grade), so a new status needs no edit.
VERDICT_RANK = {status: verdicts.grade(status) for status in verdicts.ORDER}


def verdict_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Every (user_class, mix, users) cell in both sweeps whose verdict changed.

    A cell's verdict is ``stats.config_status`` of its repeats (``valid`` only when every
    repeat is); ``change`` is "worse" or "better" by ``VERDICT_RANK``, or "different" for
    another verdict of the same rank.
    """
    from analysis.stats import config_status, status_counts

    def cells(points: pd.DataFrame) -> dict[tuple[object, ...], list[str]]:
        rows = with_backend(points[points["endpoint"] == AGGREGATED])
        return {tuple(keys): [str(s) for s in group["status"]]
                for keys, group in rows.groupby(CELL_KEYS, sort=True)}

    a, b = cells(before), cells(after)
    out = []
    for cell in sorted(set(a) & set(b), key=str):
        was, now = config_status(a[cell]), config_status(b[cell])
        if was == now:
            continue
        rank_was, rank_now = verdicts.grade(was), verdicts.grade(now)
        change = "worse" if rank_now > rank_was else "better" if rank_now < rank_was else (
            "different")
        out.append({**dict(zip(CELL_KEYS, cell, strict=True)), "before": status_counts(a[cell]),
                    "after": status_counts(b[cell]), "change": change})
    return pd.DataFrame(out, columns=[*CELL_KEYS, "before", "after", "change"])


def comparable_cells(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """How many (user_class, mix, users) cells both sweeps have (any verdict)."""
    def keys(points: pd.DataFrame) -> set[tuple[object, ...]]:
        rows = with_backend(points[points["endpoint"] == AGGREGATED])
        return set(map(tuple, rows[CELL_KEYS].values))

    return len(keys(before) & keys(after))
