"""The measured window closes when Locust starts stopping: what completes later counts nowhere.

Locust's run time ends the window; it then fires ``test_stopping`` and stops its users. Requests
that complete while the users stop (a relieved service answering starved connections, a
stopping user's last call) used to land in Locust's statistics and in the HDR histograms, which
are written at ``test_stop``, so the window's count and its tail took in requests answered
after it. At ``test_stopping`` this module closes the window in its process: Locust's
statistics stop logging requests and errors, and the HDR recorder is taken off the ``request``
event. A request still open then is *censored*: the in-flight count (``_in_flight.py``) records
it with its age, and the runner reports any percentile it could change as a lower bound.

On a worker the frozen statistics are what its final report sends; a master's statistics are the
sum of its workers' reports, so they close with them.

The edges are also written down, so that the service's own count of the same window can be read
after it (target_service/_completions.py counts responses by the millisecond they were sent):
when the window closes each process writes ``$LOADBENCH_EVIDENCE_DIR/window-<role>-<pid>.json``
with ``opened_at`` (epoch seconds of Locust's stats reset), ``closed_at`` (``test_stopping``)
and, for a lone process (role ``local``), ``requests`` and ``failures``: Locust's count at that
instant (a worker's statistics go to its master in parts, so it has none of its own).

Each edge is placed where this process has taken in every response that has arrived: the reset
and the close first wait (at most ``IDLE_WAIT_S``) until the event loop has nothing else pending
(``gevent.idle``). A service inside a CPU quota answers in bursts, one per period, and Locust
reads a burst over several milliseconds; an edge inside that reading would count, on Locust's
side of it, responses the service sent on the other (up to a burst: 3% of a 3 s window at
1,000 requests/s). At an idle loop no response waits unread, so the count Locust takes in and
the service's count by send time (target_service/_completions.py) have the same edges.
``open_idle`` and ``close_idle`` say whether the loop was reached idle and how long that took.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import gevent

from scenarios.instrumentation._loop_probe import EVIDENCE_ENV

CLOSED_AT: dict[str, float] = {}  # "at": epoch seconds the window closed in this process
OPENED_AT: dict[str, float] = {}  # "at": epoch seconds of the last stats reset in this process
IDLE: dict[str, dict[str, Any]] = {}  # "open"/"close": wait_idle's answer at that edge
IDLE_WAIT_S = 0.1  # at most one CFS period of the default envelope (100 ms)


def wait_idle(limit_s: float = IDLE_WAIT_S) -> dict[str, Any]:
    """Wait until this process's event loop has nothing pending (every response that arrived
    has been read), at most ``limit_s``: ``{"idle": reached, "waited_ms": ...}``."""
    started = time.perf_counter()
    reached = False
    try:
        with gevent.Timeout(limit_s, False):  # False: the block is left quietly at the limit
            gevent.idle()
            reached = True
    except Exception:  # called where it cannot wait (the hub): no waiting
        pass
    return {"idle": reached, "waited_ms": round(1000.0 * (time.perf_counter() - started), 3)}


def write_edges(role: str, stats: Any, edges: dict[str, Any] | None = None) -> Path | None:
    """Write this process's window edges (``edges``, else this process's: ``opened_at``,
    ``closed_at``, ``open_idle``, ``close_idle``) into the evidence dir (if any), with a lone
    process's count from ``stats``; the file, or None."""
    directory = os.environ.get(EVIDENCE_ENV)
    if edges is None:
        if "at" not in CLOSED_AT:
            return None
        edges = {"opened_at": OPENED_AT.get("at"), "closed_at": CLOSED_AT["at"],
                 "open_idle": IDLE.get("open"), "close_idle": IDLE.get("close")}
    if not directory:
        return None
    document: dict[str, Any] = {"role": role, "pid": os.getpid(), **edges}
    if role == "local":
        document.update(requests=stats.total.num_requests, failures=stats.total.num_failures)
    path = Path(directory) / f"window-{role}-{os.getpid()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def role_of(runner: Any) -> str:
    """local, master or worker (by the runner's class name: no Locust import here)."""
    name = type(runner).__name__
    return "worker" if name == "WorkerRunner" else "master" if name == "MasterRunner" else "local"


def _ignore(*_args: Any, **_kwargs: Any) -> None:
    return None


def install(environment: Any, runner: Any, listeners: tuple[Any, ...] = ()) -> None:
    """Close the window at ``test_stopping``: freeze ``runner.stats`` and drop ``listeners``
    (callables registered on the ``request`` event) from the event."""
    if runner is None:
        return

    removed: list[Any] = []
    role = role_of(runner)
    stats = runner.stats
    locust_reset_all = stats.reset_all

    def reset_all(*args: Any, **kwargs: Any) -> Any:  # --reset-stats: the window opens
        IDLE["open"] = wait_idle()  # with no response left unread
        result = locust_reset_all(*args, **kwargs)
        OPENED_AT["at"] = time.time()
        return result

    stats.reset_all = reset_all

    def close(**_kwargs: Any) -> None:
        if "at" in CLOSED_AT or "close" in IDLE:
            return
        IDLE["close"] = {"idle": False, "waited_ms": None}  # closing: a second call returns
        IDLE["close"] = wait_idle()  # the users still run: every arrived response is read
        CLOSED_AT["at"] = time.time()
        stats = runner.stats
        stats.log_request = _ignore  # RequestStats's two entry points for a finished request
        stats.log_error = _ignore
        for listener in listeners:
            try:
                environment.events.request.remove_listener(listener)
                removed.append(listener)
            except ValueError:  # not registered in this process (e.g. a master)
                pass
        with contextlib.suppress(OSError):  # lost evidence: the run goes on, the runner says so
            write_edges(role, stats)

    def reopen(**_kwargs: Any) -> None:  # a new test in the same process (the web UI)
        CLOSED_AT.clear()
        IDLE.clear()
        stats = runner.stats
        for name in ("log_request", "log_error"):
            stats.__dict__.pop(name, None)
        while removed:
            environment.events.request.add_listener(removed.pop())

    environment.events.test_stopping.add_listener(close)
    environment.events.test_start.add_listener(reopen)
