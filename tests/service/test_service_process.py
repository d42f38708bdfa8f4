"""The service as a process: command line, JSON log lines, access log switch, graceful SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from service_checks import new_product

if TYPE_CHECKING:
    from tests.conftest import ServiceFactory

REPO_ROOT = Path(__file__).resolve().parents[2]


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log, each parsed as one JSON object (fails on any other line)."""
    lines = path.read_text().splitlines()
    assert lines, f"{path} is empty"
    records = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) for record in records)
    return records


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "target_service", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=20,
                          env={**os.environ, **(env or {})}, check=False)


def test_help_names_every_option_and_variable() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for text in ("--host", "--port", "--workers", "--log-level", "--access-log",
                 "--no-access-log", "--capacity", "HOST", "PORT", "WORKERS", "LOG_LEVEL",
                 "ACCESS_LOG", "STORE_CAPACITY", "--store", "STORE", "--database-url",
                 "DATABASE_URL", "--cache-url", "CACHE_URL", "--db-pool-size", "DB_POOL_SIZE",
                 "--fast-reads", "FAST_READS", "--allow-split-memory", "ALLOW_SPLIT_MEMORY",
                 "--timeout-keep-alive", "TIMEOUT_KEEP_ALIVE", "--metrics-port", "METRICS_PORT"):
        assert text in result.stdout


@pytest.mark.parametrize(("args", "env", "named"), [
    (("--port", "abc"), {}, "--port"),
    (("--port", "70000"), {}, "--port"),
    (("--workers", "0"), {}, "--workers"),
    (("--capacity", "-3"), {}, "--capacity"),
    (("--log-level", "loud"), {}, "--log-level"),
    (("--bogus",), {}, "--bogus"),
    ((), {"PORT": "eighty"}, "PORT"),
    ((), {"ACCESS_LOG": "maybe"}, "ACCESS_LOG"),
    ((), {"STORE_CAPACITY": "0"}, "STORE_CAPACITY"),
    (("--store", "mysql"), {}, "--store"),
    (("--store", "postgres"), {}, "--database-url"),
    (("--store", "postgres", "--database-url", "mysql://x"), {}, "--database-url"),
    (("--cache-url", "redis://127.0.0.1:1/0"), {}, "--cache-url"),
    (("--workers", "2"), {}, "--allow-split-memory"),
    ((), {"WORKERS": "3"}, "--allow-split-memory"),
    ((), {"STORE": "postgres", "DATABASE_URL": "postgresql://u@h/db", "DB_POOL_SIZE": "0"},
     "DB_POOL_SIZE"),
    (("--timeout-keep-alive", "0"), {}, "--timeout-keep-alive"),
    ((), {"TIMEOUT_KEEP_ALIVE": "soon"}, "TIMEOUT_KEEP_ALIVE"),
    (("--metrics-port", "0"), {}, "--metrics-port"),
    (("--port", "9000", "--metrics-port", "9000"), {}, "--metrics-port"),
    ((), {"METRICS_PORT": "x"}, "METRICS_PORT"),
    ((), {"ADMIN_TOKEN": "too-short"}, "ADMIN_TOKEN"),
    ((), {"LOADBENCH_TEST_SERVICE_STALL": "1/5"}, "LOADBENCH_TEST_MODE"),
    ((), {"LOADBENCH_TEST_MODE": "1", "LOADBENCH_TEST_SERVICE_STALL": "5/1"},
     "LOADBENCH_TEST_SERVICE_STALL"),
    ((), {"LOADBENCH_TEST_MODE": "1", "LOADBENCH_TEST_SERVICE_STALL": "often"},
     "LOADBENCH_TEST_SERVICE_STALL"),
])
def test_bad_settings_are_one_line_and_exit_2(args: tuple[str, ...], env: dict[str, str],
                                              named: str) -> None:
    result = run_cli(*args, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_environment_alone_configures_the_service(tmp_path: Path) -> None:
    from tests.conftest import free_port, wait_until_healthy

    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "STORE_CAPACITY": "7",
           "LOG_LEVEL": "warning", "ACCESS_LOG": "false"}
    with (tmp_path / "service.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "target_service"], cwd=REPO_ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["capacity"] == 7
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C: also a clean exit, no traceback
        assert process.wait(timeout=15) == 0
    assert "Traceback" not in (tmp_path / "service.log").read_text()


def test_keep_alive_outlasts_uvicorns_default(tmp_path: Path) -> None:
    """TIMEOUT_KEEP_ALIVE=8: a connection idle for 6 s (past uvicorn's 5 s) still serves."""
    from tests.conftest import free_port, wait_until_healthy

    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "TIMEOUT_KEEP_ALIVE": "8",
           "LOG_LEVEL": "warning", "ACCESS_LOG": "false"}
    with (tmp_path / "service.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "target_service"], cwd=REPO_ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")
        assert connection.getresponse().read()
        assert connection.sock is not None
        local_address = connection.sock.getsockname()
        time.sleep(6)  # uvicorn's default would close the idle connection after 5 s
        connection.request("GET", "/health")
        response = connection.getresponse()
        assert response.status == 200 and response.read()
        assert connection.sock.getsockname() == local_address, "the connection was reopened"
        connection.close()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0


def test_logs_are_json_lines_with_access_log(service_factory: ServiceFactory) -> None:
    service = service_factory()
    httpx.get(f"{service.url}/products/absent-for-log")
    time.sleep(0.3)
    records = json_lines(service.log_path)
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert {"method": "GET", "path": "/products/absent-for-log", "status": 404}.items() \
        <= next(r for r in access if r["path"] == "/products/absent-for-log").items()
    assert any(r["message"] == "service ready" for r in records)


def test_no_access_log_means_no_request_lines(service_factory: ServiceFactory) -> None:
    for service in (service_factory("--no-access-log"),
                    service_factory(env={"ACCESS_LOG": "off"})):
        for _ in range(5):
            httpx.get(f"{service.url}/products")
        time.sleep(0.3)
        records = json_lines(service.log_path)
        assert not [r for r in records if r["logger"] == "uvicorn.access"]


def test_log_level_warning_is_quiet(service_factory: ServiceFactory) -> None:
    service = service_factory("--log-level", "warning")  # access lines are info: silenced too
    httpx.get(f"{service.url}/products")
    assert service.stop() == 0
    text = service.log_path.read_text()
    assert all(json.loads(line)["level"] in ("warning", "error", "critical")
               for line in text.splitlines())


def test_sigterm_completes_the_in_flight_request_and_exits_0(
        service_factory: ServiceFactory) -> None:
    service = service_factory()
    product = json.dumps(new_product("term")).encode()
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as connection:
        head = (f"POST /products HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(product)}\r\n\r\n").encode()
        connection.sendall(head + product[:10])  # the request is now in flight
        time.sleep(0.3)
        service.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert service.process.poll() is None, "exited with a request in flight"
        connection.sendall(product[10:])
        response = connection.recv(65536)
    assert response.startswith(b"HTTP/1.1 201 "), response
    assert service.process.wait(timeout=15) == 0
    records = json_lines(service.log_path)
    shutdown = [r for r in records if r["message"] == "shutdown complete"]
    assert shutdown and shutdown[0]["products"] == 1


def test_sigterm_with_two_workers_exits_0(service_factory: ServiceFactory) -> None:
    service = service_factory("--workers", "2", "--allow-split-memory", "--no-access-log")
    # both workers up (on a busy machine the second may still be starting when the first
    # answers; SIGTERM then reaches a worker that never logs "shutdown complete")
    deadline = time.monotonic() + 20
    while len({r["pid"] for r in json_lines(service.log_path)
               if r["message"] == "service ready"}) < 2:
        assert time.monotonic() < deadline, "the second worker did not start"
        time.sleep(0.05)
    assert httpx.get(f"{service.url}/health").status_code == 200
    assert service.stop() == 0
    records = json_lines(service.log_path)
    assert len([r for r in records if r["message"] == "shutdown complete"]) == 2
