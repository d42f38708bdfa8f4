"""A schema-1 sweep (written by the runner before results schema 2) still loads and renders.

tests/data/sweep-schema1 is the real sweep the fixture held before schema 2: no HDR evidence,
no verdict causes. Its percentiles come from Locust's own histograms, and say so.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

from _analysis_helpers import SWEEP

from analysis import load, summarise
from analysis.histograms import SOURCE_HDR, SOURCE_LOCUST
from analysis.tables import BUCKET_NOTE

SCHEMA1 = SWEEP.parent / "sweep-schema1"


def test_the_schema1_fixture_is_what_it_says() -> None:
    assert json.loads((SCHEMA1 / "manifest.json").read_text())["schema_version"] == 1
    assert not list(SCHEMA1.glob("runs/*/evidence"))
    assert json.loads((SWEEP / "manifest.json").read_text())["schema_version"] == 2


def test_schema1_percentiles_come_from_locusts_histograms_and_are_labelled() -> None:
    sweep = load(SCHEMA1)
    assert len(sweep.aggregated) == len(json.loads((SCHEMA1 / "manifest.json").read_text())
                                        ["points"])
    summary = summarise(sweep.points)
    assert set(summary["latency_source"]) == {SOURCE_LOCUST}
    current = summarise(load(SWEEP).points)
    assert set(current["latency_source"]) == {SOURCE_HDR}


def test_schema1_report_renders_and_names_the_coarse_buckets(tmp_path: Path) -> None:
    copy = tmp_path / SCHEMA1.name
    shutil.copytree(SCHEMA1, copy)
    done = subprocess.run([sys.executable, "-m", "analysis", "report", str(copy)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = (copy / "report" / "index.html").read_text()
    assert html.escape(BUCKET_NOTE[:60]) in page
