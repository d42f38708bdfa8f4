"""The service's CPU envelope: a cgroup CPU quota on the local service and its database/cache.

One cgroup per sweep (v1 ``cpu`` controller, or v2 ``cpu.max``, whichever the host lets us
write). PostgreSQL and Redis join it when they start (see ``join_active``, called in their
``preexec_fn``); each point's service is admitted (``admit``: its whole process tree) just
before its point's quota is set, so that the next point's service can start, unlimited and
outside the envelope, while the current point's Locust is still stopping. The quota stays in
force until that Locust process has exited, for every point alike, and is lifted after it, so
that database resets run unlimited. The kernel's throttling counters (``cpu.stat``) are read at
the edges of the measured window, and ``applied`` reads back the period and quota the kernel
actually holds (run.json records those, not the ones asked for).

The default period is 100 ms, the one Docker and ECS give a container (CFS's own default): a
task's latency under its quota is shaped by its period (a request that finds the quota spent
waits for the next period), so an envelope with another period emulates another task.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Any

# The envelope's values (none, vCPUs, Fargate sizes) are parsed in one place: runmodel's.
from runmodel.values import FARGATE, NONE, parse_service_cpu

__all__ = ["DEFAULT_PERIOD_MS", "FARGATE", "NONE", "CpuEnvelope", "CpuLimitError", "join_active",
           "parse_service_cpu", "throttling"]

V1_ROOT = Path("/sys/fs/cgroup/cpu")
V2_ROOT = Path("/sys/fs/cgroup")
DEFAULT_PERIOD_MS = 100.0  # what Docker and ECS give a container (the CFS default)
MIN_QUOTA_US = 1000  # the kernel refuses a quota below 1 ms
# While a quota is set, the cgroup's CPU weight is raised so that on a busy machine the service
# still gets its quota within each period (a task's vCPUs are reserved for it); the quota keeps
# it from taking more. Without a quota the weight is the kernel's default.
WEIGHTS = {"v1": ("cpu.shares", "262144", "1024"), "v2": ("cpu.weight", "10000", "100")}

_active_procs: Path | None = None  # the cgroup.procs file that new service-side processes join


class CpuLimitError(RuntimeError):
    """No cgroup CPU quota can be written here; the message is one line."""



def join_active() -> None:
    """In a child before exec: join the sweep's envelope cgroup, if there is one."""
    if _active_procs is not None:
        _active_procs.write_text(str(os.getpid()))


def _write(path: Path, text: str) -> None:
    path.write_text(text)


class CpuEnvelope:
    """The sweep's cgroup; ``set_limit`` changes its quota, ``counters`` reads ``cpu.stat``."""

    def __init__(self, period_ms: float = DEFAULT_PERIOD_MS) -> None:
        self.period_us = round(period_ms * 1000)
        if not 1000 <= self.period_us <= 1_000_000:
            raise CpuLimitError(f"--cpu-period {period_ms:g}ms: the kernel accepts 1ms to 1s")
        name = f"loadbench-{os.getpid()}-{time.monotonic_ns()}"
        errors = []
        self.version, self.path = "", Path()
        for version, root in (("v1", V1_ROOT), ("v2", V2_ROOT)):
            try:
                self.path = self._create(version, root, name)
                self.version = version
                break
            except OSError as exc:
                errors.append(f"{version} at {root}: {exc.strerror or exc}")
        if not self.version:
            raise CpuLimitError("--service-cpu: cannot write a cgroup CPU quota here ("
                                + "; ".join(errors) + "); run as root on a host with the cgroup "
                                "v1 cpu controller or cgroup v2 cpu.max")
        self.vcpu: float | None = None
        self.set_limit(None)

    @staticmethod
    def _create(version: str, root: Path, name: str) -> Path:
        if version == "v1":
            if not (root / "cpu.cfs_quota_us").exists():
                raise OSError(0, "no cpu.cfs_quota_us")
        else:
            if "cpu" not in (root / "cgroup.controllers").read_text().split():
                raise OSError(0, "the cpu controller is not enabled")
            with contextlib.suppress(OSError):
                _write(root / "cgroup.subtree_control", "+cpu")
        path = root / name
        path.mkdir()
        try:
            probe = "cpu.cfs_period_us" if version == "v1" else "cpu.max"
            if not (path / probe).exists():
                raise OSError(0, f"no {probe} in a new cgroup")
        except OSError:
            path.rmdir()
            raise
        return path

    def activate(self) -> None:
        """Processes started from now on (service, database, cache) join this cgroup."""
        global _active_procs
        _active_procs = self.path / "cgroup.procs"

    def set_limit(self, vcpu: float | None) -> None:
        """Limit the cgroup to ``vcpu`` cores per period, or lift the limit (None)."""
        quota, period = self.quota_us(vcpu), self.period_for(vcpu)
        weight_file, high, default = WEIGHTS[self.version]
        try:
            with contextlib.suppress(OSError):  # the quota still applies without it
                _write(self.path / weight_file, default if quota is None else high)
            if self.version == "v1":
                _write(self.path / "cpu.cfs_quota_us", "-1")  # a period below the quota: EINVAL
                _write(self.path / "cpu.cfs_period_us", str(period))
                if quota is not None:
                    _write(self.path / "cpu.cfs_quota_us", str(quota))
            else:
                _write(self.path / "cpu.max", f"{quota if quota else 'max'} {period}")
        except OSError as exc:
            raise CpuLimitError(f"{self.path}: cannot set the CPU quota: {exc}") from None
        self.vcpu = vcpu

    def admit(self, pid: int) -> list[int]:
        """Move ``pid`` and its descendants into this cgroup; the pids moved."""
        import psutil

        moved: list[int] = []
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return moved
        for process in tree:
            try:
                _write(self.path / "cgroup.procs", str(process.pid))
                moved.append(process.pid)
            except OSError:
                continue  # it exited meanwhile
        return moved

    def applied(self) -> dict[str, int | None]:
        """The period and quota (µs) the kernel holds now, read back from the cgroup."""
        try:
            if self.version == "v1":
                period = int((self.path / "cpu.cfs_period_us").read_text())
                quota = int((self.path / "cpu.cfs_quota_us").read_text())
            else:
                text_quota, _, text_period = (self.path / "cpu.max").read_text().partition(" ")
                period = int(text_period)
                quota = -1 if text_quota.strip() == "max" else int(text_quota)
        except (OSError, ValueError):
            return {"period_us": None, "quota_us": None}
        return {"period_us": period, "quota_us": None if quota < 0 else quota}

    def period_for(self, vcpu: float | None) -> int:
        """The period used for ``vcpu`` (``period_and_quota``)."""
        return self.period_us if vcpu is None else period_and_quota(vcpu, self.period_us)[0]

    def quota_us(self, vcpu: float | None) -> int | None:
        return None if vcpu is None else period_and_quota(vcpu, self.period_us)[1]

    def counters(self) -> dict[str, Any]:
        """cpu.stat now: nr_periods, nr_throttled, throttled_ms, and the time it was read."""
        values: dict[str, float] = {}
        with contextlib.suppress(OSError):
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                with contextlib.suppress(ValueError):
                    values[key] = float(value)
        throttled_ms = (values.get("throttled_time", 0.0) / 1e6 if self.version == "v1"
                        else values.get("throttled_usec", 0.0) / 1e3)
        return {"at": time.time(), "nr_periods": int(values.get("nr_periods", 0)),
                "nr_throttled": int(values.get("nr_throttled", 0)), "throttled_ms": throttled_ms}

    def describe(self) -> dict[str, Any]:
        weight_file, high, _ = WEIGHTS[self.version]
        return {"cgroup": self.version, "path": str(self.path), "period_us": self.period_us,
                "weight_while_limited": f"{weight_file}={high}"}

    def close(self) -> None:
        """Lift the limit, move any process left to the parent, remove the cgroup."""
        global _active_procs
        if _active_procs == self.path / "cgroup.procs":
            _active_procs = None
        with contextlib.suppress(CpuLimitError):
            self.set_limit(None)
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    _write(self.path.parent / "cgroup.procs", pid)
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)


def throttling(start: dict[str, Any] | None, end: dict[str, Any] | None) -> dict[str, Any] | None:
    """The counters' growth between two readings (the measured window's edges)."""
    if not start or not end:
        return None
    periods = end["nr_periods"] - start["nr_periods"]
    throttled = end["nr_throttled"] - start["nr_throttled"]
    return {"nr_periods": periods, "nr_throttled": throttled,
            "throttled_ms": round(end["throttled_ms"] - start["throttled_ms"], 3),
            "throttled_ratio": round(throttled / periods, 4) if periods else None,
            "read_at_s": [round(start["at"], 3), round(end["at"], 3)]}


def period_and_quota(vcpu: float, period_us: int) -> tuple[int, int]:
    """The period and quota (µs) an envelope of ``vcpu`` applies at the chosen ``period_us``:
    that period, or a longer one where the quota would fall below the kernel's 1 ms minimum
    (0.005 vCPU at 100 ms would need 0.5 ms: 200 ms is used), so that the limit is the vCPUs
    asked for, never silently more; at most 1 s, where the quota is then the minimum."""
    period = min(1_000_000, max(period_us, math.ceil(MIN_QUOTA_US / vcpu)))
    return period, max(MIN_QUOTA_US, round(vcpu * period))
