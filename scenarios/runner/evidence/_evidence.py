"""The per-process evidence files Locust processes write during a run (results/README.md).

The runner sets ``LOADBENCH_EVIDENCE_DIR=<run dir>/evidence`` for every Locust process it
starts; each process writes its own files there, named ``<kind>-<role>-<pid>.<ext>`` (role:
``local``, ``master`` or ``worker``). This module reads the event-loop lateness files
(``lateness-*.csv``, written by scenarios/instrumentation/_loop_probe.py) and the
requests-in-flight files (``in-flight-*.json``, written by
scenarios/instrumentation/_in_flight.py).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from scenarios.runner.evidence._health import LatenessSecond

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


def read_in_flight(run_dir: Path) -> dict[str, Any] | None:
    """The Locust processes' ``in-flight-*.json`` (scenarios/instrumentation/_in_flight.py)
    summed; None if none.

    ``mean_in_flight`` is the requests in flight over the window, measured by the generator;
    ``in_flight_at_end`` the requests still unanswered when the window ended, with the oldest's
    age (``oldest_s``) and their time inside the window (``censored_request_seconds``); and the
    time before the window of the requests completed in it (``carried_in_request_seconds``).
    """
    documents: list[dict[str, Any]] = []
    for path in sorted((run_dir / EVIDENCE_DIR).glob("in-flight-*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and isinstance(document.get("mean_in_flight"), (int, float)):
            documents.append(document)
    if not documents:
        return None
    oldest = [d["ages_at_end_s"]["max"] for d in documents if d.get("ages_at_end_s")]
    return {
        "processes": len(documents),
        "mean_in_flight": round(sum(d["mean_in_flight"] for d in documents), 3),
        "in_flight_at_end": sum(int(d.get("in_flight_at_end") or 0) for d in documents),
        "oldest_s": max(oldest) if oldest else None,
        "censored_request_seconds": round(
            sum(float(d.get("censored_request_seconds") or 0.0) for d in documents), 3),
        "carried_in_request_seconds": round(
            sum(float(d.get("carried_in_request_seconds") or 0.0) for d in documents), 3),
        "window_s": round(max(d["window_end"] - d["window_start"] for d in documents), 3),
    }
