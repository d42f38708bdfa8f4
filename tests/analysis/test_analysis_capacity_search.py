"""The analysis of an open-model sweep: capacity.json read and said with its bracket, the
hockey-stick figure's rows and drawing (quick tier: recorded and synthetic data, no load)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from _analysis_helpers import run_cli
from _browser import chromium, open_page

from analysis import plots
from analysis.capacity import capacity_sentence, hockey_stick_table, load_capacity

SEARCH = {
    "configuration": {"user_class": "fast", "mix": "read-heavy", "backend": "memory",
                      "service_cpu": "0.1", "rtt_delay": "none", "payload": "small"},
    "capacity_rps": 575.0,
    "interval": {"kind": "bracket", "low": 575.0, "high": 600.0, "label": "search bracket"},
    "resolution": 0.05, "resolved": True, "stopped": "resolved", "repeats": 2, "runs": 9,
    "disagreeing_rates": [600.0], "trials": [],
}


def test_capacity_json_is_read_and_said_as_a_bracket(tmp_path: Path) -> None:
    assert load_capacity(tmp_path) == []  # no search: no capacity on the report
    (tmp_path / "capacity.json").write_text(json.dumps(
        {"format": "loadbench-capacity", "version": 1, "slo": ["p99<100ms"],
         "searches": [SEARCH]}))
    [search] = load_capacity(tmp_path)
    sentence = capacity_sentence(search)
    assert "Capacity under p99<100ms" in sentence and "575 arrivals/s" in sentence
    assert "search bracket [575/s passed every run, 600/s failed]" in sentence
    assert "not a confidence interval" in sentence and "resolved to 5%" in sentence
    assert "disagreed at 600/s" in sentence
    unresolved = capacity_sentence({**search, "resolved": False, "stopped": "budget"})
    assert "not resolved: budget" in unresolved
    none = capacity_sentence({**search, "interval": {"kind": "bracket", "low": None,
                                                     "high": 50.0}})
    assert "no rate passed" in none
    (tmp_path / "capacity.json").write_text("{truncated")
    assert load_capacity(tmp_path) == []


def open_runs() -> pd.DataFrame:
    rates = [100, 200, 300, 400, 400]
    return pd.DataFrame({
        "endpoint": "Aggregated", "user_class": "fast", "mix": "read-heavy",
        "arrival_rate": [str(r) for r in rates], "status": ["valid"] * 4 + ["generator-bound"],
        "rps": [100.0, 199.0, 290.0, 330.0, 320.0],
        "open_intended_p50_ms": [1.0, 1.2, 3.0, 400.0, 500.0],
        "open_intended_p95_ms": [2.0, 3.0, 20.0, 900.0, 950.0],
        "open_intended_p99_ms": [3.0, 5.0, 60.0, 1200.0, 1300.0],
        "open_service_p99_ms": [2.5, 4.0, 30.0, 150.0, 160.0],
    })


def test_the_hockey_stick_draws_the_open_runs_and_the_bracket() -> None:
    rows = hockey_stick_table(pd.concat([open_runs(), open_runs().assign(
        arrival_rate="-", open_intended_p99_ms=float("nan"))]))  # closed rows are left out
    assert list(rows["offered"]) == [100, 200, 300, 400, 400]
    figure = plots.hockey_stick(rows, [SEARCH])
    latency, throughput = figure.axes[:2]
    assert latency.get_yscale() == "log" and latency.get_ylim()[0] > 0
    assert "capacity search bracket" in [t.get_text() for t in figure.legends[0].get_texts()]
    assert hockey_stick_table(pd.DataFrame({"endpoint": ["Aggregated"]})).empty
    assert throughput.get_xlabel() == "offered arrivals/s"


FIRST_SCREEN = """(() => {
  const card = document.querySelector('#capacity');
  const r = card.getBoundingClientRect();
  return {bottom: r.bottom + window.scrollY, text: card.innerText,
          width: document.documentElement.scrollWidth};
})()"""


@pytest.mark.skipif(chromium() is None and not os.environ.get("CI"),
                    reason="needs Debian's chromium (make system-deps installs it)")
def test_the_capacity_is_on_the_reports_first_screen(sweep_copy: Path) -> None:
    (sweep_copy / "capacity.json").write_text(json.dumps(
        {"format": "loadbench-capacity", "version": 1, "slo": ["p99<100ms"],
         "searches": [SEARCH]}))
    result = run_cli("report", sweep_copy)
    assert result.returncode == 0, result.stderr
    seen = open_page(Path(result.stdout.strip().splitlines()[-1]), FIRST_SCREEN, 1400, 900)
    assert not seen.failed and not seen.errors, (seen.failed, seen.errors)
    measured = dict(seen.measured)
    assert "575 arrivals/s" in measured["text"] and "search bracket" in measured["text"]
    assert measured["bottom"] <= 900 and measured["width"] <= 1400, measured
