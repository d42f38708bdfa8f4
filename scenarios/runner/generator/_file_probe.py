"""Load a user's locustfile the way Locust does and describe it, in a process of its own.

``python -m scenarios.runner.generator._file_probe FILE [LOCUST_ARG ...]`` prints one JSON line:
``{"classes": {NAME: {"client": "HttpUser"|"FastHttpUser"|"User", "waits": bool}},
"options": [...]}`` (the classes Locust would offer, whether each one waits between tasks, and
the options the file adds to Locust's parser), or ``{"error": ONE_LINE}`` when the file does not
import or Locust's parser refuses the arguments (exit status 2). The sweep runs it once, before
anything is written, so a bad file costs one line and no results (runner/config/_byo.py).
The runner calls :func:`probe_locustfile`, which runs this module in a child process: importing
Locust monkey-patches the process with gevent, which the runner must not be.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

ZERO_WAIT_TRIES = 5


def _client(user_class: type) -> str:
    from locust import FastHttpUser, HttpUser

    if issubclass(user_class, FastHttpUser):
        return "FastHttpUser"
    return "HttpUser" if issubclass(user_class, HttpUser) else "User"


def _waits(user_class: Any) -> bool:
    """True unless the class's wait_time is always zero (Locust's default is no wait)."""
    try:
        return any(float(user_class.wait_time(None)) != 0.0 for _ in range(ZERO_WAIT_TRIES))
    except Exception:  # a wait_time that needs a live user: assume it waits
        return True


def _last_line(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return " ".join(line.strip() for line in lines if line.strip())[-300:]


def describe(path: str, locust_args: list[str]) -> dict[str, Any]:
    """The probe's answer for one file and the arguments passed through to it."""
    from locust.argument_parser import get_parser
    from locust.util.load_locustfile import load_locustfile

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            classes, _shapes = load_locustfile(path)
    except SystemExit as exit_:
        return {"error": f"does not import (exit {exit_.code})"}
    except BaseException as error:
        return {"error": f"does not import: {_last_line(error)}"}
    parser = get_parser()  # fires init_command_line_parser: the file's own options join
    messages = io.StringIO()
    try:
        with contextlib.redirect_stderr(messages):
            parser.parse_args(["-f", path, *locust_args])
    except SystemExit:
        lines = [line for line in messages.getvalue().splitlines() if "error: " in line]
        reason = lines[0].split("error: ", 1)[1] if lines else "parse error"
        return {"error": f"refuses the Locust arguments: {reason}"}
    return {"classes": {name: {"client": _client(cls), "waits": _waits(cls)}
                        for name, cls in sorted(classes.items())}}


def probe_locustfile(path: Path, locust_args: list[str], timeout: float = 60.0) -> dict[str, Any]:
    """Run the probe on ``path`` in a child process: its answer (``error`` on any failure)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "scenarios.runner.generator._file_probe", str(path),
             *locust_args], capture_output=True, text=True, timeout=timeout,
            cwd=Path(__file__).resolve().parents[3], stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": f"does not import: still importing after {timeout:g}s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    try:
        answer = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        return {"error": f"does not import: {tail[-300:]}"}
    return answer if isinstance(answer, dict) else {"error": "does not import: no answer"}


if __name__ == "__main__":
    answer = describe(sys.argv[1], sys.argv[2:])
    print(json.dumps(answer))
    sys.exit(2 if "error" in answer else 0)
