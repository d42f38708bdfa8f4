"""The suite's instrumentation, installed into one Locust process: one code path for every file.

``scenarios/locustfile.py`` (the product scenario) and ``scenarios/loadbench_plugin.py`` (the
plugin loaded beside any other locustfile: ``locust -f scenarios/loadbench_plugin.py,FILE``)
both call :func:`register` (exported by this package); whichever Locust imports first registers
the listeners, and they run once per process whatever the number of files:

- the HDR recorder (microsecond latency per endpoint, reset with Locust's stats);
- the event-loop probe (lateness per second, into the evidence dir);
- the requests-in-flight count (Little's law measured, not inferred);
- the stats-reset fix of a distributed run (a master forwards resets, workers flush at stop);
- the CPU report and the master's info routes of a master's web UI;
- ``gc.freeze()`` once every user is spawned.

Requests in flight: the product scenario's tasks mark each request's start and end themselves
(``scenarios/tasks.py``). For any other file, Locust has no "request started" event, so the start is
marked by wrapping the request methods of Locust's two HTTP clients (``HttpSession.request``,
``FastHttpSession.request``): every request an ``HttpUser`` or a ``FastHttpUser`` makes is
counted, whatever the file. A user class with a client of its own (gRPC, websockets, raw
sockets) that only fires ``events.request`` at completion is not counted: its in-flight figures
then cover the HTTP users only (the evidence file says which clients were wrapped).
"""

from __future__ import annotations

import functools
import gc
from typing import Any

from locust.runners import MasterRunner, WorkerRunner

from scenarios.instrumentation._auto_window import install as install_window_control
from scenarios.instrumentation._cpu_report import add_master_cpu_route, start_worker_cpu_refresh
from scenarios.instrumentation._distributed import (
    flush_worker_stats,
    install_on_master,
    install_on_worker,
)
from scenarios.instrumentation._hdr import RECORDER as HDR_RECORDER
from scenarios.instrumentation._hdr import install as install_hdr
from scenarios.instrumentation._in_flight import TRACKER
from scenarios.instrumentation._in_flight import install as install_in_flight
from scenarios.instrumentation._loop_probe import instrumentation_on
from scenarios.instrumentation._loop_probe import start as start_loop_probe
from scenarios.instrumentation._master_info import add_master_routes
from scenarios.instrumentation._window import install as close_window

_STATE: dict[str, Any] = {"registered": False, "wrap_clients": True, "wrapped": []}


def register(events: Any, *, tasks_mark_requests: bool = False) -> bool:
    """Add the instrumentation's listeners to Locust's ``events`` (once per process).

    ``tasks_mark_requests``: the caller's own tasks mark requests in flight (the product
    scenario), so Locust's HTTP clients must not be wrapped as well (each request would count
    twice). True when this call registered the listeners, False when an earlier one had.
    """
    if tasks_mark_requests:
        _STATE["wrap_clients"] = False
    if _STATE["registered"]:
        return False
    _STATE["registered"] = True
    events.init.add_listener(_on_init)
    events.spawning_complete.add_listener(_on_spawning_complete)
    events.test_stop.add_listener(_on_test_stop)
    return True


def role_of(runner: Any) -> str:
    """local, master or worker."""
    if isinstance(runner, WorkerRunner):
        return "worker"
    return "master" if isinstance(runner, MasterRunner) else "local"


def _on_init(environment: Any, runner: Any = None, web_ui: Any = None, **_kwargs: Any) -> None:
    install(environment, runner, web_ui)


def install(environment: Any, runner: Any, web_ui: Any = None) -> None:
    """Install every part of the instrumentation into this process (Locust's init event)."""
    install_hdr(environment, runner, web_ui)
    # the window closes when Locust starts stopping: Locust's stats and the HDR recorder stop
    # counting (instrumentation on or off: the counts must be the window's either way)
    close_window(environment, runner, (HDR_RECORDER.record,))
    if runner is not None:
        role = role_of(runner)
        start_loop_probe(role)  # event-loop lateness, per second, into the evidence dir
        install_in_flight(environment, runner, role)  # requests in flight, for Little's law
        install_window_control(environment, runner, role)  # settle, then the window's end
        if _STATE["wrap_clients"] and role != "master" and instrumentation_on():
            wrap_http_clients()
    if isinstance(runner, WorkerRunner):
        start_worker_cpu_refresh(runner)
        install_on_worker(runner)
    if isinstance(runner, MasterRunner):
        install_on_master(environment, runner)
        if web_ui is not None:
            add_master_cpu_route(web_ui)
            add_master_routes(web_ui, environment)


def wrap_http_clients() -> list[str]:
    """Mark every request of Locust's HTTP clients in flight (once); the clients wrapped."""
    from locust.clients import HttpSession
    from locust.contrib.fasthttp import FastHttpSession

    for client in (HttpSession, FastHttpSession):
        name = f"{client.__module__}.{client.__qualname__}"
        if name in _STATE["wrapped"]:
            continue
        client.request = _counted(client.request)  # type: ignore[method-assign]
        _STATE["wrapped"].append(name)
    return list(_STATE["wrapped"])


def _counted(original: Any) -> Any:
    tracker = TRACKER.request()  # one context manager for every request (_in_flight.py)

    @functools.wraps(original)
    def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        with tracker:
            return original(self, *args, **kwargs)
    return request


def wrapped_clients() -> list[str]:
    """The clients whose requests are counted in flight by wrapping (none: the tasks mark)."""
    return list(_STATE["wrapped"])


def _on_spawning_complete(**_kwargs: Any) -> None:
    """The users and their sessions now live until the end: freeze them out of the cyclic
    collector, whose full collections otherwise stall the event loop (scenarios/README.md)."""
    gc.freeze()


def _on_test_stop(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        flush_worker_stats(environment.runner)
