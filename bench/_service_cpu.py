"""The service's CPU time, precise enough for a few seconds at a fraction of a vCPU.

``/proc/PID/stat`` (psutil's cpu_times) counts in clock ticks of 10 ms, split into user and
system: over a 4 s run at 0.06 vCPU (240 ms of CPU) that is several percent. The scheduler's
own runtime per thread (``/proc/PID/task/TID/schedstat``, nanoseconds) is exact; it is summed
over the process tree's live threads (the service's threads live as long as it does). Where
schedstat cannot be read, psutil's figure is used instead.

``CpuTrace`` samples that figure every 100 ms in a thread while a subprocess (the sweep runner)
runs, so that the CPU at two instants recorded by that subprocess (the edges of Locust's
measured window, run.json) can be read afterwards, interpolated between samples.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import threading
import time
from pathlib import Path

import psutil

SAMPLE_S = 0.1


def _schedstat_s(pid: int) -> float:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread that ended
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def tree(pid: int) -> list[psutil.Process]:
    """Process ``pid`` and its descendants now (empty if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_cpu_s(pid: int, members: list[psutil.Process] | None = None) -> float:
    """CPU seconds used so far by process ``pid`` and its descendants (NaN if it is gone);
    ``members``: the tree as found before (the sampler's, to spare a walk of /proc)."""
    members = members if members is not None else tree(pid)
    if not members:
        return math.nan
    total = 0.0
    for member in members:
        try:
            total += _schedstat_s(member.pid)
        except (OSError, ValueError, IndexError):
            with contextlib.suppress(psutil.Error):
                times = member.cpu_times()
                total += times.user + times.system
    return total


class CpuTrace:
    """``with CpuTrace(pid) as trace: ...``; then ``trace.between(t0, t1)``: the tree's CPU
    seconds between two wall-clock instants (time.time()) inside the traced span."""

    def __init__(self, pid: int, interval_s: float = SAMPLE_S) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.members: list[psutil.Process] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="cpu-trace", daemon=True)

    def _read(self) -> None:
        cpu = tree_cpu_s(self.pid, self.members)
        if not math.isnan(cpu):
            self.times.append(time.time())
            self.cpu.append(cpu)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._read()

    def __enter__(self) -> CpuTrace:
        self.members = tree(self.pid)  # the service's tree does not change while it serves
        self._read()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()

    @property
    def total_s(self) -> float:
        """CPU seconds over the whole traced span."""
        return self.cpu[-1] - self.cpu[0] if len(self.cpu) > 1 else math.nan

    def at(self, t: float) -> float:
        """The tree's CPU seconds at instant ``t``, linear between the samples around it."""
        if not self.times or not self.times[0] <= t <= self.times[-1]:
            return math.nan
        index = bisect.bisect_left(self.times, t)
        if self.times[index] == t:
            return self.cpu[index]
        t0, t1 = self.times[index - 1], self.times[index]
        c0, c1 = self.cpu[index - 1], self.cpu[index]
        return c0 + (c1 - c0) * (t - t0) / (t1 - t0)

    def between(self, start: float, end: float) -> float:
        return self.at(end) - self.at(start)
