"""Shared fixtures: the real product service, started as a subprocess on loopback, and the
real PostgreSQL and Redis servers (Debian packages) its `postgres` backend and cache use."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scenarios.runner.target import (
    Postgres,
    Server,
    ServerError,
    redis_command,
    start_postgres,
    start_redis,
)
from tests._tiers import TIER_MARKERS, PopenWatcher
from tests.processes import free_port as free_port  # re-exported: tests import it from here
from tests.processes import stop_process
from tests.processes import wait_until_healthy as wait_until_healthy

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunningService:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, timeout: float = 10.0) -> int:
        return stop_process(self.process, timeout)


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
            start_new_session=True,  # SIGKILL of the group takes its uvicorn workers too
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


# --- PostgreSQL and Redis: real servers, one of each per test session --------------------------
BACKENDS = ("memory", "postgres", "postgres+cache")


def _server_or_fail(start: Callable[[], Server], what: str) -> Server:
    try:
        return start()
    except ServerError as error:
        # Missing binaries are a set-up problem, never a reason to pass: `make test` installs
        # them (SYSTEM_PACKAGES). Outside CI a developer without them gets a loud skip.
        if os.environ.get("CI") or "not installed" not in str(error):
            pytest.fail(f"{what}: {error}", pytrace=False)
        pytest.skip(f"{what} unavailable: {error} (make system-deps installs it)")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """A throwaway PostgreSQL on loopback (fsync off: the tests kill services, not machines)."""
    server = _server_or_fail(lambda: start_postgres(fsync=False), "PostgreSQL")
    assert isinstance(server, Postgres)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    """A throwaway Redis on loopback."""
    server = _server_or_fail(start_redis, "Redis")
    yield server
    server.stop()


def new_database(postgres: Postgres) -> str:
    """A fresh, empty database on the session's server; its URL."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:16]}")


def backend_flags(backend: str, request: pytest.FixtureRequest) -> tuple[str, ...]:
    """Service flags for `backend` (see BACKENDS), with a fresh database and cache namespace."""
    if backend == "memory":
        return ("--store", "memory")
    postgres: Postgres = request.getfixturevalue("postgres_server")
    flags: tuple[str, ...] = ("--store", "postgres", "--database-url", new_database(postgres))
    if backend == "postgres+cache":
        flags += ("--cache-url", fresh_cache_url(request.getfixturevalue("redis_server")))
    return flags


def fresh_cache_url(redis: Server) -> str:
    """A Redis database (1-15, in turn, counted by the server itself) flushed for one service:
    services alive at the same time never share cached pages."""
    number = int(redis_command(redis.port, "INCR", "loadbench-tests:next-db")[1:].strip())
    db = number % 15 + 1
    payload = f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n"
    with socket.create_connection(("127.0.0.1", redis.port), 2) as sock:
        sock.sendall(payload.encode())
        reply = b""
        while reply.count(b"\r\n") < 2:
            reply += sock.recv(1024)
    return redis.url.rsplit("/", 1)[0] + f"/{db}"


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One service per test module, access log off (memory; tests/service/ runs every backend)."""
    service = start_service(("--no-access-log",), tmp_path_factory.mktemp("service"))
    try:
        yield service.url
    finally:
        service.stop()


# --- tiers: a test carries the marker of what it starts (tests/_tiers.py) ------------------------
_WATCHER = PopenWatcher()

# --- one client calibration per class and placement for the session's sweeps -------------------
# A sweep calibrates each user class against its own service before its first point (about 3 s
# each; scenarios/runner/generator/_calibration.py). What a test sweep measures does not depend
# on which sweep of the session measured that floor on this machine, so the sweeps of one session
# share it (the runner reads this test-only variable). tests/scenarios/test_sweep_run.py's
# test_layout_schema_and_evidence runs without it: the calibration itself stays tested live.
CALIBRATION_CACHE_ENV = "LOADBENCH_TEST_CALIBRATION_CACHE"
_CALIBRATION_CACHE: list[str] = []


def without_calibration_cache() -> dict[str, str]:
    """The environment for a sweep that must calibrate for itself."""
    return {key: value for key, value in os.environ.items() if key != CALIBRATION_CACHE_ENV}


def pytest_sessionstart(session: pytest.Session) -> None:
    _WATCHER.install()
    if CALIBRATION_CACHE_ENV not in os.environ:
        folder = tempfile.mkdtemp(prefix="loadbench-calibration-")
        _CALIBRATION_CACHE.append(folder)
        os.environ[CALIBRATION_CACHE_ENV] = folder


def pytest_sessionfinish(session: pytest.Session) -> None:
    _WATCHER.uninstall()
    for folder in _CALIBRATION_CACHE:
        os.environ.pop(CALIBRATION_CACHE_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The Terraform and container tests first (a stable sort): the longest modules, so that
    under pytest-xdist (make test's first run) they start at once instead of ending last."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("terraform")
               or item.get_closest_marker("container") else 1)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    markers = [mark.name for mark in item.iter_markers() if mark.name in TIER_MARKERS]
    _WATCHER.start(markers)
    if ("load" in markers and item.get_closest_marker("any_cpu") is None
            and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1):
        # verdicts depend on the CPU a run gets: a live-load test never overlaps another, unless
        # it is marked any_cpu (what it asserts does not depend on the CPU its runs get)
        pytest.fail("a live-load test runs alone: select the load tier without -n, or mark "
                    "the test any_cpu (make test runs those together)", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    if call.when == "teardown":
        problems = _WATCHER.finish()
        if problems:
            report = outcome.get_result()  # type: ignore[attr-defined]
            report.outcome = "failed"
            report.longrepr = "\n".join(problems)
