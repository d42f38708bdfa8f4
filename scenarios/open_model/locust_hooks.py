"""Wire the open model into a Locust process through its events (no Locust class is wrapped).

- ``init``: on a local runner or a master, Locust's user count becomes the pool (``--max-users``,
  else ``--users``, else the default) and the spawn rate, when not given, spawns it in 1 s;
  the resolved pool is written back to ``--max-users`` so the master forwards it to workers.
- ``test_start`` (after the locustfile's own listener, which set the mix's tasks): each user
  class's tasks become one ``ArrivalTasks`` task set holding those tasks, whose ``on_start``
  and ``wait_time`` are the pool's gate: every iteration (one task of the mix) waits for an
  arrival. The task functions receive the task set, whose ``client`` is the user's.
- ``spawning_complete``: each generating process (local runner or worker) starts its own
  schedule: its share of the rate is its users over the pool (Locust spreads the users evenly,
  so the shares add up to 1), its seed comes from ``--arrival-seed`` and its worker index.
- ``request`` (a generating process, only while an open-model test runs: a closed run pays
  nothing per request): each response's latency from its intended start, and its service time.
- ``test_stopping``/``test_stop``: the schedule stops, the evidence is written (and a worker
  sends it to its master), and one summary line is logged, with a warning when arrivals were
  dropped or the pool is smaller than Little's law needs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust import TaskSet, User
from locust.runners import MasterRunner, WorkerRunner

from scenarios.open_model import evidence
from scenarios.open_model.executor import INTENDED, LAG, POOL, SERVICE
from scenarios.open_model.options import OpenModelConfig, add_arguments, resolve
from scenarios.open_model.schedule import ScheduleError, arrival_offsets, process_seed
from scenarios.options import stop_test

logger = logging.getLogger("scenarios")

OPEN_MODEL_MESSAGE = "scenarios_open_model"
ROUTE = "/scenarios/open-model"


@dataclass
class _State:
    config: OpenModelConfig | None = None
    share: float = 0.0
    local_users: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)  # a master's worker documents


STATE = _State()


def _role(runner: Any) -> str:
    if isinstance(runner, WorkerRunner):
        return "worker"
    return "master" if isinstance(runner, MasterRunner) else "local"


class ArrivalTasks(TaskSet):
    """Locust's own extension point: a task set whose iterations start at arrivals."""

    def on_start(self) -> None:
        POOL.on_start(self.user)  # the first iteration waits for an arrival too

    def wait_time(self) -> float:
        return POOL.gate()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:  # after the gate (0): no extra pass through the event loop
            gevent.sleep(seconds)


def arrival_tasks(tasks: list[Any]) -> type[TaskSet]:
    """An ``ArrivalTasks`` class holding ``tasks`` (a User's ``tasks`` list, with weights)."""
    return type("ArrivalTasks", (ArrivalTasks,), {"tasks": list(tasks)})


def _config_or_none(environment: Any) -> OpenModelConfig | None:
    options = environment.parsed_options
    if options is None:
        return None
    if not str(getattr(options, "max_users", "") or "").strip() and getattr(
            options, "num_users", None) and (options.arrival_rate or options.arrival_stages):
        options.max_users = str(options.num_users)  # -u N without --max-users: N is the pool
    return resolve(options)


def document(role: str) -> dict[str, Any]:
    """This process's evidence document (see evidence.py)."""
    config = STATE.config
    histograms = POOL.recorder.histograms
    series = {"intended_us": INTENDED, "service_us": SERVICE, "lag_us": LAG}
    profile = None if config is None else {
        "start_rate": config.profile.start_rate,
        "stages": [{"rate": s.rate, "seconds": s.seconds} for s in config.profile.stages],
        "distribution": config.distribution, "seed": config.seed,
        "max_backlog": config.max_backlog,
        "expected_latency_ms": config.expected_latency_s * 1000.0}
    return {
        "format": evidence.FORMAT, "version": evidence.FORMAT_VERSION, "role": role,
        "profile": profile, "share": STATE.share,
        "counts": {"intended": POOL.intended, "started": POOL.started, "dropped": POOL.dropped,
                   "backlogged": POOL.backlogged, "queued_at_stop": POOL.queued_at_stop,
                   "overdue_at_stop": POOL.overdue_at_stop},
        "pool": {"users": STATE.local_users,
                 "max_users": config.max_users if config else 0,
                 "peak_busy": POOL.peak_busy(STATE.local_users),
                 "default": bool(config and not config.max_users_given)},
        "window": {"start": POOL.window_start, "end": POOL.window_end},
        "histograms": {name: evidence.encode(histograms[key]) if key in histograms
                       else evidence.encode(evidence.new_histogram())
                       for name, key in series.items()},
    }


def _log_summary(role: str, doc: dict[str, Any]) -> None:
    figures = evidence.summary(doc)
    if not figures["intended"]:
        return

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    logger.info(
        "scenarios: open model (%s): %d intended, %d started, %d dropped (%.2f%%); "
        "schedule lag p99 %s; intended-start p99 %s; service time p99 %s", role,
        figures["intended"], figures["started"], figures["dropped"],
        100 * figures["dropped_share"], ms(figures["lag_p99_ms"]),
        ms(figures["intended_p99_ms"]), ms(figures["service_p99_ms"]))
    if figures["dropped"]:
        logger.warning(
            "scenarios: open model: %d of %d arrivals dropped: no free user among the %d of "
            "this process; raise --max-users (at least rate × latency from the intended start)",
            figures["dropped"], figures["intended"], STATE.local_users)


def install(environment: Any, runner: Any, web_ui: Any,
            user_classes: Sequence[type[User]]) -> None:
    """Hook the open model into this Locust process (a no-op until an arrival rate is set)."""
    if runner is None:
        return
    role = _role(runner)
    options = environment.parsed_options
    if role != "worker" and options is not None:
        try:
            config = _config_or_none(environment)
        except ScheduleError:
            config = None  # reported at test start, where the test can be stopped cleanly
        if config is not None:
            options.max_users = str(config.max_users)
            options.num_users = config.max_users
            if getattr(options, "spawn_rate", None) is None:
                options.spawn_rate = float(config.max_users)
    stats = runner.stats
    previous_reset = stats.reset_all

    def reset_all(*args: Any, **kwargs: Any) -> Any:
        result = previous_reset(*args, **kwargs)
        POOL.reset()
        STATE.received = []
        return result

    stats.reset_all = reset_all
    events = environment.events
    listening = [False]

    def listen(wanted: bool) -> None:
        """The request listener only while an open-model test runs: a closed one pays nothing
        per request (a generating process only; a master sees no requests)."""
        if wanted == listening[0] or role == "master":
            return
        if wanted:
            events.request.add_listener(POOL.on_request)
        else:
            events.request.remove_listener(POOL.on_request)
        listening[0] = wanted

    def on_test_start(environment: Any, **_kwargs: Any) -> None:
        try:
            STATE.config = _config_or_none(environment)
        except ScheduleError as error:
            STATE.config = None
            stop_test(environment, f"scenarios: {error}")
            return
        listen(STATE.config is not None)
        if STATE.config is None:
            return  # closed model: the locustfile set its tasks and wait_time
        for user_class in user_classes:
            mix = [task for task in user_class.tasks
                   if not (isinstance(task, type) and issubclass(task, ArrivalTasks))]
            user_class.tasks = [arrival_tasks(mix)]
        pacing = str(getattr(environment.parsed_options, "pacing", "none") or "none")
        if pacing.strip().lower() != "none":
            stop_test(environment, f"scenarios: --pacing {pacing} and an arrival rate exclude each "
                               "other: the open model paces by its arrivals (use --pacing none)")
            return
        config = STATE.config
        logger.info("scenarios: %s %s", role, config.describe())
        if config.max_users < config.minimum_pool:
            logger.warning(
                "scenarios: open model pool undersized: %d users < peak rate %g/s × expected "
                "latency %g ms = %d; arrivals will be dropped", config.max_users,
                config.profile.peak_rate, config.expected_latency_s * 1000, config.minimum_pool)

    def on_spawning_complete(**_kwargs: Any) -> None:
        config = STATE.config
        if config is None or role == "master":
            return
        STATE.local_users = int(runner.user_count)
        STATE.share = min(1.0, STATE.local_users / config.max_users) if config.max_users else 0.0
        if STATE.share <= 0:
            logger.warning("scenarios: open model: no users in this process, no arrivals")
            return
        index = int(getattr(runner, "worker_index", 0) or 0)
        seed = process_seed(config.seed, index)
        POOL.reset()
        POOL.max_backlog = config.max_backlog
        POOL.start(arrival_offsets(config.profile.scaled(STATE.share), config.distribution, seed))
        logger.info("scenarios: open model schedule started: %d users, share %.4f, seed %d",
                    STATE.local_users, STATE.share, seed)

    def on_test_stopping(**_kwargs: Any) -> None:
        if STATE.config is not None and role != "master":
            POOL.stop()

    def on_test_stop(**_kwargs: Any) -> None:
        if STATE.config is None or role == "master":
            return
        POOL.stop()
        doc = document(role)
        _log_summary(role, doc)
        evidence.write(doc)  # with $LOADBENCH_EVIDENCE_DIR (a local run, --processes workers)
        if role == "worker":
            try:
                runner.send_message(OPEN_MODEL_MESSAGE, doc)
            except Exception as error:  # a lost report must not break the stop
                logger.warning("scenarios: open-model report to the master failed: %s", error)

    events.test_start.add_listener(on_test_start)
    events.spawning_complete.add_listener(on_spawning_complete)
    events.test_stopping.add_listener(on_test_stopping)
    events.test_stop.add_listener(on_test_stop)
    if role == "master":
        def receive(environment: Any, msg: Any, **_kwargs: Any) -> None:
            STATE.received.append(msg.data)

        runner.register_message(OPEN_MODEL_MESSAGE, receive)
        if web_ui is not None:
            @web_ui.app.route(ROUTE)
            def open_model() -> dict[str, Any]:
                merged = evidence.merge(STATE.received)
                merged["summary"] = evidence.summary(merged)
                return merged


def register(events: Any, user_classes: Sequence[type[User]]) -> None:
    """Add the open model's options and hooks to a locustfile's user classes: call it once at
    the end of the locustfile (after its own listeners, so the gate replaces its wait_time)."""
    events.init_command_line_parser.add_listener(lambda parser, **_kw: add_arguments(parser))

    def on_init(environment: Any, runner: Any = None, web_ui: Any = None, **_kw: Any) -> None:
        install(environment, runner, web_ui, user_classes)

    events.init.add_listener(on_init)
