"""A sweep driven through a Locust master started exactly as terraform/locust.tf starts it.

The master's and workers' arguments come from terraform/locust_commands.json.tftpl, the file
locust.tf renders for the ECS tasks (plus loopback-only bind addresses). The workers load the
real service through a recording proxy on loopback, which notes each request's User-Agent: every
request of an `http` point must come from python-requests (HttpUser) and none of a `fast` point.
The sweep must then be analysed by `python -m analysis report`. A master started without
--class-picker is refused before the first point.
"""

from __future__ import annotations

import http.client
import json
import os
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.processes import free_port, stop_process

pytestmark = [pytest.mark.load, pytest.mark.any_cpu]  # labels, files and requests seen

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMANDS = REPO_ROOT / "terraform" / "locust_commands.json.tftpl"
TINY = ["--ramp", "1s", "--duration", "3s", "--mixes", "read-heavy", "--seed-products", "50",
        "--repeats", "1"]


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        split = urlsplit(target)
        self.target = (split.hostname or "127.0.0.1", split.port or 80)
        self.seen: list[tuple[float, str]] = []  # (time, User-Agent) of each request
        self.lock = threading.Lock()


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Recorder

    def _forward(self) -> None:
        with self.server.lock:
            self.server.seen.append((time.time(), self.headers.get("User-Agent", "")))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(*self.server.target, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() in (
            "content-type", "content-length", "accept")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        upstream.close()
        self.send_response(response.status)
        self.send_header("Content-Type", response.getheader("Content-Type") or "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


def locust_arguments(web_port: int, master_port: int, csv_prefix: Path) -> dict[str, list[str]]:
    rendered = string.Template(COMMANDS.read_text()).substitute(
        locustfile="scenarios/locustfile.py", web_port=web_port, master_port=master_port,
        master_host="127.0.0.1", csv_prefix=str(csv_prefix))
    document = json.loads(rendered)
    return {"master": document["master"], "worker": document["worker"]}


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "locust", *args], cwd=REPO_ROOT,
                                stdout=out, stderr=subprocess.STDOUT)


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        stop_process(process, 15)


@pytest.fixture
def recorder(service_url: str) -> Iterator[_Recorder]:
    server = _Recorder(service_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _sweep(out: Path, master_url: str, host: str, *args: str,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scenarios.sweep", "--out", str(out), *TINY, "--master-host",
         master_url, "--expect-workers", "1", "--host", host, *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
        env=None if env is None else {**os.environ, **env})


# As the sweep task's environment names the service (terraform/sweep.tf), with CloudWatch out of
# reach: each point tries to read the service's CPU and records why it could not (the reader's
# own cases run against moto in tests/deploy/test_remote_service_metrics.py).
NO_CLOUDWATCH = {"CLUSTER": "loadbench", "SERVICE_NAME": "loadbench-service",
                 "SERVICE_METRICS_WAIT_S": "0", "AWS_REGION": "us-east-1",
                 "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}


def test_points_driven_through_the_terraform_master_are_labelled_right(
        tmp_path: Path, recorder: _Recorder) -> None:
    web, bind = free_port(), free_port()
    arguments = locust_arguments(web, bind, tmp_path / "master")
    loopback = ["--web-host", "127.0.0.1", "--master-bind-host", "127.0.0.1"]
    master = _start([*arguments["master"], *loopback], tmp_path / "master.log")
    worker = _start(arguments["worker"], tmp_path / "worker.log")
    host = f"http://127.0.0.1:{recorder.server_address[1]}"
    try:
        done = _sweep(tmp_path / "out", f"http://127.0.0.1:{web}", host,
                      "--user-classes", "http,fast", "--users", "2",
                      env={**NO_CLOUDWATCH, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})
    finally:
        _stop(worker, master)
    assert done.returncode in (0, 1), done.stderr
    sweep = (tmp_path / "out" / "latest").resolve()
    manifest = json.loads((sweep / "manifest.json").read_text())
    assert manifest["placement"]["remote_master"]["class_picker"] is True
    runs = {p.name: json.loads((p / "run.json").read_text()) for p in (sweep / "runs").iterdir()}
    assert sorted(runs) == ["fast-read-heavy-u0002-r1-p1", "http-read-heavy-u0002-r1-p1"]
    for run_id, run in runs.items():
        start, end = (datetime.fromisoformat(run["window"][k].replace("Z", "+00:00"))
                      .timestamp() for k in ("start", "end"))
        agents = [agent for t, agent in recorder.seen if start <= t <= end]
        assert len(agents) > 20, (run_id, len(agents))
        from_requests = sum("python-requests" in agent for agent in agents)
        expected = len(agents) if run_id.startswith("http") else 0
        assert from_requests == expected, (run_id, {a: agents.count(a) for a in set(agents)})
        run_dir = sweep / "runs" / run_id
        for name in ("locust.json", "locust_stats.csv", "locust_stats_history.csv", "cpu.csv"):
            assert (run_dir / name).is_file(), (run_id, name, run["remote"])
        history = (run_dir / "locust_stats_history.csv").read_text().splitlines()
        assert int(history[1].split(",")[0]) >= int(start) - 30  # this run's rows only
        served = sum(entry["num_requests"] for entry in json.loads(
            (run_dir / "locust.json").read_text()))
        assert served == run["requests"]["total"] or run["requests"]["total"] is None
    # A sweep through a master and an external worker, as tests/scenarios/test_sweep_run.py
    # once ran one of its own for (the same path: these are its assertions)
    assert manifest["target"]["master_host"] == f"http://127.0.0.1:{web}"
    fast = runs["fast-read-heavy-u0002-r1-p1"]
    assert fast["final"] is True and fast["exit_code"] is None and fast["cpu"]["service"] is None
    assert fast["requests"]["total"] > 100 and 2.5 <= fast["window"]["seconds"] <= 5
    assert "locust-worker-1" in fast["verdict"]["evidence"]["generator_cpu"]
    assert fast["remote"]["missing_files"] == {}
    read = fast["remote"]["service_utilisation"]
    assert (read["cluster"], read["service"], read["complete"]) == (
        "loadbench", "loadbench-service", False)
    assert read["error"] and read["cpu_percent"] is None
    assert any(w.startswith("the service's CPU could not be read from CloudWatch")
               for w in fast["verdict"]["warnings"])
    assert (sweep / "runs" / fast["run_id"] / "locust.html").is_file()
    # the worker's HDR histograms came back through the master's /scenarios/hdr route
    (hdr_file,) = (sweep / "runs" / fast["run_id"] / "evidence").glob("hdr-master-*.json")
    assert json.loads(hdr_file.read_text())["sources"] == 1
    assert fast["requests"]["latency_source"] == "hdr"
    assert abs(fast["requests"]["hdr_requests"] - fast["requests"]["total"]) <= (
        0.02 * fast["requests"]["total"])

    report = subprocess.run([sys.executable, "-m", "analysis", "report", str(sweep)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert report.returncode == 0, report.stderr
    assert (sweep / "report" / "index.html").stat().st_size > 1000


def test_a_master_without_the_class_picker_is_refused_before_the_first_point(
        tmp_path: Path, service_url: str) -> None:
    web, bind = free_port(), free_port()
    arguments = locust_arguments(web, bind, tmp_path / "master")
    without = [a for a in arguments["master"] if a != "--class-picker"]
    master = _start([*without, "--web-host", "127.0.0.1", "--master-bind-host", "127.0.0.1"],
                    tmp_path / "master.log")
    worker = _start(arguments["worker"], tmp_path / "worker.log")
    try:
        done = _sweep(tmp_path / "out", f"http://127.0.0.1:{web}", service_url,
                      "--user-classes", "http", "--users", "2")
    finally:
        _stop(worker, master)
    assert done.returncode == 2
    (line,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert "cannot label points correctly" in line and "--class-picker" in line, done.stderr
    assert not list((tmp_path / "out").glob("*/runs/*/run.json"))
