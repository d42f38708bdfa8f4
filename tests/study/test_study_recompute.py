"""docs/study/README.md's figures are the committed data's (quick tier: no load, ~10 s).

The README quotes each figure as ``VALUE<!--fig:KEY-->``; docs/study/recompute.py derives every
KEY from docs/study/data/v3/*.tar.gz. Anywhere in the README, a quoted figure must be
reproduced to the precision it is quoted at (its last digit, half a unit either way), a KEY
must exist in the data, and a table cell that holds a number must quote it through a KEY: a
claim without data fails. The README opens with the four explanations' verdicts; the data's
manifests record a clean tree; the v3 presets fit the study's time budget.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from scenarios.runner.config import expand, resolve_config

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "docs" / "study" / "README.md"
DATA = ROOT / "docs" / "study" / "data" / "v3"
SCRIPT = ROOT / "docs" / "study" / "run_study_v3.sh"
MARKED = re.compile(r"(-?[0-9][0-9,]*(?:\.[0-9]+)?)(?:\s*(?:ms|%|requests/s|/s|×))?"
                    r"<!--fig:([\w.-]+)-->")
VERDICTS = ("confirmed", "refuted", "partly")
# a setting, not a measured figure: 200 users, 0.25 vCPU, 16 kB (16k) products, the ±10%
# margin, an explanation's (1), a percentile's name (p95) and an SLO (< 110 ms)
SETTING = re.compile(r"\b\d[\d,.]*\s*(?:users|vCPU|kB)\b|\b\d+k\b|±\d+%|\(\d\)|\bp\d\d\b"
                     r"|<\s*\d+\s*ms")
BETWEEN_RUNS_S = 2.7  # about 1 s of settling after the ramp and 1.7 s between runs (study v2)
STUDY_MINUTES = 50.0  # the study's slot on this machine


def _recompute() -> ModuleType:
    spec = importlib.util.spec_from_file_location("study_recompute",
                                                  ROOT / "docs" / "study" / "recompute.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _figures() -> dict[str, float]:
    assert DATA.is_dir(), "no docs/study/data/v3: the README's figures have no data"
    figures: dict[str, float] = _recompute().recompute(DATA)
    return figures


def _text() -> str:
    return README.read_text(encoding="utf-8")


def _quoted() -> list[tuple[str, str]]:
    return [(value, key) for value, key in MARKED.findall(_text())]


def test_every_table_cell_with_a_number_quotes_it_with_a_key() -> None:
    assert _quoted(), "the README quotes no figure with <!--fig:KEY-->"
    lines = _text().splitlines()
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if (not line.startswith("|") or set(line) <= set("|-: ")
                or (following.startswith("|") and set(following) <= set("|-: "))):  # header
            continue
        for cell in line.strip("|").split("|")[1:]:  # the first cell names the row
            bare = re.sub(r"<!--fig:[\w.-]+-->", "", MARKED.sub("", cell))
            bare = SETTING.sub("", bare)
            assert not re.search(r"\d", bare), f"a table cell quotes a number with no key: {cell}"


def test_every_quoted_figure_is_recomputed_from_the_data() -> None:
    figures = _figures()
    wrong = []
    for text, key in _quoted():
        if key not in figures:
            wrong.append(f"{key}: no such figure in the data ({text} quoted)")
            continue
        quoted = float(text.replace(",", ""))
        decimals = len(text.split(".")[1]) if "." in text else 0
        if not abs(figures[key] - quoted) <= 0.5 * 10 ** -decimals + 1e-9:  # NaN fails too
            wrong.append(f"{key}: quoted {text}, the data give {figures[key]:.{decimals + 2}f}")
    assert not wrong, "\n".join(wrong)


def test_the_readme_opens_with_the_four_explanations_and_their_verdicts() -> None:
    """The first table, before any other section: one row per explanation of the write-up,
    each with a verdict and at least one figure from the data."""
    text = _text()
    first_table = re.search(r"^\|.*?(?=\n(?!\|))", text, re.MULTILINE | re.DOTALL)
    assert first_table, "the README has no table"
    assert "\n## " not in text[:first_table.start()], "the verdicts' table is not the opening"
    rows = [row for row in first_table.group(0).splitlines()[2:] if row.strip()]
    assert [re.search(r"\((\d)\)", row.split("|")[1]).group(1)  # type: ignore[union-attr]
            for row in rows] == ["1", "2", "3", "4"]
    for row in rows:
        assert any(f"**{verdict}" in row.lower() for verdict in VERDICTS), row
        assert "<!--fig:" in row, f"a verdict with no figure from the data: {row}"


def test_the_data_were_taken_from_a_clean_tree() -> None:
    dirty = {key: value for key, value in _figures().items() if key.endswith(".git_dirty")}
    assert dirty, "no manifest records its tree's state"
    assert not any(dirty.values()), f"sweeps run from a dirty tree: {sorted(dirty)}"


PRESETS = [("study-v3", 80, 12.0), ("study-v3-open", 90, 12.0), ("study-v3-open-http", 60, 8.0),
           ("study-v3-payload", 20, 3.0), ("study-v3-deployed", 10, 4.7)]


@functools.cache
def _minutes(preset: str) -> tuple[int, float]:
    config = resolve_config({"preset": preset})
    points = len(expand(config))
    return points, points * (config.ramp_s + config.duration_s + BETWEEN_RUNS_S) / 60


@pytest.mark.parametrize(("preset", "points", "minutes"), PRESETS)
def test_the_v3_presets_fit_the_budget(preset: str, points: int, minutes: float) -> None:
    """(ramp + window + settling and the pause between runs) per point; with the capacity
    searches all of it fits the study's slot."""
    config = resolve_config({"preset": preset})
    assert _minutes(preset)[0] == points and config.repeats == 5
    assert config.service_cpu == ["fargate-256"] and config.cpu_period_ms == 100.0
    assert _minutes(preset)[1] <= minutes


def test_the_capacity_searches_are_bounded_and_fit_with_the_sweeps() -> None:
    """run_study_v3.sh's --capacity-max-runs bounds each search: per backend and SLO."""
    config = resolve_config({"preset": "study-v3-capacity"})
    searches = len(expand(config)) // config.repeats
    script = SCRIPT.read_text(encoding="utf-8")
    budget = max(int(n) for n in re.findall(r"--capacity-max-runs (\d+)", script))
    slos = len(re.findall(r"^run_sweep capacity-\S+ study-v3-capacity", script, re.MULTILINE))
    assert searches == 3 and slos == 2 and budget <= 10
    capacity = searches * slos * budget * (config.ramp_s + config.duration_s + BETWEEN_RUNS_S)
    assert capacity / 60 <= 8.0
    assert sum(_minutes(p)[1] for p, _, _ in PRESETS) + capacity / 60 <= STUDY_MINUTES
