"""Fixtures for the analysis tests: the small real sweep under tests/data/ and copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _analysis_helpers import SWEEP


@pytest.fixture(scope="session")
def sweep_dir() -> Path:
    """The small real sweep (read only: copy it before changing anything)."""
    if not (SWEEP / "manifest.json").exists():
        pytest.fail(f"{SWEEP} is missing: run tests/data/regenerate.sh")
    return SWEEP


@pytest.fixture
def sweep_copy(tmp_path: Path, sweep_dir: Path) -> Path:
    """A private copy of the small real sweep, free to damage."""
    copy = tmp_path / sweep_dir.name
    shutil.copytree(sweep_dir, copy)
    return copy
