"""What the report says and draws, on (edited copies of) the small real sweep."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _analysis_helpers import SWEEP, edit_json, final_run_dirs

from analysis import class_ratio, load, summarise
from analysis.capacity import capacity_table, usl
from analysis.checks import CONTENTION, OWN_CPU, causes, untrusted
from analysis.compare import HIGHER, INCONCLUSIVE, LOWER, SAME, UNKNOWN, difference
from analysis.plots import (
    UNTRUSTED_LABEL,
    latency_vs_users,
    ratio_vs_users,
    throughput_vs_users,
)
from analysis.report import build, comparison, headline, untrusted_groups, write
from analysis.tables import BUCKET_NOTE, HDR_NOTE, summary_table

OWN = ("generator process locust at 97% of a core on average (threshold 90%), at or above it "
       "for 9 of 9 samples")
BUSY = ("the generator's CPUs were 100% busy on average (threshold 90%), Locust itself 4% of a "
        "core: other processes compete for the generator's CPUs")


def _set_verdicts(sweep: Path, verdict_of: dict[str, tuple[str, list[str]]]) -> None:
    """Give every run the verdict of the first key its run id starts with (else valid)."""
    for run_json in sweep.glob("runs/*/run.json"):
        name = run_json.parent.name
        status, reasons = next((v for k, v in verdict_of.items() if name.startswith(k)),
                               ("valid", []))
        edit_json(run_json, lambda run, s=status, r=reasons: run["verdict"].update(  # type: ignore[misc]
            status=s, reasons=r))


def _fast_copies_http(sweep: Path) -> None:
    """FastHttpUser's runs get HttpUser's Locust figures: the classes then cannot differ."""
    for run_dir in sweep.glob("runs/fast-*"):
        twin = sweep / "runs" / run_dir.name.replace("fast-", "http-", 1)
        shutil.copy(twin / "locust.json", run_dir / "locust.json")


def test_each_untrusted_point_is_explained_by_its_own_reasons(sweep_copy: Path) -> None:
    assert causes("generator-bound", OWN) == [OWN_CPU]
    assert causes("generator-bound", BUSY) == [CONTENTION]
    assert causes("sut-errors", f"5 unexpected failures; {BUSY}") == ["sut-errors", CONTENTION]
    _set_verdicts(sweep_copy, {"fast-read-heavy-u0010": ("generator-bound", [OWN]),
                               "http-read-heavy-u0010": ("generator-bound", [BUSY])})
    report = build(load(sweep_copy))
    table = untrusted(report.sweep.points).set_index("point_id")
    assert table.loc["fast-read-heavy-u0010-r1", "cause"] == OWN_CPU
    assert table.loc["http-read-heavy-u0010-r2", "cause"] == CONTENTION
    line = next(text for text in report.headline if "not trustworthy" in text)
    own, busy = line.split("; ")
    assert own.endswith("2 generator-bound, because Locust's own process was near a full core, "
                        "so the figures describe Locust, not the service")
    assert busy.startswith("2 generator-bound, because the generator's CPUs were busy with "
                           "other processes (contention)")
    assert "ran out of CPU" not in line and "fast-read-heavy" not in line  # ids: in the tables
    groups = {group["why"].split(",")[0]: group["points"]
              for group in untrusted_groups(report.untrusted)}
    assert groups == {"Locust's own process was near a full core":
                      ["fast-read-heavy-u0010-r1", "fast-read-heavy-u0010-r2"],
                      "the generator's CPUs were busy with other processes (contention)":
                      ["http-read-heavy-u0010-r1", "http-read-heavy-u0010-r2"]}


@pytest.mark.parametrize(("ratio", "low", "high", "expected"), [
    # an interval that includes 1 is no evidence of "no difference" (TOST is: compare.judge)
    (1.3, 0.9, 1.8, INCONCLUSIVE), (1.3, 1.1, 1.5, HIGHER), (0.7, 0.6, 0.8, LOWER),
    # without an interval no difference is claimed
    (1.08, math.nan, math.nan, UNKNOWN), (math.nan, math.nan, math.nan, ""),
])
def test_a_ratio_is_a_difference_only_beyond_its_interval(
        ratio: float, low: float, high: float, expected: str) -> None:
    assert difference(ratio, low, high) == expected


def test_headline_says_no_measurable_difference_and_summarises_every_cell(
        sweep_copy: Path) -> None:
    _set_verdicts(sweep_copy, {})
    _fast_copies_http(sweep_copy)
    report = build(load(sweep_copy))
    # equal figures at 2 repeats: never "different"; "no difference" only where TOST says so
    assert set(report.ratios["rps_difference"]) <= {SAME, INCONCLUSIVE}
    assert not any("gave" in line for line in report.headline), report.headline
    assert any(line.startswith("FastHttpUser vs HttpUser: no measurable throughput difference "
                               "after Holm's correction") for line in report.headline)
    mix_line = next(line for line in report.headline if line.startswith("Mix read-heavy"))
    assert "2 comparable cell(s) (1, 10 users; n=2 FastHttpUser and n=2 HttpUser" in mix_line
    same = int((report.ratios["rps_difference"] == SAME).sum())
    assert (f"no difference within ±10% (TOST) in {same}, inconclusive in {2 - same}."
            in mix_line)


def test_headline_names_n_and_the_range_of_the_class_ratio(sweep_copy: Path) -> None:
    _set_verdicts(sweep_copy, {})
    report = build(load(sweep_copy))
    ratios = class_ratio(report.sweep.points)
    mix_line = next(line for line in report.headline if line.startswith("Mix read-heavy"))
    assert f"ratio {ratios['rps'].min():.2f} to {ratios['rps'].max():.2f}" in mix_line
    counts = {key: int((ratios["rps_difference"] == key).sum())
              for key in (HIGHER, LOWER, SAME, INCONCLUSIVE)}
    assert (f"FastHttpUser measurably higher in {counts[HIGHER]}, HttpUser measurably higher "
            f"in {counts[LOWER]} (Holm-corrected), no difference within ±10% (TOST) in "
            f"{counts[SAME]}, inconclusive in {counts[INCONCLUSIVE]}") in mix_line
    if counts[HIGHER] or counts[LOWER]:
        best = next(line for line in report.headline if line.startswith("Largest measurable"))
        assert "n=2 FastHttpUser, n=2 HttpUser repeats" in best
        assert "range of repeat ratios (n=2/2)" in best and "95% CI" not in best


def test_slo_line_is_the_highest_valid_measured_point_and_the_usl_estimate_apart(
        sweep_copy: Path) -> None:
    _set_verdicts(sweep_copy, {})
    report = build(load(sweep_copy))
    for row in report.capacity.itertuples():
        assert (f"Highest measured throughput among valid points with p95 < 100 ms"
                f" ({'FastHttpUser' if row.user_class == 'fast' else 'HttpUser'} / {row.mix}): "
                f"{row.slo_rps:,.1f} requests/s at {row.slo_users} users") in "\n".join(
                    report.headline)
    assert not any("up to" in line for line in report.headline)
    assert not any("USL-based estimate" in line for line in report.headline)  # 2 user levels
    users = [1, 5, 10, 20, 40]
    rps = usl(np.array(users), 100.0, 0.05, 0.001)
    report.capacity = capacity_table(pd.DataFrame([
        {"endpoint": "Aggregated", "status": "valid", "user_class": "fast", "mix": "m",
         "users": u, "rps": r, "p95_ms": 4.0 * u} for u, r in zip(users, rps, strict=True)]))
    line = next(text for text in headline(report) if text.startswith("Highest measured"))
    assert f"{rps[3]:,.1f} requests/s at 20 users" in line
    fit = report.capacity.iloc[0]
    assert f"USL-based estimate (throughput only, not the SLO): at most about " \
           f"{fit['max_rps']:,.1f} requests/s, near {fit['peak_users']:,.0f} users" in line


def _ratios(p50: float) -> pd.DataFrame:
    row = {"mix": "read-heavy", "users": 50, "n_fast": 3, "n_http": 1,
           "rps": 1.01, "rps_lo": math.nan, "rps_hi": math.nan,
           "mean_ms": 0.8, "mean_ms_lo": 0.7, "mean_ms_hi": 0.9,
           "p50_ms": p50, "p50_ms_lo": math.nan, "p50_ms_hi": math.nan,
           "p95_ms": 0.5, "p95_ms_lo": math.nan, "p95_ms_hi": math.nan,
           "p99_ms": math.nan, "p99_ms_lo": math.nan, "p99_ms_hi": math.nan,
           "rps_difference": SAME, "note": ""}
    return pd.DataFrame([row])


def test_ratio_figure_draws_only_defined_ratios_with_plain_axes() -> None:
    figure = ratio_vs_users(_ratios(math.nan))
    axes = figure.axes[0]
    assert axes.get_title(loc="left") == "mix read-heavy"
    labels = axes.get_legend_handles_labels()[1]
    assert labels == ["throughput", "mean", "p95"]
    legend = figure.legends[0]  # one legend for the figure, outside the panels
    assert [text.get_text() for text in legend.get_texts()] == labels
    drawn = [series.get_label() for series in axes.containers  # errorbar series
             if len(series.lines[0].get_xdata())]  # type: ignore[attr-defined]
    assert drawn == labels
    assert list(axes.get_xticks()) == [50]
    low, high = axes.get_xlim()
    assert low < 40 and high > 60
    tick_labels = [text.get_text() for text in axes.get_yticklabels()]
    assert "1" in tick_labels and all(re.fullmatch(r"[0-9.]+", t) for t in tick_labels)
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in axes.get_lines())
    with_p50 = ratio_vs_users(_ratios(0.9)).axes[0]
    assert "p50" in with_p50.get_legend_handles_labels()[1]


def test_tables_show_the_exact_mean_and_explain_the_bucketing(sweep_copy: Path,
                                                              tmp_path: Path) -> None:
    _set_verdicts(sweep_copy, {})
    sweep = load(sweep_copy)
    summary = summarise(sweep.points)
    table = summary_table(summary)
    for row in table.itertuples():
        entries = [json.loads((d / "locust.json").read_text())
                   for d in final_run_dirs(sweep_copy)
                   if d.name.startswith(f"{row[1]}-{row[2]}-u{row[3]:04d}-")]
        total = sum(e["total_response_time"] for entry in entries for e in entry)
        count = sum(e["num_requests"] for entry in entries for e in entry)
        assert row[8] == f"{total / count:,.2f}"
    assert table.columns[7] == "mean ms (exact)"
    page = write(build(sweep), tmp_path / "report").with_name("report.md").read_text()
    # schema 2: every percentile is read off HDR histograms, and the page says so
    assert HDR_NOTE in page and BUCKET_NOTE not in page


def test_schema1_tables_explain_the_bucketing(tmp_path: Path) -> None:
    sweep = load(SWEEP.parent / "sweep-schema1")
    summary = summarise(sweep.points)
    small = (summary[summary["endpoint"] == "Aggregated"]["pooled_p50_ms"] < 2).any()
    assert small  # loopback: Locust's whole-millisecond p50s
    page = write(build(sweep), tmp_path / "report").with_name("report.md").read_text()
    assert BUCKET_NOTE in page and HDR_NOTE not in page


def test_no_bucketing_note_when_every_percentile_is_2_ms_or_more(sweep_copy: Path,
                                                                 tmp_path: Path) -> None:
    def slower(entries: list[dict[str, dict[str, int]]]) -> None:
        for entry in entries:
            entry["response_times"] = {str(int(k) + 5): v
                                       for k, v in entry["response_times"].items()}

    for locust_json in sweep_copy.glob("runs/*/locust.json"):
        edit_json(locust_json, slower)
    page = write(build(load(sweep_copy)), tmp_path / "report").with_name("report.md").read_text()
    assert BUCKET_NOTE not in page


@pytest.mark.parametrize(("config", "expected"), [
    ({"generator_cpu_threshold": 75.0}, 75.0), ({}, 90.0), (None, 90.0)])
def test_cpu_plot_draws_the_sweeps_own_threshold(sweep_copy: Path, config: object,
                                                 expected: float) -> None:
    edit_json(sweep_copy / "manifest.json", lambda m: m.update(config=config))
    sweep = load(sweep_copy)
    assert sweep.generator_cpu_threshold == expected
    axes = build(sweep).figures["cpu"].axes[0]
    line = next(line for line in axes.get_lines() if "threshold" in str(line.get_label()))
    assert list(line.get_ydata()) == [expected, expected]
    assert f"({expected:g}%)" in str(line.get_label())


def test_history_derives_no_rate_across_the_stats_reset(sweep_dir: Path) -> None:
    sweep = load(sweep_dir)
    for run_id in sweep.aggregated["run_id"]:
        history = sweep.history(run_id)
        assert set(history["phase"]) <= {"ramp", "reset", "window"}
        reset = history[history["phase"] == "reset"]
        assert len(reset) <= 1 and reset["rps"].isna().all()
        assert (history["rps"].dropna() >= 0).all()
        ramp = history[history["phase"] == "ramp"]
        assert not ramp["in_window"].any()
        if len(reset):
            later = history.loc[reset.index[0] + 1:]
            assert (later["phase"] == "window").all()


def test_untrusted_points_keep_their_series_colour(sweep_copy: Path) -> None:
    _set_verdicts(sweep_copy, {"fast-read-heavy-u0010": ("generator-bound", [OWN]),
                               "http-read-heavy-u0010": ("generator-bound", [BUSY])})
    figure = build(load(sweep_copy)).figures["throughput"]
    axes = figure.axes[0]
    series = [c.lines[0].get_color() for c in axes.containers]  # trusted: 1 user, both classes
    crosses = [line for line in axes.get_lines()
               if line.get_marker() == "X" and len(line.get_xdata())]
    assert len(set(series)) == 2
    assert sorted(line.get_markeredgecolor() for line in crosses) == sorted(series)
    assert all(list(line.get_xdata()) == [10] for line in crosses)
    assert all(line.get_markerfacecolor() == "none" for line in crosses)  # hollow
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert labels[:2] == ["HttpUser", "FastHttpUser"]
    assert sum(label == UNTRUSTED_LABEL for label in labels) == 1


def test_a_storage_backend_dimension_gets_its_own_series(sweep_dir: Path) -> None:
    summary = summarise(load(sweep_dir).points)
    memory_only = throughput_vs_users(summary.assign(backend="memory"))
    labels = [text.get_text() for text in memory_only.legends[0].get_texts()]
    assert labels[:2] == ["HttpUser", "FastHttpUser"]  # the default backend is not named
    both = pd.concat([summary.assign(backend="memory"),
                      summary.assign(backend="postgres+cache")])
    figure = throughput_vs_users(both)
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    series = ["HttpUser, memory", "HttpUser, postgres+cache", "FastHttpUser, memory",
              "FastHttpUser, postgres+cache"]
    assert labels[:4] == series
    colours = [handle.get_color() for handle in figure.legends[0].legend_handles[:4]]
    assert len(set(colours)) == 4


def test_no_latency_panel_draws_more_than_six_series(sweep_dir: Path) -> None:
    summary = summarise(load(sweep_dir).points)
    two = latency_vs_users(summary)
    assert len([line for line in two.axes[0].get_lines() if line.get_linestyle() != "None"]) == 6
    three_backends = pd.concat([summary.assign(backend=name)
                                for name in ("memory", "postgres", "postgres+cache")])
    six = latency_vs_users(three_backends)
    drawn = [line for line in six.axes[0].get_lines() if line.get_linestyle() != "None"]
    assert len(drawn) == 6 and "(p95)" in six.get_suptitle()


def test_server_side_latency_is_drawn_beside_the_clients_when_recorded(sweep_dir: Path) -> None:
    summary = summarise(load(sweep_dir).points)
    summary["trusted"] = True  # drawing only: every series gets its line
    summary = summary.assign(server_p50_ms=0.1, server_p95_ms=0.2, server_p99_ms=0.3)
    figure = latency_vs_users(summary)
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "server-side" in labels and "(p95)" in figure.get_suptitle()
    drawn = [line for line in figure.axes[0].get_lines() if len(line.get_xdata())]
    assert len(drawn) == 4  # 2 classes x (client p95, server p95)
    assert sorted({float(y) for line in drawn for y in line.get_ydata()} & {0.2}) == [0.2]


def test_the_class_comparison_is_per_mix_and_backend(sweep_copy: Path) -> None:
    _set_verdicts(sweep_copy, {})
    ratios = class_ratio(load(sweep_copy).points)
    both = pd.concat([ratios.assign(backend="memory"), ratios.assign(backend="postgres")])
    lines = comparison(both, ["read-heavy"])
    assert [line["mix"] for line in lines] == ["read-heavy, memory", "read-heavy, postgres"]
    assert [line["mix"] for line in comparison(ratios, ["read-heavy"])] == ["read-heavy"]
