"""Progress on stderr (one updating line on a TTY, one line per point otherwise) and the summary."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60:d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, total: int, point_seconds: float, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = total
        self.point_seconds = point_seconds  # ramp + window: the estimate before any point ran
        self.done = 0
        self.began = time.monotonic()
        self.point_began = self.began
        self.label = ""

    def _eta(self) -> float:
        per_point = ((time.monotonic() - self.began) / self.done if self.done
                     else self.point_seconds * 1.1)
        running = time.monotonic() - self.point_began
        return max(0.0, per_point * (self.total - self.done) - running)

    def start(self, index: int, run_id: str, detail: str) -> None:
        self.point_began = time.monotonic()
        self.label = f"[{index}/{self.total}] {run_id} {detail}"
        if self.tty:
            self.tick()
        else:
            print(f"{self.label} started, ETA {_clock(self._eta())}", file=self.stream, flush=True)

    def tick(self) -> None:
        if not self.tty:
            return
        elapsed = time.monotonic() - self.point_began
        width = 20
        filled = min(width, int(width * elapsed / max(self.point_seconds, 0.1)))
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r\x1b[K{self.label} [{bar}] {elapsed:4.0f}s  ETA {_clock(self._eta())}",
              end="", file=self.stream, flush=True)

    def finish(self, run_id: str, outcome: str, final: bool = True) -> None:
        if final:
            self.done += 1
        end = "\r\x1b[K" if self.tty else ""
        print(f"{end}{run_id}: {outcome}", file=self.stream, flush=True)

    def note(self, message: str) -> None:
        end = "\r\x1b[K" if self.tty else ""
        print(f"{end}{message}", file=self.stream, flush=True)


def _number(value: Any, digits: int = 0) -> str:
    if value is None or value == "":
        return "-"
    try:
        return f"{float(value):,.{digits}f}"
    except ValueError:
        return str(value)


def summary_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table: run, rps, p50/p95 (ms, from the HDR histograms), failures, verdict,
    and the number of each run's warnings; then each warning in full, by run (a warning changes
    no status, so it is said, not only recorded)."""
    header = ("run", "rps", "p50 ms", "p95 ms", "failures", "verdict", "warnings")
    lines = [[str(r["run_id"]), _number(r.get("rps"), 1), _number(r.get("p50"), 2),
              _number(r.get("p95"), 2), _number(r.get("failures")), str(r["verdict"]),
              str(len(r.get("warnings") or [])) if r.get("warnings") else "-"]
             for r in rows]
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) if lines else len(header[i])
              for i in range(len(header))]

    def fmt(cells: tuple[str, ...] | list[str]) -> str:
        return "  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    notes = [f"warning: {r['run_id']}: {text}" for r in rows for text in r.get("warnings") or []]
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(line) for line in lines),
                      *notes])
