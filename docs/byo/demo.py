"""``make byo-demo``: pypiserver on gunicorn, swept with its own locustfile, then the report.

Starts gunicorn (one worker, eight threads, on CPU 0) serving 40 demo projects of two files
each from a scratch directory, runs ``python -m scenarios.sweep --config docs/byo/sweep.toml``
against it with ``--server-metrics`` and ``--service-pid``, stops it, and writes the report of
``results/latest``. Exit status: the sweep's (0 all valid, 1 some point not valid), or 2.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_packages(directory: Path) -> None:
    for project in range(PROJECTS):
        for version in ("1.0", "1.1"):
            (directory / f"demo_{project}-{version}.tar.gz").write_bytes(os.urandom(4096))


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"byo-demo: gunicorn exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"byo-demo: {url} did not answer in {timeout:g}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results", help="parent folder of the sweep")
    options, sweep_args = parser.parse_known_args()  # anything else goes to the sweep
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="byo-demo-") as scratch:
        packages = Path(scratch)
        make_packages(packages)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT / "docs" / "byo"),
             "pypi_app:app", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--threads", "8", "--log-level", "warning"],
            env={**os.environ, "PYPI_ROOT": str(packages)}, stdin=subprocess.DEVNULL,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus[:1])) if len(cpus) > 1 else None)
        try:
            wait_for(f"{url}/simple/", server)
            print(f"byo-demo: pypiserver on gunicorn at {url} (pid {server.pid}, CPU {cpus[0]})")
            status = subprocess.call(
                [sys.executable, "-m", "scenarios.sweep", "--config",
                 str(ROOT / "docs" / "byo" / "sweep.toml"), "--host", url,
                 "--server-metrics", f"{url}/metrics", "--service-pid", str(server.pid),
                 *(["--generator-cpus", ",".join(map(str, cpus[1:]))] if len(cpus) > 1 else []),
                 "--out", options.out, *sweep_args], cwd=ROOT)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if status > 1:
        return status
    report = subprocess.run([sys.executable, "-m", "analysis", "report",
                             str(Path(options.out) / "latest")],
                            cwd=ROOT, capture_output=True, text=True)
    if report.returncode != 0:
        print(report.stderr.strip(), file=sys.stderr)
        return report.returncode
    print(f"byo-demo: report: {report.stdout.strip()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
