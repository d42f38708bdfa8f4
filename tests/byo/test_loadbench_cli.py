"""The ``loadbench`` console script dispatches to the ``python -m`` forms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loadbench_cli.main import main


def test_an_unknown_or_missing_command_is_one_line_and_exit_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bogus"]) == 2
    assert capsys.readouterr().err.strip() == (
        "loadbench: error: unknown command 'bogus': choose from sweep, report, compare, summary")
    assert main([]) == 2


@pytest.mark.parametrize(("command", "words"), [
    ("sweep", ["--locustfile", "--server-metrics"]), ("report", ["sweep directory"]),
    ("compare", ["baseline sweep"])])
def test_each_command_is_the_python_m_form(command: str, words: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    printed = capsys.readouterr().out
    assert all(word in printed for word in words), printed


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "loadbench"
    done = subprocess.run([str(script), "nope"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown command 'nope'" in done.stderr
