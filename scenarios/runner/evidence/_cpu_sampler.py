"""Host-level CPU of the Locust processes and of the local service (psutil), at a set interval.

A sample that fails (the process is gone, access denied) is recorded in ``errors``, not skipped
silently: a missing sample is missing evidence.
"""

from __future__ import annotations

import contextlib
import csv
import io
import threading
import time
from typing import Any

import psutil

from scenarios.runner.evidence._health import CpuSample

CPU_COLUMNS = ("t", "role", "pid", "name", "cpu_percent", "cpus", "in_window")


class CpuSampler:
    """Samples named process trees in a background thread until stopped."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.samples: list[CpuSample] = []
        self.errors: list[dict[str, Any]] = []  # {t, role, pid, name, error}
        self.host: list[tuple[float, list[float]]] = []  # (t, busy percent of each CPU)
        self._roots: list[tuple[str, str, psutil.Process]] = []  # role, name, process
        self._known: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)

    def track(self, role: str, name: str, pid: int) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self._roots.append((role, name, psutil.Process(pid)))

    def start(self) -> None:
        self._sample(record=False)  # primes cpu_percent: the first reading covers nothing
        self._thread.start()

    def stop(self) -> list[CpuSample]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        return self.samples

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample(record=True)

    def _tree(self, root: psutil.Process) -> list[psutil.Process]:
        try:
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return [root]

    def _sample(self, record: bool) -> None:
        now = time.time()
        per_cpu = psutil.cpu_percent(None, percpu=True)
        if record:
            self.host.append((now, per_cpu))
        for role, name, root in self._roots:
            for index, process in enumerate(self._tree(root)):
                known = self._known.setdefault(process.pid, process)
                label = name if index == 0 else f"{name}-child-{process.pid}"
                if role == "service":
                    label = "service"
                try:
                    percent = known.cpu_percent(None)
                    cpus = ";".join(str(c) for c in known.cpu_affinity() or [])
                except psutil.Error as error:
                    if record:
                        self.errors.append({"t": round(now, 3), "role": role, "pid": process.pid,
                                            "name": label, "error": type(error).__name__})
                    continue
                if record:
                    self.samples.append(CpuSample(now, role, process.pid, label, percent, cpus))


def mark_window(samples: list[CpuSample], start: float | None, end: float | None,
                interval_s: float = 1.0) -> list[CpuSample]:
    """Samples whose interval lies within the window (a sample covers the second before it)."""
    def inside(sample: CpuSample) -> bool:
        return (start is not None and end is not None
                and start + interval_s * 0.5 <= sample.t <= end + interval_s * 0.5)
    return [CpuSample(s.t, s.role, s.pid, s.name, s.cpu_percent, s.cpus, inside(s))
            for s in samples]


def host_busy(host: list[tuple[float, list[float]]], cpus: list[int] | None,
              start: float | None, end: float | None, interval_s: float = 1.0) -> list[float]:
    """Per in-window sample: the mean busy percent of the given CPUs (all processes)."""
    if start is None or end is None:
        return []
    busy = []
    for t, per_cpu in host:
        if start + interval_s * 0.5 <= t <= end + interval_s * 0.5:
            chosen = [per_cpu[c] for c in (cpus or range(len(per_cpu))) if c < len(per_cpu)]
            if chosen:
                busy.append(round(sum(chosen) / len(chosen), 1))
    return busy


def host_series(host: list[tuple[float, list[float]]], cpus: list[int] | None,
                start: float | None, end: float | None,
                interval_s: float = 1.0) -> list[tuple[float, float]]:
    """Per in-window sample: (t, mean busy percent of the given CPUs), all processes."""
    if start is None or end is None:
        return []
    series = []
    for t, per_cpu in host:
        if start + interval_s * 0.5 <= t <= end + interval_s * 0.5:
            chosen = [per_cpu[c] for c in (cpus or range(len(per_cpu))) if c < len(per_cpu)]
            if chosen:
                series.append((t, round(sum(chosen) / len(chosen), 1)))
    return series


def cpu_csv(samples: list[CpuSample]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CPU_COLUMNS)
    for s in samples:
        writer.writerow([f"{s.t:.3f}", s.role, s.pid, s.name, f"{s.cpu_percent:.1f}", s.cpus,
                         int(s.in_window)])
    return buffer.getvalue()


def summarise(samples: list[CpuSample], interval_s: float = 1.0, with_service: bool = True,
              host: dict[str, list[float]] | None = None) -> dict[str, object]:
    """The run.json "cpu" block: generator per-process and service figures over the window."""
    window = [s for s in samples if s.in_window]
    per_pid: dict[str, list[float]] = {}  # by name: a remote worker has no pid here
    for s in window:
        if s.role == "generator":
            per_pid.setdefault(s.name, []).append(s.cpu_percent)
    means = [sum(v) / len(v) for v in per_pid.values()]
    generator = {
        "processes": len(per_pid),
        "max_process_percent": round(max((max(v) for v in per_pid.values()), default=0.0), 1),
        "mean_process_percent": round(max(means, default=0.0), 1),
        "total_percent": round(sum(means), 1),
    }
    service: dict[str, float] | None = None
    if with_service:
        totals: dict[float, float] = {}
        for s in window:
            if s.role == "service":
                totals[s.t] = totals.get(s.t, 0.0) + s.cpu_percent
        values = list(totals.values())
        service = {"mean_percent": round(sum(values) / len(values), 1) if values else 0.0,
                   "max_percent": round(max(values, default=0.0), 1)}
    busy = {f"{name}_mean_percent": round(sum(v) / len(v), 1) if v else None
            for name, v in (host or {}).items()}
    return {"sample_interval_s": interval_s, "generator": generator, "service": service,
            "host_busy": busy}
