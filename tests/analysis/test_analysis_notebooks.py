"""The three notebooks run against the small real sweep, and are stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest
from _analysis_helpers import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_three_notebooks() -> None:
    assert [n.name for n in NOTEBOOKS] == ["compare_sweeps.ipynb", "compare_user_classes.ipynb",
                                            "explore_sweep.ipynb"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_stored_without_outputs_and_with_a_parameters_cell(notebook: Path) -> None:
    book = nbformat.read(notebook, as_version=4)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert any("parameters" in cell.metadata.get("tags", []) for cell in code)
    assert any("import analysis" in cell.source for cell in code)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_runs_against_the_small_real_sweep(notebook: Path, sweep_dir: Path,
                                           tmp_path: Path) -> None:
    parameters = ({"sweep_a": str(sweep_dir), "sweep_b": str(sweep_dir)}
                  if "sweeps" in notebook.stem else {"sweep": str(sweep_dir)})
    output = tmp_path / notebook.name
    papermill.execute_notebook(str(notebook), str(output), parameters=parameters,
                               cwd=str(notebook.parent), kernel_name="python3",
                               progress_bar=False, execution_timeout=120)
    executed = nbformat.read(output, as_version=4)
    errors = [out for cell in executed.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
    kinds = {kind for cell in executed.cells if cell.cell_type == "code"
             for out in cell.get("outputs", []) for kind in out.get("data", {})}
    assert "text/html" in kinds  # tables
    if "sweeps" not in notebook.stem:
        assert "image/png" in kinds  # plots
