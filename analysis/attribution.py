"""The client-seen mean response time attributed end to end, per point (the report's table).

Each final point's ``latency_split`` (run.json, ``runmodel.latency_split``): the client's
calibrated floor, the added network delay, the accept queue, the app queue and the service's
own time, and the remainder of the client-seen mean that none of them explains. A run.json
written before the block existed gets the same split derived from its own blocks (``server``,
``rtt_delay``) and the manifest's calibration: its queue parts are missing (``server_queues``
was not recorded), so they stay in the remainder, and the table says so.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis._locust import AGGREGATED
from analysis.loading import Sweep
from runmodel.latency_split import PARTS, TITLES, from_record
from runmodel.records import RecordError, load_run

__all__ = ["COLUMNS", "note", "split_frame"]

COLUMNS = ["point_id", "status", "user_class", "users", "client_mean_ms",
           *(f"{part}_ms" for part in PARTS), "explained_ms", "unexplained_ms",
           "unexplained_share", "missing", "recorded", "network_source"]


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def split_frame(sweep: Sweep) -> pd.DataFrame:
    """One row per final point with a client-seen mean: the parts in ms (NaN: not measured),
    the unexplained remainder and its share, the parts missing, and whether run.json recorded
    the split (False: derived here from an older run.json)."""
    rows: list[dict[str, Any]] = []
    calibration = sweep.manifest.get("calibration") or {}
    points = sweep.points
    for _, point in points[points["endpoint"] == AGGREGATED].iterrows():
        try:
            run = load_run(sweep.run_dir(str(point["run_id"])) / "run.json").to_dict()
        except RecordError:
            continue
        figures = calibration.get(str(point["user_class"]))
        block = from_record(run, figures if isinstance(figures, dict)
                            and "error" not in figures else None)
        if block is None:
            continue
        parts = block.get("parts_ms") or {}
        rows.append({
            "point_id": point["point_id"], "status": point["status"],
            "user_class": point["user_class"], "users": int(point["users"]),
            "client_mean_ms": _number(block.get("client_mean_ms")),
            **{f"{part}_ms": _number(parts.get(part)) for part in PARTS},
            "explained_ms": _number(block.get("explained_ms")),
            "unexplained_ms": _number(block.get("unexplained_ms")),
            "unexplained_share": _number(block.get("unexplained_share")),
            "missing": ", ".join(TITLES.get(str(part), str(part))
                                 for part in block.get("missing") or []),
            "recorded": "latency_split" in run,
            "network_source": (block.get("sources") or {}).get("network_delay", ""),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def note(split: pd.DataFrame) -> str:
    """The table's note: where the parts come from, a delay that was configured rather than
    measured, and the runs recorded before the split (their queue times stay unexplained)."""
    if split.empty:
        return ""
    notes = ["The client floor is the class's one-user calibration (it holds the loopback round "
             "trip and the service's parsing at one user); the remainder holds what nothing "
             "timed: the kernel's receive buffer while the envelope's quota is spent, the "
             "client's queueing beyond its floor, the proxy's own hop."]
    configured = sorted({str(s) for s in split["network_source"] if str(s).startswith(
        "configured")})
    if configured:
        notes.append("Added delay: " + "; ".join(configured) + ".")
    if not split["recorded"].all():
        notes.append("Runs recorded before the split derive it from their own figures: their "
                     "queue times were not recorded and stay in the remainder.")
    return " ".join(notes)
