"""Keep a master's statistics exact to the measured window when workers generate the load.

A Locust 2.47 worker sends its statistics to the master every 3 s (``WORKER_REPORT_INTERVAL``),
so without help a master-side stats reset (``POST /stats/reset``) still receives samples the
workers took before it, and a stop loses the samples taken since the last report. This module
makes a master forward its stats resets to the workers (each drops what it has not yet
reported): the web UI's ``reset_stats`` event, and the reset ``--reset-stats`` makes when every
user is spawned. Each worker also sends a final report when its test stops (before it tells the
master it stopped, so the master has every sample once its ``/stop`` returns).
"""

from __future__ import annotations

import logging
from typing import Any

RESET_MESSAGE = "scenarios_reset_stats"

logger = logging.getLogger("scenarios")


def _reset_worker_stats(environment: Any, msg: Any, **_kwargs: Any) -> None:
    runner = environment.runner
    if runner is not None:
        runner.stats.reset_all()
        runner.exceptions = {}
        logger.info("scenarios: stats reset by the master")


def install_on_worker(runner: Any) -> None:
    """Let the master reset this worker's unreported statistics."""
    runner.register_message(RESET_MESSAGE, _reset_worker_stats)


def install_on_master(environment: Any, runner: Any) -> None:
    """Forward every stats reset to the workers: the web UI's, and ``--reset-stats``'s."""

    def forward_reset(**_kwargs: Any) -> None:
        runner.send_message(RESET_MESSAGE)

    def reset_after_ramp(**_kwargs: Any) -> None:
        if environment.reset_stats:  # the master resets itself now; a worker only if it
            forward_reset()  # was started with --reset-stats too, which it need not be

    environment.events.reset_stats.add_listener(forward_reset)
    environment.events.spawning_complete.add_listener(reset_after_ramp)


def flush_worker_stats(runner: Any) -> None:
    """Send this worker's unreported statistics now (at test stop)."""
    send = getattr(runner, "_send_stats", None)  # WorkerRunner's own reporter, Locust 2.x
    if send is None:
        return
    try:
        send()
    except Exception as error:  # a lost final report must not break the stop
        logger.warning("scenarios: final stats report to the master failed: %s", error)
