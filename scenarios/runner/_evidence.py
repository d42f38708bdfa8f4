"""The per-process evidence files Locust processes write during a run (results/README.md).

The runner sets ``LOADBENCH_EVIDENCE_DIR=<run dir>/evidence`` for every Locust process it
starts; each process writes its own files there, named ``<kind>-<role>-<pid>.<ext>`` (role:
``local``, ``master`` or ``worker``). This module reads the event-loop lateness files
(``lateness-*.csv``, written by scenarios/_loop_probe.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

from scenarios.runner._health import LatenessSecond

EVIDENCE_DIR = "evidence"
EVIDENCE_ENV = "LOADBENCH_EVIDENCE_DIR"


def read_lateness(run_dir: Path, names_by_pid: dict[int, str]) -> dict[str, list[LatenessSecond]]:
    """Per Locust process (named as the runner names it), its lateness seconds in time order."""
    result: dict[str, list[LatenessSecond]] = {}
    for path in sorted((run_dir / EVIDENCE_DIR).glob("lateness-*-*.csv")):
        try:
            pid = int(path.stem.rsplit("-", 1)[1])
        except ValueError:
            continue
        name = names_by_pid.get(pid, path.stem)
        seconds: list[LatenessSecond] = []
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    try:
                        seconds.append(LatenessSecond(
                            int(row["second"]), int(row["wakeups"]), float(row["p50_ms"]),
                            float(row["p99_ms"]), float(row["max_ms"])))
                    except (KeyError, TypeError, ValueError):
                        continue  # a line cut short when the process ended
        except OSError:
            continue
        result[name] = seconds
    return result
