"""Shared fixtures: the real product service, started as a subprocess on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"service at {url} not healthy after {timeout}s")


@dataclass
class RunningService:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_service(flags: tuple[str, ...], log_dir: Path,
                  env: dict[str, str] | None = None) -> RunningService:
    port = free_port()
    log_path = log_dir / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "target_service", "--host", "127.0.0.1",
             "--port", str(port), *flags],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    service = RunningService(f"http://127.0.0.1:{port}", port, process, log_path)
    try:
        wait_until_healthy(service.url, process)
    except RuntimeError:
        service.stop()
        raise RuntimeError(f"{log_path}: " + log_path.read_text(errors="replace")[-2000:]) from None
    return service


ServiceFactory = Callable[..., RunningService]


def _services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceFactory]:
    started: list[RunningService] = []

    def start(*flags: str, env: dict[str, str] | None = None) -> RunningService:
        service = start_service(flags, tmp_path_factory.mktemp("service"), env)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def service_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceFactory]:
    """Start `python -m target_service` on a free loopback port; stopped at teardown.

    Extra command-line flags are passed through, e.g. ``service_factory("--capacity", "10")``.
    """
    yield from _services(tmp_path_factory)


@pytest.fixture(scope="module")
def module_service_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceFactory]:
    """Like `service_factory`, but the services started live until the test module ends."""
    yield from _services(tmp_path_factory)


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One service per test module, access log off."""
    service = start_service(("--no-access-log",), tmp_path_factory.mktemp("service"))
    try:
        yield service.url
    finally:
        service.stop()
