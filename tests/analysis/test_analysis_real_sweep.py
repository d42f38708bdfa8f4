"""The analysis of the small real sweep under tests/data/ (written by the real runner)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from _analysis_helpers import SWEEP, edit_json, final_run_dirs

from analysis import littles_law, load, summarise
from analysis.histograms import hdr_percentile, merge, merge_hdr, percentile

SCHEMA1 = SWEEP.parent / "sweep-schema1"


def test_one_row_per_final_point_and_endpoint_with_parameters_and_verdicts(
        sweep_dir: Path) -> None:
    sweep = load(sweep_dir)
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert sorted(sweep.aggregated["point_id"]) == sorted(manifest["points"])
    assert set(sweep.points["user_class"]) == {"http", "fast"}
    for column in ("users", "mix", "status", "reasons", "gen_cpu_mean", "service_cpu_mean",
                   "rps", "p95_ms", "histogram"):
        assert column in sweep.points.columns
    assert not sweep.points.duplicated(["point_id", "endpoint"]).any()


def test_counts_agree_with_the_runners_record_of_locusts_aggregated_row(sweep_dir: Path) -> None:
    sweep = load(sweep_dir)
    for run_dir in final_run_dirs(sweep_dir):
        run = json.loads((run_dir / "run.json").read_text())
        stats = pd.read_csv(run_dir / "locust_stats.csv")
        csv_total = stats[stats["Name"] == "Aggregated"].iloc[0]
        row = sweep.aggregated[sweep.aggregated["run_id"] == run["run_id"]].iloc[0]
        # the final CSV is Locust's last 1 s snapshot: it lags the final JSON by up to ~1 s
        lag = row["requests"] - csv_total["Request Count"]
        assert 0 <= lag <= 1.5 * row["rps"], (run["run_id"], lag)
        assert math.isclose(row["rps"], csv_total["Requests/s"], rel_tol=0.25)
        # the runner records the complete figures of locust.json, as the analysis does
        assert run["requests"]["total"] == row["requests"]
        assert row["status"] == run["verdict"]["status"]


def test_pooled_percentiles_are_read_off_the_merged_hdr_histograms(sweep_dir: Path) -> None:
    sweep = load(sweep_dir)
    summary = summarise(sweep.points)
    row = summary[(summary["endpoint"] == "Aggregated")].iloc[0]
    repeats = sweep.aggregated[(sweep.aggregated["user_class"] == row["user_class"])
                               & (sweep.aggregated["users"] == row["users"])]
    merged = merge_hdr(repeats["hdr"])
    assert row["pooled_p95_ms"] == hdr_percentile(merged, 0.95)
    assert row["pooled_p95_ms_lo"] <= row["pooled_p95_ms"] <= row["pooled_p95_ms_hi"]
    assert row["requests"] == merged.get_total_count() == repeats["requests"].sum()


def test_schema1_pooled_percentiles_are_read_off_merged_locust_histograms() -> None:
    sweep = load(SCHEMA1)
    summary = summarise(sweep.points)
    row = summary[(summary["endpoint"] == "Aggregated")].iloc[0]
    repeats = sweep.aggregated[(sweep.aggregated["user_class"] == row["user_class"])
                               & (sweep.aggregated["users"] == row["users"])]
    merged = merge(repeats["histogram"])
    assert row["pooled_p95_ms"] == percentile(merged, 0.95)
    assert row["pooled_p95_ms_lo"] <= row["pooled_p95_ms"] <= row["pooled_p95_ms_hi"]
    assert row["requests"] == sum(merged.values()) == repeats["requests"].sum()


def test_a_configuration_is_trusted_only_when_every_repeat_is(sweep_copy: Path) -> None:
    # one valid repeat of two used to be published as a valid point with n=1
    for run_json in sweep_copy.glob("runs/*/run.json"):
        status = ("generator-bound" if run_json.parent.name.startswith("http-read-heavy-u0010-r2")
                  else "valid")
        edit_json(run_json, lambda run, s=status: run["verdict"].update(status=s))
    sweep = load(sweep_copy)
    summary = summarise(sweep.points)
    for row in summary.itertuples():
        statuses = {part.rsplit(" ", 1)[0] for part in str(row.statuses).split(", ")}
        assert (statuses == {"valid"}) == row.trusted
        assert row.valid_repeats <= row.n
    half = summary[(summary["user_class"] == "http") & (summary["users"] == 10)
                   & (summary["endpoint"] == "Aggregated")].iloc[0]
    assert half["statuses"] == "valid 1/2, generator-bound 1/2" and not half["trusted"]
    assert half["n"] == 2 and half["valid_repeats"] == 1
    whole = summary[(summary["user_class"] == "http") & (summary["users"] == 1)
                    & (summary["endpoint"] == "Aggregated")].iloc[0]
    assert whole["trusted"] and whole["valid_repeats"] == whole["n"] == 2


def test_littles_law_is_computed_for_every_point(sweep_dir: Path) -> None:
    sweep = load(sweep_dir)
    table = littles_law(sweep.points)
    assert len(table) == len(sweep.aggregated)
    # closed loop without think time: users >= throughput x response time
    assert (table["residual"] > -0.1).all(), table


def test_one_throughput_definition_in_run_json_and_the_analysis(sweep_dir: Path) -> None:
    # the report used requests / (last request - stats start), run.json requests / window
    sweep = load(sweep_dir)
    for row in sweep.aggregated.itertuples():
        run = json.loads((sweep.run_dir(row.run_id) / "run.json").read_text())
        assert math.isclose(row.rps, row.requests / run["window"]["seconds"])
        assert math.isclose(row.rps, run["requests"]["rps"], rel_tol=1e-3), row.run_id


def test_a_remote_run_without_locust_json_is_read_from_its_stats_csv(sweep_copy: Path) -> None:
    """A remote master that serves no --json-file stats: the run loads from locust_stats.csv."""
    run_dir = final_run_dirs(sweep_copy)[0]
    run = json.loads((run_dir / "run.json").read_text())
    run["remote"] = {"master_host": "http://127.0.0.1:8089", "expect_workers": 1,
                     "missing_files": {"locust.json": "not served"}}
    (run_dir / "run.json").write_text(json.dumps(run))
    (run_dir / "locust.json").unlink()
    frame = pd.read_csv(run_dir / "locust_stats.csv")
    csv_total = frame[frame["Name"] == "Aggregated"].iloc[0]
    points = load(sweep_copy).points
    row = points[(points["run_id"] == run_dir.name) & (points["endpoint"] == "Aggregated")].iloc[0]
    assert row["requests"] == csv_total["Request Count"]
    assert row["p95_ms"] == csv_total["95%"]
    assert math.isclose(row["rps"], row["requests"] / run["window"]["seconds"])
    endpoints = set(points[points["run_id"] == run_dir.name]["endpoint"])
    assert "GET /products/{id}" in endpoints
