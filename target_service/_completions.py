"""Responses sent, counted by the wall-clock millisecond they were sent in.

A load generator's window has two edges in wall-clock time (Locust records them as it resets
and closes its statistics). The service's own count of the same window is the number of
responses it finished sending between those instants; a scrape taken "at" an edge is answered
late when the service is starved of CPU (inside a quota, the whole process waits for its next
period), so the count is kept by completion time instead and read after the window:
``count(start, end)`` at any later time gives the responses sent in ``[start, end)``, whenever
it is asked.

Two rings, per process (one event loop records; the metrics listener's thread reads under the
interpreter lock): per millisecond for the last ``MS_SPAN_S`` seconds (4 bytes a millisecond,
about 4 MB), and per second for the last ``SECOND_SPAN_S``. Recording is one ``time.time()``
and a few integer operations; a slot is cleared when a new second first claims it. An edge
older than the millisecond ring is counted to the second, and the answer says so.
"""

from __future__ import annotations

import math
import time
from array import array
from typing import Any

MS_SPAN_S = 1024  # seconds of per-millisecond counts kept
SECOND_SPAN_S = 131072  # seconds of per-second counts kept (about 36 hours)
_ZERO_SECOND = array("I", bytes(4 * 1000))


class Completions:
    """Per-millisecond and per-second counts of the responses sent, over rings of seconds."""

    def __init__(self, ms_span_s: int = MS_SPAN_S, second_span_s: int = SECOND_SPAN_S) -> None:
        self.ms_span_s = ms_span_s
        self.second_span_s = second_span_s
        self._ms = array("I", bytes(4 * 1000 * ms_span_s))
        self._ms_second = array("q", [-1]) * ms_span_s  # the second each ms slot holds
        self._seconds = array("I", bytes(4 * second_span_s))
        self._second_of = array("q", [-1]) * second_span_s
        self.total = 0
        self.since = time.time()

    def record(self, now: float) -> None:
        """Count one response sent at ``now`` (epoch seconds)."""
        ms = int(now * 1000.0)
        second = ms // 1000
        slot = second % self.ms_span_s
        if self._ms_second[slot] != second:
            self._ms[slot * 1000:slot * 1000 + 1000] = _ZERO_SECOND
            self._ms_second[slot] = second
        self._ms[slot * 1000 + ms % 1000] += 1
        big = second % self.second_span_s
        if self._second_of[big] != second:
            self._seconds[big] = 0
            self._second_of[big] = second
        self._seconds[big] += 1
        self.total += 1

    def _second_total(self, second: int) -> int:
        big = second % self.second_span_s
        return self._seconds[big] if self._second_of[big] == second else 0

    def _ms_part(self, second: int, first_ms: int, last_ms: int) -> int | None:
        """The count in milliseconds [first_ms, last_ms) of ``second``; None when the
        millisecond ring no longer holds it."""
        slot = second % self.ms_span_s
        if self._ms_second[slot] != second:
            return None if self._evicted(second, self.ms_span_s) else 0
        base = slot * 1000
        return sum(self._ms[base + first_ms:base + last_ms])

    def _evicted(self, second: int, span: int) -> bool:
        return second <= int(time.time()) - span

    def count(self, start: float, end: float) -> dict[str, Any]:
        """The responses sent in ``[start, end)`` (epoch seconds), to the millisecond: a
        response sent in the millisecond that holds ``start`` counts, in the one that holds
        ``end`` not. ``resolution_s`` is 0.001, or 1 when an edge is older than the millisecond
        ring (that edge then counts whole seconds); ``complete`` is false when part of the span
        is older than the second ring or predates this process's counting."""
        first, last = math.floor(start * 1000.0), math.floor(end * 1000.0)
        resolution = 0.001
        total = 0
        if last > first:
            first_s, last_s = first // 1000, last // 1000
            if first_s == last_s:
                part = self._ms_part(first_s, first % 1000, last % 1000)
                if part is None:
                    part, resolution = self._second_total(first_s), 1.0
                total = part
            else:
                head = self._ms_part(first_s, first % 1000, 1000)
                tail = self._ms_part(last_s, 0, last % 1000)
                if head is None:
                    head, resolution = self._second_total(first_s), 1.0
                if tail is None:
                    tail, resolution = 0, 1.0
                total = head + tail + sum(self._second_total(s)
                                          for s in range(first_s + 1, last_s))
        complete = (start >= self.since
                    and not self._evicted(math.floor(start), self.second_span_s))
        return {"from": start, "to": end, "requests": total, "resolution_s": resolution,
                "complete": complete, "counting_since": round(self.since, 3)}


COMPLETIONS = Completions()  # this process's: Metrics records, the metrics listener answers
