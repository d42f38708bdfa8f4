"""Client-overhead calibration: one user per client class, no wait, ``GET /health`` only.

The sweep runner runs it once per sweep and user class
(scenarios/runner/generator/_calibration.py) to measure what the client itself costs on the same
loopback path: its latency floor (client-seen mean minus the service's own time for the same
requests) and its CPU per request. It accepts the scenario options (``--mix``, ``--pacing``, ...)
so that the runner's command line fits, and ignores them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from locust import FastHttpUser, HttpUser, constant, events, task

if __package__ in (None, ""):  # loaded by path (locust -f): make `scenarios` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenarios.options import add_scenario_arguments


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    add_scenario_arguments(parser)


class HttpProductUser(HttpUser):
    """HttpUser (python-requests) against the trivial endpoint."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/health")


class FastProductUser(FastHttpUser):
    """FastHttpUser (geventhttpclient) against the trivial endpoint."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/health")
