"""The delaying proxy (scenarios/runner/target/_delay_proxy.py) as a child process of the runner."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from scenarios.runner.processes import stop_process
from scenarios.runner.target._local_target import REPO_ROOT, TargetError, child_setup


@dataclass
class DelayProxy:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        stop_process(self.process, 5)


def start_proxy(upstream_url: str, delay_ms: float, jitter_ms: float,
                cpus: list[int] | None) -> DelayProxy:
    """A proxy to ``upstream_url`` on ``cpus``, outside the CPU envelope; its URL."""
    upstream = upstream_url.split("://", 1)[-1].rstrip("/")
    process = subprocess.Popen(
        [sys.executable, "-m", "scenarios.runner.target._delay_proxy", "--upstream", upstream,
         "--delay-ms", f"{delay_ms:g}", "--jitter-ms", f"{jitter_ms:g}"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=child_setup(cpus, envelope=False))
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.isdigit():
        process.kill()
        process.wait()
        raise TargetError(f"the delaying proxy did not start (exit {process.poll()})")
    return DelayProxy(process, f"http://127.0.0.1:{int(line)}")


def describe(delay_ms: float, jitter_ms: float, cpus: list[int] | None) -> dict[str, Any]:
    """run.json's rtt_delay block."""
    return {"delay_ms": delay_ms, "jitter_ms": jitter_ms, "cpus": cpus,
            "mechanism": "asyncio TCP proxy: client-to-service bytes held for the delay "
                         "(uniform jitter, in order), responses undelayed; outside the envelope"}
