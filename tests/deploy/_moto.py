"""A moto server on a free loopback port, and boto3 clients that talk to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

REGION = "us-east-1"
# moto accepts any credentials; these keep boto3 and terraform away from real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def env(self) -> dict[str, str]:
        """Environment for a boto3 process that talks to this server."""
        return {"AWS_ENDPOINT_URL": self.url, **CREDENTIALS}

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# IAM's AWS-managed policies exist only when loaded; every ECS service reports one running task,
# so that terraform's wait_for_steady_state sees the services stable (moto starts no container).
MOTO_ENV = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ECS_SERVICE_RUNNING": "1"}


def start_moto(log_dir: Path, timeout: float = 30.0) -> MotoServer:
    """Start `moto_server` from this venv on 127.0.0.1 and wait until it answers."""
    moto_server = Path(sys.executable).parent / "moto_server"
    port = _free_port()
    log_path = log_dir / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **MOTO_ENV},
        )
    server = MotoServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited early: {log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{server.url}/moto-api/", timeout=1):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"moto_server on {server.url} did not answer within {timeout}s")


@dataclass
class RegionalMoto:
    """A moto server seen from one region (the stack under test may live outside us-east-1)."""

    server: MotoServer
    region: str

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, service: str) -> Any:
        return self.server.client(service, self.region)

    def env(self) -> dict[str, str]:
        return self.server.env()
