"""A loaded sweep (``analysis.loading.Sweep``): its manifest, one tidy row per run and endpoint,
and the views the analysis takes of them (final points, Aggregated rows, one run's history)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis._locust import AGGREGATED, read_history_csv

DEFAULT_GENERATOR_THRESHOLD = 90.0


@dataclass
class Sweep:
    """A loaded sweep: its manifest and one tidy row per run and endpoint.

    ``runs`` has one row per run directory with ``run.json`` and endpoint (``Aggregated`` is
    one of them), with the point's parameters, verdict, CPU evidence and the figures; the
    ``histogram`` column holds each row's Locust response-time histogram. ``final`` marks the
    run the analysis uses for its point.
    """

    path: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    unfinished: list[str] = field(default_factory=list)

    @property
    def sweep_id(self) -> str:
        return str(self.manifest.get("sweep_id") or self.path.name)

    @property
    def points(self) -> pd.DataFrame:
        """The final run of every finished point, all endpoints."""
        return self.runs[self.runs["final"]].reset_index(drop=True)

    @property
    def aggregated(self) -> pd.DataFrame:
        """The final runs' Aggregated rows: one row per point."""
        points = self.points
        return points[points["endpoint"] == AGGREGATED].reset_index(drop=True)

    @property
    def missing_points(self) -> list[str]:
        """Points of the matrix that have no finished final run (a partial sweep)."""
        done = set(self.points["point_id"])
        return [point for point in self.manifest.get("points", []) if point not in done]

    def run_dir(self, run_id: str) -> Path:
        return self.path / "runs" / run_id

    @property
    def generator_cpu_threshold(self) -> float:
        """The sweep's generator-bound threshold (% of one core): manifest config, else 90."""
        config = self.manifest.get("config") or {}
        value = config.get("generator_cpu_threshold") if isinstance(config, dict) else None
        try:
            threshold = float(value) if value is not None else DEFAULT_GENERATOR_THRESHOLD
        except (TypeError, ValueError):
            return DEFAULT_GENERATOR_THRESHOLD
        return threshold if math.isfinite(threshold) and threshold > 0 else (
            DEFAULT_GENERATOR_THRESHOLD)

    def history(self, run_id: str) -> pd.DataFrame:
        """The per-second Aggregated history of one run.

        Adds ``elapsed_s``, ``in_window``, ``phase`` and ``rps``: requests completed in each
        interval, from the change of Locust's running total, where Locust's own ``Requests/s``
        column is a trailing average that lags by seconds. The running total restarts at the
        stats reset (the window start), so no rate is derived across it: the first row after
        the reset has ``phase`` "reset" and ``rps`` NaN; earlier rows are "ramp", later
        "window" (rows after the window end stay "window": Locust was stopping).
        """
        frame = read_history_csv(self.run_dir(run_id) / "locust_stats_history.csv")
        frame = frame[frame["Name"] == AGGREGATED].reset_index(drop=True)
        total = frame["Total Request Count"]
        completed = total.diff().fillna(total)
        seconds = frame["Timestamp"].diff().fillna(1).clip(lower=1)
        row = self.runs[self.runs["run_id"] == run_id].iloc[0]
        start = frame["Timestamp"].min() if len(frame) else 0
        frame["elapsed_s"] = frame["Timestamp"] - start
        window_start, window_end = row["window_start"], row["window_end"]
        if math.isnan(window_start):
            frame["in_window"] = True
            after = pd.Series(True, index=frame.index)
            reset = completed < 0  # no recorded reset time: a drop of the total shows it
        else:
            # a row at second T covers (T - 1, T]: in the window when it ends after the start
            after = frame["Timestamp"] > window_start
            frame["in_window"] = after & (frame["Timestamp"] <= math.ceil(window_end))
            reset = after & ~after.shift(1, fill_value=False)
            if reset.any() and int(reset.idxmax()) == 0:
                reset[:] = False  # the history starts after the reset: nothing to cross
        frame["phase"] = "window"
        frame.loc[~after, "phase"] = "ramp"
        frame.loc[reset, "phase"] = "reset"
        frame["rps"] = (completed / seconds).where(~reset)
        return frame
