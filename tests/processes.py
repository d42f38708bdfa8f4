"""The tests' process helpers: a free port, a service healthy or not, a process stopped for sure.

Built on the runner's own (``scenarios.runner.processes``), so that a test waits and stops the
way the runner does; ``tests/conftest.py`` re-exports them for the tests that import from there.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from typing import Any

from scenarios.runner.processes import (
    NotReady,
    ProcessExited,
    free_port,
    port_open,
    stop_process,
    wait_until_ready,
)

__all__ = ["free_port", "port_open", "stop_process", "wait_until_healthy"]


def wait_until_healthy(url: str, process: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    """Return once ``url``/health answers 200; RuntimeError if ``process`` exits first or the
    timeout passes."""
    def healthy() -> None:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            if response.status != 200:
                raise urllib.error.URLError(f"/health answered {response.status}")

    try:
        wait_until_ready(healthy, process, timeout, interval=0.05,
                         retry_on=(urllib.error.URLError, ConnectionError, TimeoutError))
    except ProcessExited as exc:
        raise RuntimeError(f"service exited early with code {exc.returncode}") from None
    except NotReady:
        raise RuntimeError(f"service at {url} not healthy after {timeout}s") from None
