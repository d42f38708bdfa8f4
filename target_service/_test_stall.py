"""Test only: ``LOADBENCH_TEST_SERVICE_STALL=S/P`` stops the service for S seconds every P seconds.

The open-model tests (coordinated omission) need a service that stops answering now and then, as
a garbage-collection pause or a held lock would. During a stall the process's event loop is
blocked (``time.sleep`` inside it): nothing is accepted, read, answered or timed out, on any
route; what arrives waits in the kernel and is served when the stall ends. Stalls are aligned to
the wall clock: a stall runs while ``time.time() % P`` is in ``[P - S, P)``, so a test can
predict them, and every worker of a service stalls at the same moments. The separate metrics
listener (``--metrics-port``, its own thread) keeps answering.

Refused unless ``LOADBENCH_TEST_MODE=1``: a service started with the switch by mistake must not
start at all. Unset (the default), nothing is scheduled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

STALL_ENV = "LOADBENCH_TEST_SERVICE_STALL"
TEST_MODE_ENV = "LOADBENCH_TEST_MODE"
MAX_PERIOD_SECONDS = 3600.0
_NUMBER = r"(\d+(?:\.\d+)?)s?"
_STALL = re.compile(rf"{_NUMBER}/{_NUMBER}")

logger = logging.getLogger("target_service")


@dataclass(frozen=True)
class Stall:
    """Stop for `seconds` at the end of every `period` seconds of the wall clock."""

    seconds: float
    period: float

    def next_start(self, now: float) -> float:
        """The wall-clock time at which the next stall starts (``now`` if one is due)."""
        start = now - now % self.period + self.period - self.seconds
        return start if start >= now else start + self.period


def parse_stall(text: str) -> Stall:
    """``1/5`` (or ``1s/5s``, ``0.5/5``): S seconds of every P; ValueError otherwise."""
    match = _STALL.fullmatch(text.strip())
    if not match:
        raise ValueError(f"expected STALL_SECONDS/PERIOD_SECONDS such as 1/5, got {text!r}")
    seconds, period = float(match.group(1)), float(match.group(2))
    if not 0 < seconds < period <= MAX_PERIOD_SECONDS:
        raise ValueError(f"expected 0 < stall < period <= {MAX_PERIOD_SECONDS:g} s, got {text!r}")
    return Stall(seconds, period)


def stall_from_env(environ: Mapping[str, str] | None = None) -> Stall | None:
    """The stall the environment asks for, or None; ValueError naming the variable."""
    env = os.environ if environ is None else environ
    text = env.get(STALL_ENV, "").strip()
    if not text:
        return None
    if env.get(TEST_MODE_ENV, "").strip() != "1":
        raise ValueError(f"{STALL_ENV} is a test-only switch: it needs {TEST_MODE_ENV}=1")
    try:
        return parse_stall(text)
    except ValueError as error:
        raise ValueError(f"{STALL_ENV}: {error}") from None


class Staller:
    """Blocks the running event loop for each stall of `stall` until stop()."""

    def __init__(self, stall: Stall) -> None:
        self.stall = stall
        self.stalls = 0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Schedule the next stall on the running loop."""
        logger.warning("test stall switch on", extra={"stall_s": self.stall.seconds,
                                                      "period_s": self.stall.period})
        self._schedule()

    def _schedule(self, after: float | None = None) -> None:
        now = time.time()
        start = self.stall.next_start(max(now, after or now))
        self._handle = asyncio.get_running_loop().call_later(start - now, self._block, start)

    def _block(self, start: float) -> None:
        end = start + self.stall.seconds  # a timer may fire a little early or late
        while (left := end - time.time()) > 0:
            time.sleep(left)  # the whole loop stops, as in a GC pause
        self.stalls += 1
        self._schedule(after=end + self.stall.period / 2)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
