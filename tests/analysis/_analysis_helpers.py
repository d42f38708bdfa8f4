"""Helpers for the analysis tests (paths of the small real sweep, the CLI, JSON edits)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"
SWEEP = DATA / "sweep"
REPO = Path(__file__).resolve().parent.parent.parent


def run_cli(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    document = json.loads(path.read_text())
    result = change(document)
    path.write_text(json.dumps(document if result is None else result))


def final_run_dirs(sweep: Path) -> list[Path]:
    dirs = []
    for run_json in sorted(sweep.glob("runs/*/run.json")):
        if json.loads(run_json.read_text()).get("final"):
            dirs.append(run_json.parent)
    return dirs
