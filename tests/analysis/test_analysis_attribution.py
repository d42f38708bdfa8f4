"""The report's end-to-end latency split (analysis.attribution), on the small real sweep."""

from __future__ import annotations

from pathlib import Path

import pytest
from _analysis_helpers import edit_json

from analysis import load
from analysis.attribution import note, split_frame
from analysis.tables import latency_split_table
from runmodel.latency_split import split


def test_older_runs_are_split_from_their_own_figures(sweep_dir: Path) -> None:
    frame = split_frame(load(sweep_dir))
    assert len(frame) == 8  # one row per final point
    assert not frame["recorded"].any()
    parts = frame[["client_ms", "network_delay_ms", "accept_queue_ms", "app_queue_ms",
                   "service_ms"]].fillna(0).sum(axis=1)
    assert ((parts + frame["unexplained_ms"] - frame["client_mean_ms"]).abs() < 1e-3).all()
    assert frame["accept_queue_ms"].isna().all() and frame["app_queue_ms"].isna().all()
    assert set(frame["missing"]) == {"accept queue, app queue"}
    table = latency_split_table(frame)
    assert list(table["app queue"]) == ["-"] * 8
    assert "their queue times were not recorded" in note(frame)


def test_a_recorded_split_is_shown_as_recorded(sweep_copy: Path) -> None:
    recorded = split(4.0, {"client": 0.5, "network_delay": 2.0, "accept_queue": 0.01,
                           "app_queue": 0.25, "service": 0.75},
                     {"network_delay": "configured 2 ms (the proxy recorded no delay of its own)"})
    for run_json in sweep_copy.glob("runs/*/run.json"):
        edit_json(run_json, lambda run: run.update(latency_split=recorded))
    sweep = load(sweep_copy)
    frame = split_frame(sweep)
    assert frame["recorded"].all()
    assert frame["unexplained_ms"].tolist() == pytest.approx([0.49] * 8)
    row = latency_split_table(frame).iloc[0]
    assert row["added delay"] == "2.00" and row["unexplained ms (share)"] == "0.490 (12%)"
    assert "Added delay: configured 2 ms" in note(frame)
    assert "not recorded" not in note(frame)
