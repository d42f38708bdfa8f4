"""docs/study/README.md's v3 figures are the committed data's (quick tier: no load, ~5 s).

The v3 section quotes each figure as ``VALUE<!--fig:KEY-->``; docs/study/recompute.py derives
every KEY from docs/study/data/v3/*.tar.gz. A quoted figure must be reproduced to the precision
it is quoted at (its last digit, half a unit either way), a KEY must exist in the data, and
a table cell of the v3 section that holds a number must quote it through a KEY: a claim without
data fails. Also: the v3 presets fit the study's time budget.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from scenarios.runner.config import expand, resolve_config

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "docs" / "study" / "README.md"
DATA = ROOT / "docs" / "study" / "data" / "v3"
MARKED = re.compile(r"(-?[0-9][0-9,]*(?:\.[0-9]+)?)(?:\s*(?:ms|%|requests/s|/s))?"
                    r"<!--fig:([\w.-]+)-->")


def _recompute() -> ModuleType:
    spec = importlib.util.spec_from_file_location("study_recompute",
                                                  ROOT / "docs" / "study" / "recompute.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _v3_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Study v3\b.*?(?=^## (?!#)|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "docs/study/README.md has no '## Study v3' section"
    return match.group(0)


def _quoted() -> list[tuple[str, str]]:
    return [(value, key) for value, key in MARKED.findall(_v3_section())]


def test_the_v3_section_quotes_its_figures_with_keys() -> None:
    assert _quoted(), "the v3 section quotes no figure with <!--fig:KEY-->"
    lines = _v3_section().splitlines()
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if (not line.startswith("|") or set(line) <= set("|-: ")
                or (following.startswith("|") and set(following) <= set("|-: "))):  # header
            continue
        for cell in line.strip("|").split("|")[1:]:  # the first cell names the row
            bare = re.sub(r"<!--fig:[\w.-]+-->", "", MARKED.sub("", cell))
            assert not re.search(r"\d", bare), f"a table cell quotes a number with no key: {cell}"


def test_every_quoted_figure_is_recomputed_from_the_data() -> None:
    assert DATA.is_dir(), "no docs/study/data/v3: the v3 section's figures have no data"
    figures = _recompute().recompute(DATA)
    wrong = []
    for text, key in _quoted():
        if key not in figures:
            wrong.append(f"{key}: no such figure in the data ({text} quoted)")
            continue
        quoted = float(text.replace(",", ""))
        decimals = len(text.split(".")[1]) if "." in text else 0
        if abs(figures[key] - quoted) > 0.5 * 10 ** -decimals + 1e-9:
            wrong.append(f"{key}: quoted {text}, the data give {figures[key]:.{decimals + 2}f}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("preset", "points", "minutes"), [
    ("study-v3", 80, 13.5), ("study-v3-open", 40, 7.0), ("study-v3-deployed", 10, 4.6)])
def test_the_v3_presets_fit_the_budget(preset: str, points: int, minutes: float) -> None:
    """(ramp + window + 1.7 s between runs, study v2's measured overhead) per point; the three
    add up to at most 25 minutes."""
    config = resolve_config({"preset": preset})
    assert len(expand(config)) == points and config.repeats == 5
    assert config.service_cpu == ["fargate-256"] and config.cpu_period_ms == 100.0
    assert points * (config.ramp_s + config.duration_s + 1.7) / 60 <= minutes
    assert any(value.startswith("lognormal:") for value in config.rtt_delay)
