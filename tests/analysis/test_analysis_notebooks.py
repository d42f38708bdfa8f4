"""The three notebooks: stored without outputs, each opening with an explanation and a
parameters cell; executed with papermill against the small real sweep, their outputs are
checked: the report's figures (same functions, same count), its answer, and its tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from _analysis_helpers import REPO

from analysis import load
from analysis.report import build

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_three_notebooks() -> None:
    assert [n.name for n in NOTEBOOKS] == ["compare_sweeps.ipynb", "compare_user_classes.ipynb",
                                            "explore_sweep.ipynb"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_stored_without_outputs_opening_with_an_explanation_and_parameters(
        notebook: Path) -> None:
    book = nbformat.read(notebook, as_version=4)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    first, second = book.cells[:2]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert second.cell_type == "code" and "parameters" in second.metadata.get("tags", [])
    assert any("import analysis" in cell.source for cell in code)


def _execute(notebook: Path, parameters: dict[str, Any], out: Path) -> list[dict[str, Any]]:
    papermill.execute_notebook(str(notebook), str(out), parameters=parameters,
                               cwd=str(notebook.parent), kernel_name="python3",
                               progress_bar=False, execution_timeout=120)
    executed = nbformat.read(out, as_version=4)
    outputs = [output for cell in executed.cells if cell.cell_type == "code"
               for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    return outputs


def _kinds(outputs: list[dict[str, Any]], kind: str) -> int:
    return sum(kind in output.get("data", {}) for output in outputs)


def test_explore_sweep_shows_the_reports_answer_figures_and_tables(
        sweep_dir: Path, tmp_path: Path) -> None:
    outputs = _execute(REPO / "notebooks" / "explore_sweep.ipynb", {"sweep": str(sweep_dir)},
                       tmp_path / "explore.ipynb")
    report = build(load(sweep_dir))
    assert _kinds(outputs, "image/png") == len(report.figures)
    printed = "".join(output.get("text", "") for output in outputs
                      if output.get("output_type") == "stream")
    assert printed.splitlines() == [f"- {line}" for line in report.headline]
    assert _kinds(outputs, "text/html") >= 5  # points, ratios, capacity, untrusted, Little


def test_compare_user_classes_shows_the_ratio(sweep_dir: Path, tmp_path: Path) -> None:
    outputs = _execute(REPO / "notebooks" / "compare_user_classes.ipynb",
                       {"sweep": str(sweep_dir)}, tmp_path / "classes.ipynb")
    report = build(load(sweep_dir))
    expected = len({"ratio", "throughput", "cpu"} & set(report.figures))
    assert _kinds(outputs, "image/png") == expected >= 2
    assert _kinds(outputs, "text/html") >= 1


def test_compare_sweeps_overlays_a_and_b(sweep_dir: Path, tmp_path: Path) -> None:
    outputs = _execute(REPO / "notebooks" / "compare_sweeps.ipynb",
                       {"sweep_a": str(sweep_dir), "sweep_b": str(sweep_dir)},
                       tmp_path / "sweeps.ipynb")
    assert _kinds(outputs, "image/png") == 2  # throughput and p95, A and B on the same axes
    assert _kinds(outputs, "text/html") == 2  # the deltas and the verdicts
    printed = "".join(output.get("text", "") for output in outputs
                      if output.get("output_type") == "stream")
    assert "0 beyond 10% and the noise" in printed  # a sweep against itself changes nothing
