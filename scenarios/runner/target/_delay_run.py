"""The delaying proxy (scenarios/runner/target/_delay_proxy.py) as a child process of the runner."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runmodel.delays import DelaySpec
from scenarios.runner.processes import stop_process
from scenarios.runner.target._local_target import REPO_ROOT, TargetError, child_setup

MECHANISM = ("asyncio TCP proxy: client-to-service bytes held for a delay drawn from the "
             "distribution (seeded, in order per connection), responses undelayed; outside the "
             "envelope")


@dataclass
class DelayProxy:
    process: subprocess.Popen[bytes]
    url: str
    stats_path: Path | None = None

    def stop(self) -> None:
        stop_process(self.process, 5)

    def measured(self) -> dict[str, Any]:
        """What the stopped proxy wrote (its delays, lateness and CPU), or ``stats_error``."""
        if self.stats_path is None:
            return {"stats_error": "no stats file asked for"}
        try:
            stats = json.loads(self.stats_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return {"stats_error": f"the proxy wrote no stats ({exc.__class__.__name__}; exit "
                                   f"{self.process.returncode})"}
        stats.pop("distribution", None)  # describe() records it, from the same spec
        return stats if isinstance(stats, dict) else {"stats_error": "not a JSON object"}


def start_proxy(upstream_url: str, spec: DelaySpec, cpus: list[int] | None,
                stats_path: Path | None = None) -> DelayProxy:
    """A proxy to ``upstream_url`` on ``cpus``, outside the CPU envelope; it writes what it did
    to ``stats_path`` when stopped."""
    upstream = upstream_url.split("://", 1)[-1].rstrip("/")
    command = [sys.executable, "-m", "scenarios.runner.target._delay_proxy", "--upstream",
               upstream, "--delay", spec.value]
    if stats_path is not None:
        command += ["--stats", str(stats_path)]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=child_setup(cpus, envelope=False))
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.isdigit():
        process.kill()
        process.wait()
        raise TargetError(f"the delaying proxy did not start (exit {process.poll()})")
    return DelayProxy(process, f"http://127.0.0.1:{int(line)}", stats_path)


def describe(spec: DelaySpec, cpus: list[int] | None) -> dict[str, Any]:
    """run.json's rtt_delay block, before the proxy's own figures: the delay as applied."""
    return {"delay_ms": spec.mean_ms, "jitter_ms": spec.jitter_ms, "cpus": cpus,
            "distribution": spec.describe(), "mechanism": MECHANISM}
