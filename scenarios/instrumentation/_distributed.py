"""Keep a master's statistics exact to the measured window when workers generate the load.

A Locust 2.47 worker sends its statistics to the master every 3 s (``WORKER_REPORT_INTERVAL``),
so without help a master-side stats reset (``POST /stats/reset``) still receives samples the
workers took before it, and a stop loses the samples taken since the last report. This module
makes a master forward its stats resets to the workers (each drops what it has not yet
reported): the web UI's ``reset_stats`` event, and the reset ``--reset-stats`` makes when every
user is spawned. Each worker also sends a final report when its test stops (before it tells the
master it stopped, so the master has every sample once its ``/stop`` returns).

Forwarding alone leaves a race: a report a worker sent before it received the reset can reach
the master after the master's own reset, and would count pre-window (ramp) samples. So every
reset carries an epoch number, each worker tags its reports with the last epoch it received, and
the master discards the samples of any report tagged older than the reset it forwarded to that
worker (the report's user counts still apply).
"""

from __future__ import annotations

import logging
from typing import Any

from locust.stats import StatsEntry

RESET_MESSAGE = "scenarios_reset_stats"
EPOCH_KEY = "scenarios_reset_epoch"

logger = logging.getLogger("scenarios")


def install_on_worker(runner: Any) -> None:
    """Let the master reset this worker's unreported statistics; tag reports with the epoch."""
    epoch = [0]

    def reset(environment: Any, msg: Any, **_kwargs: Any) -> None:
        runner.stats.reset_all()
        runner.exceptions = {}
        epoch[0] = int(msg.data or 0)
        logger.info("scenarios: stats reset by the master (epoch %d)", epoch[0])

    def tag(data: dict[str, Any], **_kwargs: Any) -> None:
        data[EPOCH_KEY] = epoch[0]

    runner.register_message(RESET_MESSAGE, reset)
    runner.environment.events.report_to_master.add_listener(tag)


def install_on_master(environment: Any, runner: Any) -> None:
    """Forward every stats reset to the workers: the web UI's, and ``--reset-stats``'s."""
    epoch = [0]
    required: dict[str, int] = {}  # worker id -> the epoch its reports must carry from now on

    def forward_reset(**_kwargs: Any) -> None:
        epoch[0] += 1
        for client in runner.clients.all:
            required[client.id] = epoch[0]
        runner.send_message(RESET_MESSAGE, epoch[0])

    def reset_after_ramp(**_kwargs: Any) -> None:
        if environment.reset_stats:  # the master resets itself now; a worker only if it
            forward_reset()  # was started with --reset-stats too, which it need not be

    def drop_stale(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
        sent = data.get(EPOCH_KEY)
        if sent is None or sent >= required.get(client_id, 0):
            return
        dropped = data["stats_total"].get("num_requests", 0) if data.get("stats_total") else 0
        data["stats"] = []
        data["errors"] = {}
        data["stats_total"] = StatsEntry(runner.stats, "Aggregated", "").serialize()
        logger.info("scenarios: dropped a report of %d requests that %s sent before the reset",
                    dropped, client_id)

    environment.events.reset_stats.add_listener(forward_reset)
    environment.events.spawning_complete.add_listener(reset_after_ramp)
    # Before Locust's own listener adds the report to the master's statistics.
    environment.events.worker_report._handlers.insert(0, drop_stale)


def flush_worker_stats(runner: Any) -> None:
    """Send this worker's unreported statistics now (at test stop)."""
    send = getattr(runner, "_send_stats", None)  # WorkerRunner's own reporter, Locust 2.x
    if send is None:
        return
    try:
        send()
    except Exception as error:  # a lost final report must not break the stop
        logger.warning("scenarios: final stats report to the master failed: %s", error)
