"""Load scenarios for the product API: ``locust -f scenarios/locustfile.py --host URL``.

Two user classes with the same behaviour, ``HttpProductUser`` (HttpUser) and ``FastProductUser``
(FastHttpUser); name one as Locust's positional argument. Headless with neither named, both run
(half of the users each); with the web UI, ``--class-picker`` lets you choose. Options (also
``LOCUST_*`` variables and ``locust.conf`` keys, and fields of the web UI's start form):
``--mix``, ``--weights``, ``--pacing``, ``--seed-products``, ``--run-tag``; see
``scenarios/README.md``.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, HttpUser, events
from locust.runners import MasterRunner, WorkerRunner

if __package__ in (None, ""):  # loaded by path (locust -f): make `scenarios` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenarios import (
    _cpu_report,
    _distributed,
    _hdr,
    _in_flight,
    _loop_probe,
    _master_info,
    _pacing,
    _tasks,
)
from scenarios._options import (
    ScenarioOptionError,
    add_scenario_arguments,
    resolve_options,
)
from scenarios._seeding import SeedError, seed_products
from scenarios.mixes import DEFAULT_MIX, resolve_mix

logger = logging.getLogger("scenarios")

_DEFAULT_TASKS = _tasks.task_list(resolve_mix(DEFAULT_MIX)[1])


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


@events.init.add_listener
def _on_init(environment: Any, runner: Any = None, web_ui: Any = None, **_kwargs: Any) -> None:
    _hdr.install(environment, runner, web_ui)
    if runner is not None:
        role = ("worker" if isinstance(runner, WorkerRunner)
                else "master" if isinstance(runner, MasterRunner) else "local")
        _loop_probe.start(role)  # event-loop lateness, per second, into the evidence dir
        _in_flight.install(environment, runner, role)  # requests in flight, for Little's law
    if isinstance(runner, WorkerRunner):
        _cpu_report.start_worker_cpu_refresh(runner)
        _distributed.install_on_worker(runner)
    if isinstance(runner, MasterRunner):
        _distributed.install_on_master(environment, runner)
        if web_ui is not None:
            _cpu_report.add_master_cpu_route(web_ui)
            _master_info.add_master_routes(web_ui, environment)


def _stop_test(environment: Any, message: str) -> None:
    """Log one clear line and end the test: a headless run quits with exit code 2."""
    logger.error(message)
    runner = environment.runner
    options = environment.parsed_options
    if runner is None:
        return
    if options is not None and (options.headless or options.autostart):
        environment.process_exit_code = 2
        gevent.spawn(runner.quit)
    else:
        gevent.spawn(runner.stop)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_kwargs: Any) -> None:
    """Apply the options (they may come from the web UI or the master), then seed once."""
    if environment.parsed_options is None:
        return
    try:
        config = resolve_options(environment.parsed_options)
    except ScenarioOptionError as error:
        _stop_test(environment, f"scenarios: {error}")
        return
    tasks = _tasks.task_list(config.weights)
    wait_time = _pacing.wait_time_for(config.pacing)
    for user_class in PRODUCT_USERS:
        user_class.tasks = tasks
        user_class.wait_time = wait_time
    _tasks.STATE.configure(config.seed_products, config.run_tag, config.payload_bytes)
    _pacing.LATENESS.reset()
    role = type(environment.runner).__name__
    logger.info("scenarios: %s mix %s %s, pacing %s, ids %s-N", role, config.mix,
                config.weights, config.pacing, _tasks.STATE.id_prefix)
    if isinstance(environment.runner, WorkerRunner):
        return  # the master seeded before it sent the workers their users
    host = environment.host or environment.parsed_options.host
    if not host:
        _stop_test(environment, "scenarios: no host to seed: pass --host URL")
        return
    try:
        report = seed_products(host, config.seed_products, payload_bytes=config.payload_bytes)
    except SeedError as error:
        _stop_test(environment, f"scenarios: seeding failed: {error}")
        return
    logger.info("scenarios: %d seed products ready (%d created, %d already there) in %.2f s",
                report.requested, report.created, report.already_there, report.seconds)


@events.spawning_complete.add_listener
def _on_spawning_complete(**_kwargs: Any) -> None:
    """The users and their sessions now live until the end: freeze them out of the cyclic
    collector, whose full collections otherwise stall the event loop (scenarios/README.md)."""
    gc.freeze()


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        _distributed.flush_worker_stats(environment.runner)
    if isinstance(environment.runner, MasterRunner) or environment.parsed_options is None:
        return
    pacing = environment.parsed_options.pacing
    if str(pacing).strip().lower().startswith("poisson"):
        logger.info("scenarios: %s", _pacing.LATENESS.summary())
