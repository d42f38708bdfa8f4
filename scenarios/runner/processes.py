"""Child processes of the runner and the benchmarks: a free port, ready or not, stopped for sure.

One home for what the target (service, database, cache, delay proxy), the Locust fork server
and bench/ each did on their own:

- ``free_port()``: a loopback TCP port that was free a moment ago;
- ``wait_until_ready(probe, process, timeout)``: call ``probe`` until it answers, the process
  exits (``ProcessExited``) or the time is up (``NotReady``); the caller words its own error;
- ``port_open(port)``: a probe for a TCP listener;
- ``stop_process(process, timeout)``: SIGTERM (or another signal), then SIGKILL if it outlives the
  timeout, and reap it.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ProcessExited(RuntimeError):
    """The process ended before it was ready; ``returncode`` says how."""

    def __init__(self, returncode: int) -> None:
        super().__init__(f"exited with code {returncode}")
        self.returncode = returncode


class NotReady(TimeoutError):
    """The probe never answered within the timeout."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> None:
    """Return when something accepts a TCP connection on ``host:port``; OSError otherwise."""
    with socket.create_connection((host, port), timeout):
        return


def wait_until_ready(probe: Callable[[], T], process: subprocess.Popen[Any] | None,
                     timeout: float, interval: float = 0.05,
                     retry_on: tuple[type[BaseException], ...] = (OSError,)) -> T:
    """``probe()``'s first answer, retried every ``interval`` s while it raises ``retry_on``.

    Before each try: ``ProcessExited`` if ``process`` has ended. After a failed try past the
    deadline: ``NotReady``. The probe is tried at least once."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ProcessExited(process.returncode)
        try:
            return probe()
        except retry_on:
            if time.monotonic() > deadline:
                raise NotReady(f"not ready after {timeout:g}s") from None
        time.sleep(interval)


def stop_process(process: subprocess.Popen[Any], timeout: float,
         signum: int = signal.SIGTERM) -> int:
    """Send ``signum`` (if still running), wait up to ``timeout`` s, then SIGKILL; reaped."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
