"""One headless Locust run: the command line, pre-started processes, the log and the window."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from scenarios.instrumentation import CLOSED_MARKER, OPENED_MARKER, OPENING_MARKER
from scenarios.runner.processes import free_port
from scenarios.runner.target import REPO_ROOT, child_setup

WINDOW_START_MARKERS = ("All users spawned", "Spawning is complete")
RESET_MARKER = "Resetting stats"  # logged just before the reset that starts the window
WINDOW_END_MARKERS = ("--run-time limit reached", "Got SIGTERM signal", "Shutting down (exit code",
                      CLOSED_MARKER)
OUTPUT_DIR = ".locust-out"  # Locust writes here; the files are moved into the run dir when whole


class ForkedLocust:
    """One Locust process forked by the fork server; the parts of Popen the runner uses."""

    def __init__(self, server: LocustForkServer, pid: int, stdout: IO[bytes]) -> None:
        self.server = server
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        self.returncode = self.server.exit_codes.get(self.pid)
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        with self.server.changed:
            while self.pid not in self.server.exit_codes:
                if not self.server.alive or time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired(f"locust pid {self.pid}", timeout)
                self.server.changed.wait(min(0.5, max(0.01, deadline - time.monotonic())))
        self.returncode = self.server.exit_codes[self.pid]
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class LocustForkServer:
    """``python -m scenarios.runner.generator._locust_launcher``: Locust imported once, a fork per
    process."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scenarios.runner.generator._locust_launcher",
             str(theirs.fileno())],
            cwd=REPO_ROOT, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=child_setup(None, envelope=False))
        theirs.close()
        self.channel = ours
        self.exit_codes: dict[int, int] = {}
        self.changed = threading.Condition()
        self.pids: dict[int, int] = {}
        self.alive = True
        self._next_id = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._listen, name="locust-fork-server", daemon=True).start()

    def _listen(self) -> None:
        reader = self.channel.makefile("rb")
        for line in reader:
            message = json.loads(line)
            with self.changed:
                if "exit" in message:
                    self.exit_codes[int(message["pid"])] = int(message["exit"])
                else:
                    self.pids[int(message["id"])] = int(message["pid"])
                self.changed.notify_all()
        with self.changed:
            self.alive = False
            self.changed.notify_all()

    def fork(self, args: list[str], cpus: list[int] | None, timeout: float = 60.0,
             env: dict[str, str] | None = None) -> ForkedLocust:
        """Start one Locust with these arguments (after `locust`) on these CPUs, env added."""
        read_fd, write_fd = os.pipe()
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            message = json.dumps({"id": request_id, "argv": args, "cpus": cpus or [],
                                  "env": env or {}}) + "\n"
            try:
                socket.send_fds(self.channel, [message.encode()], [write_fd])
            finally:
                os.close(write_fd)
            deadline = time.monotonic() + timeout
            with self.changed:
                while request_id not in self.pids:
                    if not self.alive or time.monotonic() > deadline:
                        os.close(read_fd)
                        raise RuntimeError("the Locust fork server did not answer "
                                           f"(exit code {self.process.poll()})")
                    self.changed.wait(0.5)
                pid = self.pids.pop(request_id)
        return ForkedLocust(self, pid, os.fdopen(read_fd, "rb"))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.channel.shutdown(socket.SHUT_RDWR)
        self.channel.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def pin_process(pid: int, cpus: list[int]) -> None:
    """Every thread of the process onto the CPUs (threads started later inherit it)."""
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for thread in threads:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(thread, cpus)


@dataclass
class LocustOptions:
    locustfile: str
    host: str
    user_class: str  # Locust's class name, e.g. FastProductUser
    users: int
    spawn_rate: float
    run_time_s: float
    mix_args: list[str]  # ["--mix", NAME] or ["--weights", SPEC]
    pacing: str
    seed_products: int
    run_tag: str
    payload_bytes: int = 0  # --payload-bytes; 0 (small) leaves the command line as it was
    # False: a locustfile of the user's own (after the plugin in ``locustfile``), which takes
    # none of the product's options, only its own (``extra_args``)
    product: bool = True
    extra_args: list[str] = field(default_factory=list)
    # False: no locust.html (a scratch run whose report nobody reads: the calibration), which
    # Locust renders (~1 MB) after the window, inside the sweep's time
    html_report: bool = True


def scenario_args(options: LocustOptions) -> list[str]:
    """The scenario's options: the product's (mix, pacing, seeding, run tag, payload), or
    those a user's own locustfile defines, passed through."""
    if not options.product:
        return list(options.extra_args)
    return [*options.mix_args, "--pacing", options.pacing,
            "--seed-products", str(options.seed_products), "--run-tag", options.run_tag,
            *payload_args(options)]


def base_args(options: LocustOptions, out_dir: Path) -> list[str]:
    """The single-process (or master) command line, after `locust`."""
    prefix = out_dir / OUTPUT_DIR
    return [
        "-f", options.locustfile, "--headless", "--host", options.host,
        "-u", str(options.users), "-r", f"{options.spawn_rate:g}",
        "-t", f"{max(1, round(options.run_time_s))}s", "--reset-stats",
        "--csv", str(prefix / "locust"), "--csv-full-history",
        "--json-file", str(prefix / "locust"),
        *(["--html", str(prefix / "locust.html")] if options.html_report else []),
        *scenario_args(options), "--loglevel", "INFO", options.user_class,
    ]


def payload_args(options: LocustOptions) -> list[str]:
    """``--payload-bytes N`` for a non-default payload, else nothing."""
    return ["--payload-bytes", str(options.payload_bytes)] if options.payload_bytes else []


@dataclass
class LocustRun:
    """The processes of one run (1 = a single Locust; N > 1 = a master and N workers)."""

    run_dir: Path
    server: LocustForkServer
    names: list[str]  # "locust", or "locust-master" then "locust-worker-N"
    cpus: list[int] | None
    processes: list[tuple[str, ForkedLocust]] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0
    window_start: float | None = None
    window_end: float | None = None
    exit_code: int | None = None
    interrupted: bool = False
    env: dict[str, str] = field(default_factory=dict)  # added to every Locust process's
    on_edge: Callable[[str], None] | None = None  # called with "start" / "end" at the edges
    # the log lines that mark the window's start and the reset before it: Locust's own, or
    # those of a Locust process that opens the window itself (``settled_window``)
    start_markers: tuple[str, ...] = WINDOW_START_MARKERS
    reset_marker: str = RESET_MARKER
    _edges: set[str] = field(default_factory=set)
    _readers: list[threading.Thread] = field(default_factory=list)

    @property
    def main(self) -> ForkedLocust:
        return self.processes[0][1]

    def start(self, options: LocustOptions) -> None:
        (self.run_dir / OUTPUT_DIR).mkdir(parents=True, exist_ok=True)
        args = base_args(options, self.run_dir)
        worker_args: list[str] = []
        workers = len(self.names) - 1
        if workers:
            port = free_port()
            args[-1:-1] = ["--master", "--expect-workers", str(workers),
                           "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
            worker_args = ["-f", options.locustfile, "--worker", "--master-host", "127.0.0.1",
                           "--master-port", str(port), "--reset-stats",
                           *scenario_args(options), "--loglevel", "INFO", options.user_class]
        self.started_at = time.time()
        for index, name in enumerate(self.names):
            command = args if index == 0 else worker_args
            self.commands.append(["locust", *command])
            process = self.server.fork(command, self.cpus, env=self.env)
            self.processes.append((name, process))
            log_path = self.run_dir / OUTPUT_DIR / ("locust.log" if index == 0 else f"{name}.log")
            reader = threading.Thread(target=self._read_log, name=f"log-{name}", daemon=True,
                                      args=(process.stdout, log_path, index == 0))
            reader.start()
            self._readers.append(reader)

    def _read_log(self, stream: IO[bytes] | None, path: Path, watch: bool) -> None:
        if stream is None:
            return
        with path.open("wb") as log:
            for line in stream:
                log.write(line)
                if not watch:
                    continue
                text = line.decode(errors="replace")
                if self.window_start is None and self.reset_marker in text:
                    self._edge("start")
                if self.window_start is None and any(m in text for m in self.start_markers):
                    self.window_start = time.time()
                    self._edge("start")
                    log.flush()
                elif (self.window_start is not None and self.window_end is None
                      and any(m in text for m in WINDOW_END_MARKERS)):
                    self.window_end = time.time()
                    self._edge("end")

    def settled_window(self) -> None:
        """The Locust process opens the window once the ramp has settled, and closes it
        (scenarios/instrumentation/_auto_window.py): watch for its markers instead."""
        self.start_markers = (OPENED_MARKER,)
        self.reset_marker = OPENING_MARKER

    def _edge(self, edge: str) -> None:
        if self.on_edge is not None and edge not in self._edges:
            self._edges.add(edge)
            self.on_edge(edge)

    def poll(self) -> int | None:
        return self.main.poll() if self.processes else -1

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM to every Locust process (Locust then writes its stats), SIGKILL after grace."""
        self.interrupted = True
        for _, process in self.processes:
            process.send_signal(signal.SIGTERM)
        self.wait(grace_s)

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        for _, process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
        self.ended_at = time.time()
        if self.window_start is not None and self.window_end is None:
            self.window_end = self.ended_at
        for reader in self._readers:
            reader.join(timeout=5)
        self.exit_code = self.main.returncode if self.processes else None
        return self.exit_code

    def collect(self) -> list[str]:
        """Move Locust's files into the run directory (each rename is atomic)."""
        moved = []
        source = self.run_dir / OUTPUT_DIR
        for path in sorted(source.iterdir()):
            path.replace(self.run_dir / path.name)
            moved.append(path.name)
        with contextlib.suppress(OSError):
            source.rmdir()
        return moved
