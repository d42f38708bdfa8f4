"""The measured window, opened and closed by the Locust process itself (the sweep's local runs).

With ``LOADBENCH_WINDOW`` set (a JSON object the runner passes: ``min_s``, ``max_s`` (null: a
fixed window of ``min_s``), ``settle_max_s``, ``users`` (null: an open model's pool, whose users
need not all answer) and ``service_port`` (null: not a local service)), a single Locust process:

1. once spawning completes, waits for the ramp to settle (``_settle.py``): every user has had
   a response, the service's accept queue is empty (when its port is local), and the last four
   quarter-second slices of completed requests agree; at most ``settle_max_s``;
2. opens the window: logs ``OPENING_MARKER``, resets Locust's statistics (the HDR histograms
   and the in-flight count reset with them), logs ``OPENED_MARKER``;
3. closes it after ``min_s`` (a fixed window), or with ``max_s`` once the throughput's batch-means
   interval is within ±5% of its mean (at the earliest after ``min_s``, at the latest at
   ``max_s``): logs ``CLOSED_MARKER`` and quits as Locust's ``-t`` would. The runner still
   gives Locust a ``-t`` bound (ramp + settle bound + longest window + slack) in case this
   greenlet never runs.

When the test starts stopping, the process writes
``$LOADBENCH_EVIDENCE_DIR/settle-local-<pid>.json`` (``_window.py`` writes the window's edges
and counts beside it): ``settle`` (when spawning completed and the window opened, why, the
slices and the criteria) and ``duration`` (the window's rule, why it closed, its length and the
interval).
A master (``--processes`` > 1) keeps Locust's own window (reset when spawning completes, ``-t``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import gevent

from scenarios.instrumentation._loop_probe import EVIDENCE_ENV
from scenarios.instrumentation._settle import (
    CLOSED_MARKER,
    CONSECUTIVE,
    OPENED_MARKER,
    OPENING_MARKER,
    SLICE_S,
    TARGET,
    TOLERANCE,
    WINDOW_ENV,
    auto_stop,
    throughput_settled,
)
from scenarios.instrumentation._sockets import accept_queue

POLL_S = 0.25

logger = logging.getLogger("scenarios")


class WindowControl:
    """The settle rule, then the window's end, for one local Locust process."""

    def __init__(self, environment: Any, runner: Any, spec: dict[str, Any]) -> None:
        self.environment, self.runner, self.spec = environment, runner, spec
        self.spawned: float | None = None
        self.answered: set[int] = set()  # greenlets (users) that have had a response
        self.slices: dict[int, int] = {}  # slice since spawning -> completed requests
        self.settle: dict[str, Any] = {}
        self.slice_s = float(spec.get("slice_s") or SLICE_S)  # a whole number of CPU periods
        self.duration: dict[str, Any] = {"min_s": spec["min_s"], "max_s": spec.get("max_s"),
                                         "rule": "auto" if spec.get("max_s") else "fixed"}
        self.opened: float | None = None
        self.closed: float | None = None
        self.written = False

    def on_request(self, exception: Any = None, **_kwargs: Any) -> None:
        if exception is not None:
            return
        self.answered.add(id(gevent.getcurrent()))
        if self.spawned is not None:
            index = int((time.time() - self.spawned) / self.slice_s)
            self.slices[index] = self.slices.get(index, 0) + 1

    def on_spawning_complete(self, **_kwargs: Any) -> None:
        if self.spawned is None:
            self.spawned = time.time()
            gevent.spawn(self._run)

    def _run(self) -> None:
        assert self.spawned is not None
        bound = float(self.spec.get("settle_max_s") or 0)
        users, port = self.spec.get("users"), self.spec.get("service_port")
        while True:
            now = time.time()
            done = int((now - self.spawned) / self.slice_s)  # slices complete so far
            counts = [self.slices.get(i, 0) for i in range(done)]
            reading = throughput_settled(counts)
            queue = accept_queue(int(port)) if port else None
            users_ok = users is None or len(self.answered) >= int(users)
            queue_ok = queue is None or queue == 0
            if (reading.settled and users_ok and queue_ok) or now - self.spawned >= bound:
                break
            gevent.sleep(POLL_S)
        self.settle = {
            "opened_by": "settled" if reading.settled and users_ok and queue_ok else "bound",
            "settle_s": round(now - self.spawned, 3), "settle_max_s": bound,
            "slice_s": self.slice_s, "consecutive": CONSECUTIVE, "tolerance": TOLERANCE,
            "slices": counts[-2 * CONSECUTIVE:], "throughput": reading.to_dict(),
            "users": users, "users_answered": len(self.answered),
            "accept_queue": queue, "service_port": port}
        self.environment.events.request.remove_listener(self.on_request)
        logger.info("%s (%s after %.2fs)", OPENING_MARKER, self.settle["opened_by"],
                    now - self.spawned)
        self.runner.stats.reset_all()
        self.opened = time.time()
        logger.info(OPENED_MARKER)
        self._close_when_done()

    def _close_when_done(self) -> None:
        assert self.opened is not None
        min_s, max_s = float(self.spec["min_s"]), self.spec.get("max_s")
        if not max_s:
            gevent.sleep(max(0.0, self.opened + min_s - time.time()))
            self._close("window", None)
            return
        while True:
            now = time.time()
            reason, interval = auto_stop(now - self.opened, self._per_second(now), min_s,
                                         float(max_s))
            if reason is not None:
                self._close(reason, interval)
                return
            gevent.sleep(min(POLL_S, max(0.01, self.opened + float(max_s) - now)))

    def _per_second(self, now: float) -> list[float]:
        """Requests completed in each whole epoch second since the window opened."""
        assert self.opened is not None
        per_second = self.runner.stats.total.num_reqs_per_sec
        first, last = int(self.opened) + 1, int(now)  # [s, s+1) wholly inside the window
        return [float(per_second.get(s, 0)) for s in range(first, last)]

    def _close(self, reason: str, interval: dict[str, Any] | None) -> None:
        self.closed = time.time()
        assert self.opened is not None
        self.duration.update(stopped_by=reason, seconds=round(self.closed - self.opened, 3),
                             target=TARGET if self.spec.get("max_s") else None,
                             interval=interval)
        logger.info("%s (%s after %.2fs), shutting down", CLOSED_MARKER, reason,
                    self.closed - self.opened)
        self.runner.quit()

    def document(self) -> dict[str, Any]:
        """The evidence file's content (see the module's docstring)."""
        settle = dict(self.settle) or {"opened_by": None, "note": "the window never opened"}
        settle["spawned_at"] = self.spawned
        settle["opened_at"] = self.opened
        duration = dict(self.duration)
        if "stopped_by" not in duration:  # Locust stopped before this did (its -t, a signal)
            duration["stopped_by"] = "locust"
        duration["closed_at"] = self.closed or time.time()
        return {"settle": settle, "duration": duration}

    def write(self) -> Path | None:
        directory = os.environ.get(EVIDENCE_ENV)
        if self.written or not directory:
            return None
        self.written = True
        path = Path(directory) / f"settle-local-{os.getpid()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.document()), encoding="utf-8")
        return path


def window_spec() -> dict[str, Any] | None:
    """The runner's ``LOADBENCH_WINDOW`` (None: unset or unreadable, Locust's own window)."""
    text = os.environ.get(WINDOW_ENV)
    if not text:
        return None
    try:
        spec = json.loads(text)
        float(spec["min_s"])
    except (ValueError, KeyError, TypeError):
        logger.warning("scenarios: %s is not a window specification: %r", WINDOW_ENV, text)
        return None
    return spec if isinstance(spec, dict) else None


def install(environment: Any, runner: Any, role: str) -> WindowControl | None:
    """Open and close the window in this process when the runner asks (``LOADBENCH_WINDOW``,
    a local process only); None when it does not."""
    spec = window_spec()
    if spec is None or runner is None or role != "local":
        return None
    control = WindowControl(environment, runner, spec)
    environment.events.request.add_listener(control.on_request)
    environment.events.spawning_complete.add_listener(control.on_spawning_complete)
    environment.events.test_stopping.add_listener(lambda **_kwargs: control.write())
    return control
