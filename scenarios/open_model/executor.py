"""The arrival-rate executor of one Locust process: a schedule greenlet hands arrivals to a
pre-allocated pool of users.

Each user of the pool waits in ``gate`` (the user class's ``wait_time``, and its ``on_start``
for the first iteration) until the schedule hands it an arrival: the intended time of one
iteration (one task of the mix). The schedule greenlet sleeps until each arrival is due and
gives it to the most recently freed user (LIFO: warm connections). When no user is free the
arrival waits in a backlog of at most ``max_backlog`` arrivals (0 by default, k6's semantics:
none), which the next freed user takes first, oldest first (wrk2's semantics: a late start,
measured); an arrival that finds the backlog full is dropped and counted. Nothing is queued
without bound. A schedule that fell behind (a busy
event loop) hands out each overdue arrival at once with its own intended time, so the lateness
is measured, never hidden.

Per iteration the user records its schedule lag (actual start − intended start); per request
the ``request`` listener records the latency from the intended start (now − intended, what a
user arriving then would have seen) and the service time (Locust's response time, from the
actual send). The hot path only counts integers in dicts (the HDR ``Recorder`` of
``scenarios.instrumentation``).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from gevent.hub import Waiter, get_hub
from greenlet import getcurrent

from scenarios.instrumentation import Recorder

logger = logging.getLogger("scenarios")

INTENDED = ("intended", "all")
SERVICE = ("service", "all")
LAG = ("lag", "arrivals")
# Locust's LOCUST_STATE_RUNNING/WAITING (locust.user.task), spelled out so that importing this
# module does not import Locust (whose import monkey-patches the process)
LOCUST_STATE_RUNNING, LOCUST_STATE_WAITING = "running", "waiting"


class ArrivalPool:
    """The pool of one process: free users, the schedule, counts and histograms."""

    def __init__(self) -> None:
        self._free: list[Waiter] = []
        self._backlog: deque[float] = deque()
        self._offsets: Iterator[float] | None = None
        self._origin = 0.0
        self._pending: float | None = None
        self._end_after: float | None = None
        self._timer: Any = None
        self._loop: Any = None
        self.max_backlog = 0
        self._intended_of: dict[Any, float] = {}  # user greenlet -> its iteration's intended
        self.recorder = Recorder()
        self.reset()

    def reset(self) -> None:
        """Start a new measured window (Locust's statistics reset)."""
        self.intended = self.started = self.dropped = self.backlogged = 0
        self.min_free: int | None = None
        self.recorder.reset()
        self.window_start = time.time()
        self.window_end: float | None = None
        self.queued_at_stop = self.overdue_at_stop = 0
        self._last_run_wall: float | None = None

    # --- the users' side -------------------------------------------------------------------
    def gate(self, user: Any = None) -> float:
        """Block until this user is handed an arrival; record its lag; return 0 (no wait)."""
        intended: float
        if self._backlog:
            intended = self._backlog.popleft()
        else:
            waiter = Waiter()
            free = self._free
            free.append(waiter)
            if user is not None and user._state == LOCUST_STATE_RUNNING:  # on_start: stoppable
                user._state = LOCUST_STATE_WAITING
            try:
                intended = waiter.get()
            except BaseException:  # killed while free: leave the pool
                if waiter in free:
                    free.remove(waiter)
                raise
        lag = time.perf_counter() - intended
        self.started += 1
        self.recorder.record(*LAG, lag * 1000.0)
        self._intended_of[getcurrent()] = intended
        return 0.0

    def on_start(self, user: Any) -> None:
        """The user class's ``on_start``: the first iteration waits for an arrival too."""
        self.gate(user)
        user._state = LOCUST_STATE_RUNNING

    def on_request(self, request_type: str, name: str, response_time: float | None,
                   **_kwargs: Any) -> None:
        """The ``request`` listener: latency from the intended start, and service time (ms)."""
        intended = self._intended_of.get(getcurrent())
        if intended is None or response_time is None:
            return
        record = self.recorder.record
        record(*INTENDED, (time.perf_counter() - intended) * 1000.0)
        record(*SERVICE, response_time)

    # --- the schedule ------------------------------------------------------------------------
    @property
    def free_users(self) -> int:
        return len(self._free)

    @property
    def running(self) -> bool:
        return self._timer is not None

    def start(self, offsets: Iterator[float], end_after_s: float | None = None) -> None:
        """Hand out arrivals at ``perf_counter() + offset`` for each offset, until stopped
        (or until ``end_after_s``)."""
        self._cancel()
        self._loop = get_hub().loop  # this process's (after a fork too)
        self._offsets, self._origin, self._end_after = offsets, time.perf_counter(), end_after_s
        self._pending = next(offsets, None)
        self._arm(time.perf_counter())

    def _arm(self, now: float) -> None:
        pending = self._pending
        if pending is None or (self._end_after is not None and pending >= self._end_after):
            self._timer = None
            return
        loop = self._loop
        loop.update_now()  # libev's cached time may be stale: a timer from it fires early
        self._timer = loop.timer(max(self._origin + pending - now, 0.0))
        self._timer.start(self._fire)

    def _fire(self) -> None:
        """A libev timer callback, in the hub: hand out every arrival now due, re-arm.

        Switching to a user from the hub runs it until it blocks (its request sent), then the
        hub comes back here: no scheduling greenlet, no extra loop pass per arrival.
        """
        clock = time.perf_counter
        free = self._free
        backlog = self._backlog
        offsets = self._offsets
        now = clock()
        self._last_run_wall = time.time()
        try:
            while self._pending is not None and self._origin + self._pending <= now:
                if self._end_after is not None and self._pending >= self._end_after:
                    break
                due = self._origin + self._pending
                self._pending = None
                self.intended += 1
                if free:
                    waiter = free.pop()
                    left = len(free)
                    waiter.switch(due)
                else:
                    if len(backlog) < self.max_backlog:
                        backlog.append(due)
                        self.backlogged += 1
                    else:
                        self.dropped += 1
                    left = 0
                if self.min_free is None or left < self.min_free:
                    self.min_free = left
                self._pending = next(offsets, None) if offsets is not None else None
                now = clock()
        except Exception:  # never let the schedule die silently inside the hub
            logger.exception("scenarios: open model schedule failed")
            self._timer = None
            return
        if self._offsets is offsets and self._timer is not None:  # not stopped meanwhile
            self._arm(now)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.close()
            self._timer = None

    def _count_overdue(self) -> int:
        """At the stop: the arrivals already due that the schedule had not handed out (its
        process did not run since its last timer: Locust's stop itself blocks the event loop
        for a while before ``test_stopping``). They fall after the window, which then ends at
        the schedule's last run; counted in ``overdue_at_stop``, not in ``intended``."""
        if self._offsets is None:
            return 0
        now = time.perf_counter() - self._origin
        pending = self._pending
        overdue = 0
        while pending is not None and pending <= now and (
                self._end_after is None or pending < self._end_after):
            overdue += 1
            pending = next(self._offsets, None)
        self.overdue_at_stop += overdue
        self._offsets = self._pending = None
        return overdue

    def stop(self) -> None:
        """Stop handing out arrivals; count what was due and waiting; close the window."""
        self._cancel()
        self.queued_at_stop = len(self._backlog)
        self._backlog.clear()
        overdue = self._count_overdue()
        if self.window_end is None:
            last_run = self._last_run_wall
            self.window_end = last_run if overdue and last_run is not None else time.time()

    # --- figures -----------------------------------------------------------------------------
    def peak_busy(self, pool: int) -> int:
        """The most users busy at an arrival (the pool minus the fewest free)."""
        return pool - (self.min_free if self.min_free is not None else pool)


POOL = ArrivalPool()
