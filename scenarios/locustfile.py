"""Load scenarios for the product API: ``locust -f scenarios/locustfile.py --host URL``.

Two user classes with the same behaviour, ``HttpProductUser`` (HttpUser) and ``FastProductUser``
(FastHttpUser); name one as Locust's positional argument. Headless with neither named, both run
(half of the users each); with the web UI, ``--class-picker`` lets you choose. Options (also
``LOCUST_*`` variables and ``locust.conf`` keys, and fields of the web UI's start form):
``--mix``, ``--weights``, ``--pacing``, ``--seed-products``, ``--run-tag``; see
``scenarios/README.md``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from locust import FastHttpUser, HttpUser, events
from locust.runners import MasterRunner, WorkerRunner

if __package__ in (None, ""):  # loaded by path (locust -f): make `scenarios` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenarios import _pacing
from scenarios.instrumentation import register
from scenarios.mixes import DEFAULT_MIX, resolve_mix
from scenarios.options import (
    ScenarioOptionError,
    add_scenario_arguments,
    resolve_options,
    stop_test,
)
from scenarios.seeding import SeedError, seed_products
from scenarios.tasks import STATE as TASKS_STATE
from scenarios.tasks import task_list

logger = logging.getLogger("scenarios")

_DEFAULT_TASKS = task_list(resolve_mix(DEFAULT_MIX)[1])


class HttpProductUser(HttpUser):
    """The product scenario on Locust's HttpUser (python-requests)."""

    tasks = _DEFAULT_TASKS
    wait_time = _pacing.wait_time_for({"kind": "none"})


class FastProductUser(FastHttpUser):
    """The product scenario on Locust's FastHttpUser (geventhttpclient)."""

    tasks = _DEFAULT_TASKS
    wait_time = _pacing.wait_time_for({"kind": "none"})


PRODUCT_USERS: tuple[type[HttpProductUser] | type[FastProductUser], ...] = (
    HttpProductUser, FastProductUser)


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    add_scenario_arguments(parser)


# The suite's instrumentation (HDR latency, event-loop probe, requests in flight, the distributed
# stats-reset fix, CPU report, master routes, gc.freeze): the same code path as the plugin that
# adds it to any other locustfile (scenarios/loadbench_plugin.py). The tasks mark requests in
# flight themselves (scenarios/tasks.py), so Locust's clients are not wrapped for it as well.
register(events, tasks_mark_requests=True)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_kwargs: Any) -> None:
    """Apply the options (they may come from the web UI or the master), then seed once."""
    if environment.parsed_options is None:
        return
    try:
        config = resolve_options(environment.parsed_options)
    except ScenarioOptionError as error:
        stop_test(environment, f"scenarios: {error}")
        return
    tasks = task_list(config.weights)
    wait_time = _pacing.wait_time_for(config.pacing)
    for user_class in PRODUCT_USERS:
        user_class.tasks = tasks
        user_class.wait_time = wait_time
    TASKS_STATE.configure(config.seed_products, config.run_tag, config.payload_bytes)
    _pacing.LATENESS.reset()
    role = type(environment.runner).__name__
    logger.info("scenarios: %s mix %s %s, pacing %s, ids %s-N", role, config.mix,
                config.weights, config.pacing, TASKS_STATE.id_prefix)
    if isinstance(environment.runner, WorkerRunner):
        return  # the master seeded before it sent the workers their users
    host = environment.host or environment.parsed_options.host
    if not host:
        stop_test(environment, "scenarios: no host to seed: pass --host URL")
        return
    try:
        report = seed_products(host, config.seed_products, payload_bytes=config.payload_bytes)
    except SeedError as error:
        stop_test(environment, f"scenarios: seeding failed: {error}")
        return
    logger.info("scenarios: %d seed products ready (%d created, %d already there) in %.2f s",
                report.requested, report.created, report.already_there, report.seconds)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner) or environment.parsed_options is None:
        return
    pacing = environment.parsed_options.pacing
    if str(pacing).strip().lower().startswith("poisson"):
        logger.info("scenarios: %s", _pacing.LATENESS.summary())


# The open model (--arrival-rate): registered last, so that its test_start hook runs after
# _on_test_start and wraps the mix it set in the arrival-gated task set (scenarios/open_model/).
from scenarios.open_model import locust_hooks as _open_model  # noqa: E402

_open_model.register(events, PRODUCT_USERS)
