"""Event-loop stalls: how long each Locust process stood still inside the measured window.

The loop probe (scenarios/instrumentation/_loop_probe.py) appends every wake-up at least 10 ms
late to ``evidence/stalls-<role>-<pid>.csv`` with the time the loop stopped running and the
stall's full length. While a process stands still it sends nothing and times nothing: a closed
loop's users wait (throughput falls by the stalled share), a paced or open-model schedule falls
behind, and every response that arrived meanwhile is timed late (the tail grows). So a stall is
judged by its length, not by how many seconds it touches: one 100 ms stall in an 8 s window
takes 1.25% of the window, enough to move a p99.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

STALLS_GLOB = "stalls-*-*.csv"
STALL_MIN_MS = 10.0  # the probe records wake-ups at least this late


def read_stalls(evidence_dir: Path, names_by_pid: dict[int, str]) -> dict[str, list[
        tuple[float, float]]]:
    """Per Locust process (named as the runner names it): (stopped_at, stall_ms) in time order."""
    result: dict[str, list[tuple[float, float]]] = {}
    for path in sorted(evidence_dir.glob(STALLS_GLOB)):
        try:
            pid = int(path.stem.rsplit("-", 1)[1])
        except ValueError:
            continue
        stalls: list[tuple[float, float]] = []
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    try:
                        stalls.append((float(row["stopped_at"]), float(row["stall_ms"])))
                    except (KeyError, TypeError, ValueError):
                        continue  # a line cut short when the process ended
        except OSError:
            continue
        result[names_by_pid.get(pid, path.stem)] = sorted(stalls)
    return result


def stalls_in_window(stalls: dict[str, list[tuple[float, float]]],
                     window: tuple[float, float] | None,
                     min_ms: float = 0.0) -> dict[str, dict[str, Any]]:
    """Per process: the stalled time that overlaps the window, its share, the longest stall,
    counting only stalls of at least ``min_ms`` (the verdict passes the window's mean response
    time: a stall shorter than a typical response delays responses by less than the service
    does, and leaves the throughput and the tail as they were)."""
    result: dict[str, dict[str, Any]] = {}
    if window is None:
        return result
    start, end = window
    length = max(end - start, 1e-9)
    for name, entries in stalls.items():
        overlaps = []
        for stopped_at, stall_ms in entries:
            if stall_ms < min_ms:
                continue
            resumed = stopped_at + stall_ms / 1000.0
            overlap = min(resumed, end) - max(stopped_at, start)
            if overlap > 0:
                overlaps.append(overlap * 1000.0)
        total = sum(overlaps)
        result[name] = {"stalls": len(overlaps), "counted_from_ms": round(min_ms, 3),
                        "stalled_ms": round(total, 1),
                        "stalled_share": round(total / 1000.0 / length, 4),
                        "longest_ms": round(max(overlaps), 1) if overlaps else 0.0}
    return result
