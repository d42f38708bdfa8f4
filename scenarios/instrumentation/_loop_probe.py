"""Event-loop lateness inside a Locust process: how late a short periodic timer fires.

Every ``INTERVAL_S`` a greenlet asks gevent to wake it ``INTERVAL_S`` later and measures how
much later than that it actually ran. A greenlet that cannot run on time is exactly what
inflates the response times Locust measures (a response that has arrived waits for its greenlet
to be scheduled), and a process starved by the scheduler or blocked in a C call can look idle to
CPU sampling. Once a second the probe appends one line per wall-clock second to
``$LOADBENCH_EVIDENCE_DIR/lateness-<role>-<pid>.csv``: the second, the number of wake-ups, and
their p50, p99 and max lateness in ms. ``LOADBENCH_INSTRUMENTATION=off`` switches it off (only
``bench/user_classes.py`` does, to measure its cost).

A second's figures count each wake-up once, so they cannot say how long the loop stood still:
one 100 ms stall is one late wake-up among a hundred. Every wake-up at least ``STALL_MIN_MS``
late is therefore also appended to ``stalls-<role>-<pid>.csv`` with the time the loop stopped
running (epoch seconds) and the stall's full length in ms, so that the verdict can add up how
much of the window the process could not send or time requests (a stopped process, SIGSTOP,
shows no CPU at all: only its lateness can show it).

``LOADBENCH_TEST_BLOCK_LOOP=PERIOD_S:BLOCK_MS`` (tests only) blocks the whole process for
BLOCK_MS every PERIOD_S with a real (not cooperative) sleep: the loop cannot run on time while
the CPU stays idle.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import IO

import gevent
from gevent import monkey

INTERVAL_S = 0.01
EVIDENCE_ENV = "LOADBENCH_EVIDENCE_DIR"
INSTRUMENTATION_ENV = "LOADBENCH_INSTRUMENTATION"
BLOCK_ENV = "LOADBENCH_TEST_BLOCK_LOOP"
HEADER = "second,wakeups,p50_ms,p99_ms,max_ms\n"
STALL_HEADER = "stopped_at,stall_ms\n"
STALL_MIN_MS = 10.0  # a wake-up this late is a stall of its own, recorded with its length


def instrumentation_on() -> bool:
    return os.environ.get(INSTRUMENTATION_ENV, "on").strip().lower() not in ("off", "0", "no")


def _quantile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def _write_second(out: IO[str], second: int, lateness: list[float]) -> None:
    ordered = sorted(lateness)
    out.write(f"{second},{len(ordered)},{_quantile(ordered, 0.5):.3f},"
              f"{_quantile(ordered, 0.99):.3f},{ordered[-1]:.3f}\n")
    out.flush()


def _probe(path: Path, stalls_path: Path) -> None:
    with path.open("a", encoding="utf-8") as out, stalls_path.open("a", encoding="utf-8") as stalls:
        if out.tell() == 0:
            out.write(HEADER)
        if stalls.tell() == 0:
            stalls.write(STALL_HEADER)
            stalls.flush()
        current, lateness = int(time.time()), list[float]()
        clock = time.perf_counter
        while True:
            due = clock() + INTERVAL_S
            gevent.sleep(INTERVAL_S)
            now = clock()
            wall = time.time()
            second = int(wall)
            if second != current:
                if lateness:
                    _write_second(out, current, lateness)
                current, lateness = second, []
            late_ms = max(0.0, (now - due) * 1000.0)
            lateness.append(late_ms)
            if late_ms >= STALL_MIN_MS:
                stalls.write(f"{wall - late_ms / 1000.0:.3f},{late_ms:.1f}\n")
                stalls.flush()


def _blocker(period_s: float, block_s: float) -> None:
    real_sleep = monkey.get_original("time", "sleep")
    while True:
        gevent.sleep(period_s)
        real_sleep(block_s)


def start(role: str) -> Path | None:
    """Start the probe in this process (``role``: local, master or worker); its file, or None."""
    block = os.environ.get(BLOCK_ENV)
    if block:
        period, _, block_ms = block.partition(":")
        gevent.spawn(_blocker, float(period), float(block_ms) / 1000.0)
    directory = os.environ.get(EVIDENCE_ENV)
    if not directory or not instrumentation_on():
        return None
    path = Path(directory) / f"lateness-{role}-{os.getpid()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    gevent.spawn(_probe, path, path.with_name(f"stalls-{role}-{os.getpid()}.csv"))
    return path
