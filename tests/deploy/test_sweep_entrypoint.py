"""The sweep task's entrypoint (terraform/sweep.tf, ``local.sweep_script``) run with ``sh``.

What moto cannot run: the store reset through the admin route before the sweep, the sweep under
its maximum lifetime, and the Locust services scaled to 0 afterwards, whether the sweep passed,
failed, hit its lifetime or the reset failed. The script runs with the real ``sh``, ``timeout``
and python; only its surroundings are stand-ins: a fake ``boto3`` (records update_service calls),
a fake ``scenarios.remote_results`` (exits with a given status, or sleeps), and an HTTP server on
loopback in place of the internal load balancer (checks the token, records the reset body).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"
TOKEN = "0123456789abcdef-test-token"


def sweep_script() -> str:
    """``local.sweep_script`` as Terraform renders it (a ``<<-EOT`` heredoc: dedented)."""
    text = (TERRAFORM_DIR / "sweep.tf").read_text()
    body = re.search(r"sweep_script = <<-EOT\n(.*?)\n\s*EOT\n", text, re.DOTALL)
    assert body, "sweep.tf has no sweep_script heredoc"
    assert "${" not in body.group(1) and "%{" not in body.group(1)  # nothing interpolated
    return textwrap.dedent(body.group(1)) + "\n"


class _Admin(BaseHTTPRequestHandler):
    resets: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = self.path == "/admin/reset" and self.headers["Authorization"] == f"Bearer {TOKEN}"
        if ok:
            _Admin.resets.append(json.loads(body))
        self.send_response(200 if ok else 403)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}' if ok else b'{"error": "forbidden"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def admin() -> Iterator[str]:
    _Admin.resets = []
    server = HTTPServer(("127.0.0.1", 0), _Admin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _fakes(root: Path) -> None:
    (root / "boto3.py").write_text(textwrap.dedent("""\
        import json, os
        class _Ecs:
            def update_service(self, **kwargs):
                with open(os.environ["CALLS"], "a") as out:
                    out.write(json.dumps(kwargs) + "\\n")
        def client(name):
            assert name == "ecs"
            return _Ecs()
        """))
    (root / "scenarios").mkdir()
    (root / "scenarios" / "__init__.py").write_text("")
    (root / "scenarios" / "remote_results.py").write_text(textwrap.dedent("""\
        import os, sys, time
        print("sweep args:", sys.argv[1:])
        time.sleep(float(os.environ.get("FAKE_SWEEP_SECONDS", "0")))
        sys.exit(int(os.environ.get("FAKE_SWEEP_STATUS", "0")))
        """))


def _run(tmp_path: Path, service_url: str, **env: str) -> tuple[subprocess.CompletedProcess[str],
                                                                 list[dict[str, object]]]:
    fakes = tmp_path / "fakes"
    if not fakes.exists():
        fakes.mkdir()
        _fakes(fakes)
    calls = tmp_path / "calls.jsonl"
    calls.unlink(missing_ok=True)
    bindir = tmp_path / "bin"  # `python` as the image has it: this interpreter
    bindir.mkdir(exist_ok=True)
    if not (bindir / "python").exists():
        (bindir / "python").symlink_to(sys.executable)
    environment = {
        "PATH": f"{bindir}:{os.environ['PATH']}", "PYTHONPATH": str(fakes),
        "CALLS": str(calls), "CLUSTER": "loadbench",
        "GENERATOR_SERVICES": "loadbench-locust-master,loadbench-locust-worker",
        "MAX_LIFETIME_SECONDS": "30", "RESET_SEED": "1000", "ADMIN_TOKEN": TOKEN,
        "SERVICE_URL": service_url, **env,
    }
    result = subprocess.run(["sh", "-c", sweep_script(), "sweep", "--preset", "quick"],
                            env=environment, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, check=False)
    scaled = [json.loads(line) for line in calls.read_text().splitlines()] \
        if calls.exists() else []
    return result, scaled


STOPPED = [{"cluster": "loadbench", "service": name, "desiredCount": 0}
           for name in ("loadbench-locust-master", "loadbench-locust-worker")]


@pytest.mark.parametrize("status", [0, 1, 3])
def test_the_store_is_reset_and_the_generators_stop_whatever_the_sweep_did(
        tmp_path: Path, admin: str, status: int) -> None:
    result, scaled = _run(tmp_path, admin, FAKE_SWEEP_STATUS=str(status))
    assert result.returncode == status, result.stderr
    assert "sweep args: ['run', '--', '--preset', 'quick']" in result.stdout
    assert _Admin.resets == [{"seed": 1000}]
    assert scaled == STOPPED
    assert "Locust services scaled to 0" in result.stdout


def test_the_maximum_lifetime_stops_the_sweep_and_then_the_generators(
        tmp_path: Path, admin: str) -> None:
    result, scaled = _run(tmp_path, admin, MAX_LIFETIME_SECONDS="1", FAKE_SWEEP_SECONDS="20")
    assert result.returncode == 124  # timeout's status
    assert "stopped at its maximum lifetime (1 s)" in result.stderr
    assert scaled == STOPPED


def test_a_failed_reset_runs_no_sweep_and_still_stops_the_generators(
        tmp_path: Path, admin: str) -> None:
    result, scaled = _run(tmp_path, admin, ADMIN_TOKEN="wrong-token-wrong-token")
    assert result.returncode == 2
    assert "sweep args" not in result.stdout and _Admin.resets == []
    assert "the store reset failed" in result.stderr
    assert scaled == STOPPED


def test_always_on_generators_and_no_reset_are_left_alone(tmp_path: Path, admin: str) -> None:
    result, scaled = _run(tmp_path, admin, GENERATOR_SERVICES="", RESET_SEED="-1")
    assert result.returncode == 0 and scaled == [] and _Admin.resets == []
