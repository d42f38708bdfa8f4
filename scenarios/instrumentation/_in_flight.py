"""Requests in flight inside a Locust process, measured directly rather than inferred.

Little's law over completed requests (rps x mean response time) counts a request only once its
response arrives. A service that leaves some connections unserved for the whole window (a
saturated uvicorn on uvloop accepts one new connection per loop iteration) then looks like a
generator that kept its users outside their requests. This module measures what the law is
used to infer: each task marks its request's start and end, and the process integrates the
number of requests in flight over time, from Locust's stats reset (the window's start) to the
moment the test starts stopping (its end). What is still in flight then, and how old it is,
is recorded too: those requests are missing from every latency figure.

At ``test_stopping`` each process writes ``$LOADBENCH_EVIDENCE_DIR/in-flight-<role>-<pid>.json``:
``window_start``/``window_end`` (epoch s), ``request_seconds`` (the integral over the window),
``mean_in_flight``, ``started``/``completed`` (in the window), ``in_flight_at_end`` and
``ages_at_end_s`` (max, p50) of the requests still waiting, ``ages_s`` (every one's age,
ascending, at most the oldest ``MAX_AGES``: the censored requests), ``censored_request_seconds``
(their share of ``request_seconds``) and ``carried_in_request_seconds`` (the time before the
window of the requests that completed in it, which their response times include).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from time import perf_counter
from typing import Any

from gevent import getcurrent

from scenarios.instrumentation._loop_probe import EVIDENCE_ENV, instrumentation_on

MAX_AGES = 10000  # the ages written of the requests open at the end: the oldest this many


class InFlight:
    """The integral of requests in flight since the last reset, and the open requests' starts."""

    def __init__(self) -> None:
        # each request's start (perf_counter), by the greenlet (user) making it: a greenlet has
        # one request in flight at a time; a request made inside its own open one counts once
        self._open: dict[Any, float] = {}
        self._nested: dict[Any, int] = {}
        self.reset()

    # The hot path (twice per request) only stores a start, and adds a completed request's
    # duration up: no lock, no allocation but the dict entry, two clock reads. The integral and
    # the counts over the window follow from those sums when the document is written (_settle).
    def reset(self) -> None:
        now = time.perf_counter()
        self._origin_epoch = time.time() - now  # perf_counter -> epoch seconds
        self._window_start = now
        self._integral = 0.0
        self._started = 0
        self._completed = 0
        self._busy = 0.0  # the durations of the requests completed since the reset
        self._carried_in = 0.0  # before-the-window time of requests completed in the window
        self._carried = 0  # requests completed in the window that started before it

    def request(self) -> InFlight:
        """A request's in-flight mark: ``with TRACKER.request(): ...`` around it."""
        return self

    def __enter__(self) -> None:
        key = getcurrent()
        if key in self._open:
            self._nested[key] = self._nested.get(key, 0) + 1
            return
        self._open[key] = perf_counter()

    def __exit__(self, *_exc: object) -> None:
        end = perf_counter()
        key = getcurrent()
        if self._nested and self._unnest(key):
            return
        start = self._open.pop(key)
        self._completed += 1
        self._busy += end - start
        if start < self._window_start:
            self._carried += 1
            self._carried_in += self._window_start - start

    def _unnest(self, key: Any) -> bool:
        depth = self._nested.get(key, 0)
        if not depth:
            return False
        if depth == 1:
            del self._nested[key]
        else:
            self._nested[key] = depth - 1
        return True

    def _settle(self, now: float) -> None:
        """The integral of requests in flight and the requests started, from the window's start
        to ``now``: the completed requests' time inside the window plus the open ones'."""
        start = self._window_start
        opens = list(self._open.values())
        self._integral = (self._busy - self._carried_in
                          + sum(now - max(begun, start) for begun in opens))
        self._started = self._completed - self._carried + sum(1 for begun in opens
                                                               if begun >= start)

    def document(self) -> dict[str, Any]:
        now = time.perf_counter()
        self._settle(now)
        span = now - self._window_start
        ages = sorted(now - start for start in self._open.values())
        censored = sum(now - max(start, self._window_start) for start in self._open.values())
        return {
            "window_start": round(self._origin_epoch + self._window_start, 3),
            "window_end": round(self._origin_epoch + now, 3),
            "request_seconds": round(self._integral, 4),
            "mean_in_flight": round(self._integral / span, 3) if span > 0 else None,
            "started": self._started, "completed": self._completed,
            "in_flight_at_end": len(ages),
            "ages_at_end_s": {"max": round(ages[-1], 3), "p50": round(ages[len(ages) // 2], 3)}
            if ages else None,
            "ages_s": [round(age, 4) for age in ages[-MAX_AGES:]],  # oldest MAX_AGES, ascending
            "censored_request_seconds": round(censored, 4),
            "carried_in_request_seconds": round(self._carried_in, 4),
        }


TRACKER = InFlight()


def write_evidence(role: str) -> Path | None:
    """Write this process's figures into the evidence dir (if any); the file, or None."""
    directory = os.environ.get(EVIDENCE_ENV)
    if not directory or not instrumentation_on():
        return None
    path = Path(directory) / f"in-flight-{role}-{os.getpid()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(TRACKER.document()), encoding="utf-8")
    return path


def install(environment: Any, runner: Any, role: str) -> None:
    """Reset with Locust's statistics; write the evidence when the test starts stopping
    (``role``: local, master or worker, as the locustfile names it)."""
    if not instrumentation_on():
        return
    stats = runner.stats
    locust_reset_all = stats.reset_all

    def reset_all(*args: Any, **kwargs: Any) -> Any:
        result = locust_reset_all(*args, **kwargs)
        TRACKER.reset()
        return result

    stats.reset_all = reset_all
    if role != "master":  # a master runs no users
        # test_stopping fires before Locust stops the users, whose open requests are the point
        environment.events.test_stopping.add_listener(lambda **_kwargs: write_evidence(role))
