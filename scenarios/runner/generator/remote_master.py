"""Drive an already running Locust master (with external workers) through its web UI's HTTP API.

Used by the sweep runner under ``--master-host`` when the load generators run elsewhere (on ECS,
a master service whose workers find it through service discovery). Imports nothing from Locust.
The endpoints are Locust 2.47's: ``GET /stats/requests`` (state, users, and per worker its
state, user count and ``cpu_usage``), ``POST /swarm`` (form fields ``user_count``, ``spawn_rate``,
``host``, ``run_time``, and any of the master's parsed options by their dest name, such as
``mix`` or ``pacing``: the master updates its options and sends them to the workers with the
spawn message), ``POST /stats/reset``, ``POST /stop``, and the downloads below.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scenarios.instrumentation import CONFIG_ROUTE, STATS_ROUTE

# What the master serves, and the names results/README.md gives those files in a run directory.
DOWNLOADS: dict[str, str] = {
    "/stats/requests/csv": "locust_stats.csv",
    "/stats/failures/csv": "locust_failures.csv",
    "/exceptions/csv": "locust_exceptions.csv",
    # served only when the master was started with --csv PREFIX --csv-full-history
    "/stats/requests_full_history/csv": "locust_stats_history.csv",
    "/stats/report?download=1": "locust.html",
    # the merged --json-file statistics (histograms), served by scenarios/locustfile.py
    STATS_ROUTE: "locust.json",
}
HISTORY_FILE = "locust_stats_history.csv"
SAMPLES_FILE = "remote_samples.json"
MASTER_CPU_ROUTE = "/scenarios/master-cpu"  # added by scenarios/locustfile.py on a master
# the workers' merged HDR histograms (scenarios/instrumentation/_hdr.py)
HDR_ROUTE = "/scenarios/hdr"
HDR_WAIT_S = 10.0


class RemoteMasterError(RuntimeError):
    """The master could not be driven: unreachable, too few workers, or it refused the swarm."""


def master_config(master_url: str) -> dict[str, Any]:
    """The master's options that labelling depends on; RemoteMasterError when it cannot label.

    A master must run scenarios/locustfile.py (which serves them), with ``--class-picker`` (or
    Locust ignores the swarm's user class and runs every class at every point) and with
    ``--csv PREFIX --csv-full-history`` (the per-second history of each run).
    """
    master = _Master(master_url, timeout=10.0)
    try:
        config = master.json("GET", CONFIG_ROUTE)
    except RemoteMasterError as error:
        raise RemoteMasterError(
            f"{master_url} does not serve {CONFIG_ROUTE} ({error}): start the master with "
            "-f scenarios/locustfile.py as terraform/locust_commands.json.tftpl does") from None
    needs = []
    if not config.get("class_picker"):
        needs.append("--class-picker (without it Locust ignores each point's user class, so "
                     "every point would run every class)")
    if not (config.get("csv_prefix") and config.get("csv_full_history")):
        needs.append("--csv PREFIX --csv-full-history (the per-second history of each run)")
    if needs:
        raise RemoteMasterError(f"{master_url}: the master cannot label points correctly; "
                                f"restart it with {' and '.join(needs)}")
    return dict(config)


@dataclass(frozen=True)
class WorkerSample:
    t: float  # seconds since the Unix epoch
    worker_id: str
    state: str
    user_count: int
    cpu_percent: float  # the worker's own report: percent of one core


@dataclass
class RemoteRunResult:
    """What one point driven on a remote master produced."""

    master_url: str
    swarm_at: float  # POST /swarm answered (epoch seconds)
    ramp_done_at: float  # the master reported every user spawned
    window_start: float  # POST /stats/reset answered: the stats cover only what follows
    window_end: float
    stopped_at: float
    interrupted: bool
    worker_samples: list[WorkerSample] = field(default_factory=list)
    master_cpu_samples: list[tuple[float, float]] = field(default_factory=list)
    stats_samples: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # results file name -> path
    missing: dict[str, str] = field(default_factory=dict)  # results file name -> why
    # Workers connected when the point started (at least the expected ones): the HDR merge
    # waits for this many, so a worker scaled up outside the sweep is not silently left out.
    registered_workers: int = 0

    @property
    def window_seconds(self) -> float:
        return self.window_end - self.window_start

    def cpu_rows(self) -> list[dict[str, Any]]:
        """Generator CPU samples in the shape of results/README.md's cpu.csv rows."""
        names = {w: f"locust-worker-{i}" for i, w in enumerate(
            dict.fromkeys(s.worker_id for s in self.worker_samples), start=1)}
        rows = [{"t": s.t, "role": "generator", "pid": None, "name": names[s.worker_id],
                 "cpu_percent": s.cpu_percent, "cpus": "",
                 "in_window": int(self.window_start <= s.t <= self.window_end)}
                for s in self.worker_samples]
        rows += [{"t": t, "role": "generator", "pid": None, "name": "locust-master",
                  "cpu_percent": cpu, "cpus": "",
                  "in_window": int(self.window_start <= t <= self.window_end)}
                 for t, cpu in self.master_cpu_samples]
        return sorted(rows, key=lambda row: (row["t"], row["name"]))


class _Master:
    def __init__(self, url: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> bytes:
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            body = error.read()[:200].decode(errors="replace")
            raise RemoteMasterError(f"{method} {self.url}{path}: {error.code} {body}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RemoteMasterError(f"{method} {self.url}{path}: {reason}") from None

    def json(self, method: str, path: str, form: dict[str, Any] | None = None) -> Any:
        body = self.request(method, path, form)
        try:
            return json.loads(body)
        except ValueError:
            raise RemoteMasterError(
                f"{method} {self.url}{path}: not JSON: {body[:120]!r}") from None


def _worker_samples(report: dict[str, Any], now: float) -> list[WorkerSample]:
    return [WorkerSample(now, str(w.get("id")), str(w.get("state")), int(w.get("user_count") or 0),
                         float(w.get("cpu_usage") or 0.0)) for w in report.get("workers", [])]


def _ready_workers(report: dict[str, Any]) -> int:
    return sum(1 for w in report.get("workers", []) if w.get("state") != "missing")


def wait_for_workers(master_url: str, expect_workers: int, timeout_s: float = 60.0,
                     stop_event: threading.Event | None = None) -> int:
    """Wait until the master has ``expect_workers`` connected workers; return how many it has."""
    master = _Master(master_url, timeout=5.0)
    deadline = time.monotonic() + timeout_s
    seen = 0
    while time.monotonic() < deadline:
        if stop_event is not None and stop_event.is_set():
            break
        seen = _ready_workers(master.json("GET", "/stats/requests"))
        if seen >= expect_workers:
            return seen
        time.sleep(0.5)
    raise RemoteMasterError(
        f"{master_url}: {seen} of {expect_workers} workers connected after {timeout_s:g} s")


def _rows_since(history: bytes, since: float) -> bytes:
    """The header and the rows of a Locust history CSV from ``since`` (epoch seconds) on."""
    lines = history.decode().splitlines(keepends=True)
    if not lines:
        return history
    kept = [line for line in lines[1:]
            if not line.split(",", 1)[0].isdigit() or int(line.split(",", 1)[0]) >= int(since)]
    return "".join([lines[0], *kept]).encode()


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _sleep_until(deadline: float, stop_event: threading.Event | None) -> bool:
    """Sleep until ``deadline`` (monotonic); False when stop_event was set first."""
    remaining = deadline - time.monotonic()
    if stop_event is None:
        time.sleep(max(remaining, 0.0))
        return True
    return not stop_event.wait(max(remaining, 0.0))


def run_remote_point(master_url: str, expect_workers: int, users: int, spawn_rate: float,
                     ramp_s: float, duration_s: float, target_host: str, options: dict[str, Any],
                     out_dir: Path, stop_event: threading.Event | None = None,
                     workers_timeout_s: float = 60.0) -> RemoteRunResult:
    """Run one point on a running master: swarm, ramp, reset stats, measure, stop, download.

    ``options`` are the locustfile's options by name (``{"mix": "read-heavy", "pacing": "none"}``;
    dashes or underscores). The master is also given a ``run_time`` of ramp + duration + 60 s, so
    that it stops by itself if this driver dies.
    """
    master = _Master(master_url, timeout=10.0)
    out_dir.mkdir(parents=True, exist_ok=True)
    registered = wait_for_workers(master_url, expect_workers, workers_timeout_s, stop_event)
    form: dict[str, Any] = {key.replace("-", "_"): value for key, value in options.items()}
    form.update(user_count=users, spawn_rate=spawn_rate, host=target_host,
                run_time=f"{int(ramp_s + duration_s + 60)}s")
    answer = master.json("POST", "/swarm", form)
    if not answer.get("success"):
        raise RemoteMasterError(f"{master_url}: swarm refused: {answer.get('message')}")
    result = RemoteRunResult(master_url, time.time(), 0.0, 0.0, 0.0, 0.0, False,
                             registered_workers=registered)
    has_master_cpu = True

    def sample() -> dict[str, Any]:
        nonlocal has_master_cpu
        report: dict[str, Any] = master.json("GET", "/stats/requests")
        now = time.time()
        result.worker_samples.extend(_worker_samples(report, now))
        result.stats_samples.append({
            "t": now, "state": report.get("state"), "user_count": report.get("user_count"),
            "total_rps": report.get("total_rps"), "current_rps": report.get("current_rps"),
            "fail_ratio": report.get("fail_ratio")})
        if has_master_cpu:
            try:
                cpu = master.json("GET", MASTER_CPU_ROUTE)["cpu_percent"]
                result.master_cpu_samples.append((now, float(cpu)))
            except (RemoteMasterError, KeyError, TypeError):
                has_master_cpu = False  # a master not running scenarios/locustfile.py
        return report

    try:
        # The ramp: until the master says every user is running (at least the nominal ramp).
        ramp_started = time.monotonic()
        ramp_deadline = ramp_started + ramp_s
        give_up = ramp_deadline + max(ramp_s, 10.0) + 5.0
        while True:
            report = sample()
            spawned = report.get("state") == "running" and report.get("user_count") == users
            if spawned and time.monotonic() >= ramp_deadline:
                break
            if time.monotonic() > give_up:
                raise RemoteMasterError(
                    f"{master_url}: ramp to {users} users not done after "
                    f"{time.monotonic() - ramp_started:.0f} s "
                    f"(state {report.get('state')}, {report.get('user_count')} users)")
            if not _sleep_until(time.monotonic() + 1.0, stop_event):
                result.interrupted = True
                break
        result.ramp_done_at = time.time()
        master.request("POST", "/stats/reset")
        result.window_start = time.time()
        window_deadline = time.monotonic() + duration_s
        next_sample = time.monotonic() + 1.0
        while not result.interrupted and time.monotonic() < window_deadline:
            if not _sleep_until(min(next_sample, window_deadline), stop_event):
                result.interrupted = True
                break
            if time.monotonic() >= next_sample:
                sample()
                next_sample += 1.0
        result.window_end = time.time()
    finally:
        master.request("POST", "/stop")
        result.stopped_at = time.time()
    for path, name in DOWNLOADS.items():
        try:
            body = master.request("GET", path)
            if name == HISTORY_FILE:  # a master of this suite keeps one point (its
                # _master_info.keep_history_per_point); another's covers every run since it started
                body = _rows_since(body, result.swarm_at)
            _write_atomic(out_dir / name, body)
            result.files[name] = str(out_dir / name)
        except RemoteMasterError as error:
            result.missing[name] = str(error)
    _fetch_hdr(master, max(expect_workers, registered), out_dir, result)
    _write_atomic(out_dir / SAMPLES_FILE, json.dumps(asdict(result), indent=1).encode())
    return result


def _fetch_hdr(master: _Master, expect_workers: int, out_dir: Path,
               result: RemoteRunResult) -> None:
    """The workers' HDR histograms, merged by the master, into ``evidence/``.

    Each worker sends its histograms when its test stops, so the driver polls until every
    expected worker's report has arrived (or ``HDR_WAIT_S``); a partial merge is recorded as
    missing rather than written (it would understate every count).
    """
    deadline = time.monotonic() + HDR_WAIT_S
    while True:
        try:
            document = master.json("GET", HDR_ROUTE)
        except RemoteMasterError as error:
            result.missing["evidence/hdr"] = str(error)
            return
        if int(document.get("sources") or 0) >= expect_workers:
            break
        if time.monotonic() > deadline:
            result.missing["evidence/hdr"] = (
                f"{document.get('sources')} of {expect_workers} workers sent HDR histograms")
            return
        time.sleep(0.25)
    name = f"evidence/hdr-master-{document.get('pid') or 0}.json"
    (out_dir / "evidence").mkdir(parents=True, exist_ok=True)
    _write_atomic(out_dir / name, json.dumps(document).encode())
    result.files[name] = str(out_dir / name)


def main(argv: list[str] | None = None) -> int:
    """``python -m scenarios.remote_master``: run one point on a running master."""
    parser = argparse.ArgumentParser(prog="python -m scenarios.remote_master",
                                     description=main.__doc__)
    parser.add_argument("--master-url", required=True, help="the master's web UI, http://HOST:8089")
    parser.add_argument("--expect-workers", type=int, default=1)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--host", required=True,
                        help="the service under test, as the workers see it")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a locustfile option, e.g. mix=read-heavy (repeatable)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the files")
    args = parser.parse_args(argv)
    options = dict(item.partition("=")[::2] for item in args.option)
    try:
        result = run_remote_point(args.master_url, args.expect_workers, args.users,
                                  args.spawn_rate, args.ramp, args.duration, args.host, options,
                                  args.out)
    except RemoteMasterError as error:
        print(f"remote master: {error}", file=sys.stderr)
        return 2
    print(f"window {result.window_seconds:.1f} s, files in {args.out}: {', '.join(result.files)}")
    return 130 if result.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
