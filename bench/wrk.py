"""Run wrk against a URL (optionally pinned to CPUs) and parse requests/s and latency percentiles.

Reusable by every benchmark: ``run_wrk(url, seconds=4, connections=50, cpus=[1], lua=SCRIPT)``.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_MEAN = re.compile(r"^\s+Latency\s+([\d.]+)(us|ms|s|m)\s", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed something this parser does not understand."""


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    requests: int
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    mean_ms: float = math.nan  # the Thread Stats mean latency (NaN if wrk did not print it)


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk not found: install it with `make system-deps` (Debian package wrk)")
    return path


def random_path_script(paths_prefix: str, count: int) -> str:
    """A wrk Lua script requesting GET {paths_prefix}{0..count-1}, uniformly at random."""
    return (
        "math.randomseed(42)\n"
        "request = function()\n"
        f'  return wrk.format("GET", "{paths_prefix}" .. math.random(0, {count - 1}))\n'
        "end\n"
    )


def seeded_ids_script(count: int, prefix: str = "/products/seed-") -> str:
    """A wrk Lua script requesting GET {prefix}000001 .. {prefix}{count:06d} uniformly at random.

    These are the seed ids of the scenarios (``seed-000001`` ..), so wrk asks for what Locust's
    `get_product` task asks for.
    """
    return (
        "math.randomseed(42)\n"
        "request = function()\n"
        f'  return wrk.format("GET", string.format("{prefix}%06d", math.random(1, {count})))\n'
        "end\n"
    )


def run_wrk(url: str, *, seconds: float = 4.0, connections: int = 50, threads: int = 1,
            cpus: Sequence[int] | None = None, lua: str | None = None) -> WrkResult:
    """Run wrk once for `seconds`; return its figures. Raise WrkError on any failure."""
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    if cpus:
        taskset = shutil.which("taskset")
        if taskset is None:
            raise WrkError("taskset not found (Debian package util-linux)")
        command[:0] = [taskset, "-c", ",".join(str(cpu) for cpu in cpus)]
    with tempfile.TemporaryDirectory(prefix="wrk-") as tmp:
        if lua is not None:
            script = Path(tmp) / "script.lua"
            script.write_text(lua)
            command += ["-s", str(script)]
        command.append(url)
        try:
            completed = subprocess.run(command, capture_output=True, text=True,
                                       timeout=seconds + 30, check=False)
        except subprocess.TimeoutExpired:
            raise WrkError(f"wrk did not finish within {seconds + 30:g}s") from None
    if completed.returncode != 0:
        raise WrkError(f"wrk exited {completed.returncode}: {completed.stderr.strip()[:300]}")
    return parse_wrk_output(completed.stdout)


def parse_wrk_output(text: str) -> WrkResult:
    """The figures of one `wrk --latency` report."""
    rate, total = _RATE.search(text), _TOTAL.search(text)
    percentiles = {p: float(v) * _UNITS_MS[unit] for p, v, unit in _PERCENTILE.findall(text)}
    if rate is None or total is None or "50" not in percentiles or "99" not in percentiles:
        raise WrkError(f"cannot parse wrk output: {text.strip()[:300]!r}")
    non_2xx = _NON_2XX.search(text)
    socket = _SOCKET_ERRORS.search(text)
    mean = _MEAN.search(text)
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        requests=int(total.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        mean_ms=float(mean.group(1)) * _UNITS_MS[mean.group(2)] if mean else math.nan,
    )
