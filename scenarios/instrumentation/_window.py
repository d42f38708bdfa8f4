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
"""

from __future__ import annotations

import time
from typing import Any

CLOSED_AT: dict[str, float] = {}  # "at": epoch seconds the window closed in this process


def _ignore(*_args: Any, **_kwargs: Any) -> None:
    return None


def install(environment: Any, runner: Any, listeners: tuple[Any, ...] = ()) -> None:
    """Close the window at ``test_stopping``: freeze ``runner.stats`` and drop ``listeners``
    (callables registered on the ``request`` event) from the event."""
    if runner is None:
        return

    removed: list[Any] = []

    def close(**_kwargs: Any) -> None:
        if "at" in CLOSED_AT:
            return
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

    def reopen(**_kwargs: Any) -> None:  # a new test in the same process (the web UI)
        CLOSED_AT.clear()
        stats = runner.stats
        for name in ("log_request", "log_error"):
            stats.__dict__.pop(name, None)
        while removed:
            environment.events.request.add_listener(removed.pop())

    environment.events.test_stopping.add_listener(close)
    environment.events.test_start.add_listener(reopen)
