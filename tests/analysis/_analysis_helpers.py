"""Helpers for the analysis tests (paths of the small real sweep, the CLI, JSON edits)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"
SWEEP = DATA / "sweep"
REPO = Path(__file__).resolve().parent.parent.parent


def run_cli(*args: str | Path, cwd: Path = REPO,
            process: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m analysis ARGS``: its status, stdout and stderr.

    In this process by default (``analysis.__main__.main``, stdout and stderr captured; a
    Python start and the pandas/matplotlib imports cost about 2 s a call here); ``process=True``
    runs the real command line, for the tests of what crosses the process boundary.
    """
    argv = [str(arg) for arg in args]
    if process:
        return subprocess.run([sys.executable, "-m", "analysis", *argv], cwd=cwd,
                              capture_output=True, text=True, timeout=120)
    from analysis.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exit_:  # argparse: --help, usage errors
                status = exit_.code if isinstance(exit_.code, int) else 1 if exit_.code else 0
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(["python", "-m", "analysis", *argv], status,
                                       out.getvalue(), err.getvalue())


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
