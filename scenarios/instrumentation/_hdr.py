"""Microsecond response times: one HDR histogram per endpoint in every Locust process.

Locust buckets response times to about two significant digits (whole milliseconds below 100 ms),
so on loopback a sub-millisecond p50 reads 0 or 1 ms. Every Locust process running this
locustfile also records each request's response time, in microseconds, into an HDR histogram
(``hdrhistogram``, 3 significant digits) per endpoint (method and name), fed from the
``request`` event like Locust's own statistics. The histograms reset whenever Locust's statistics
reset (``--reset-stats`` at spawn completion, a master's forwarded reset, the web UI's reset), so
they cover exactly the measured window.

Where they go (results/README.md, ``evidence/hdr-<role>-<pid>.json``):

- with ``LOADBENCH_EVIDENCE_DIR`` set (the sweep runner sets it for every Locust process), each
  process writes its own file there when its test stops; a local run's files merge exactly;
- a worker also sends its histograms to its master (a custom message) when its test stops; a
  master collects them and serves the merge at ``GET /scenarios/hdr``, which the runner's remote
  driver fetches (on a remote master, no worker file reaches the results directly).

``LOADBENCH_INSTRUMENTATION=off`` turns the recording off (only for the benchmark's side by side).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from runmodel.percentiles import (
    HDR_DIGITS,
    HDR_HIGHEST_US,
    HDR_LOWEST_US,
    hdr_query_percent,
    nearest_rank,
)

FORMAT = "loadbench-hdr"
FORMAT_VERSION = 1
# 1 µs to one hour, 3 significant digits: runmodel's HDR settings, which the analysis reads with
LOWEST_US = HDR_LOWEST_US
HIGHEST_US = HDR_HIGHEST_US
DIGITS = HDR_DIGITS
EVIDENCE_ENV = "LOADBENCH_EVIDENCE_DIR"
SWITCH_ENV = "LOADBENCH_INSTRUMENTATION"
HDR_MESSAGE = "scenarios_hdr"
ROUTE = "/scenarios/hdr"

logger = logging.getLogger("scenarios")


def enabled() -> bool:
    """False only when ``LOADBENCH_INSTRUMENTATION`` says ``off``."""
    return os.environ.get(SWITCH_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


class Recorder:
    """Per-endpoint HDR histograms of one process (or, on a master, of its workers).

    The hot path only counts each whole-microsecond value in a dict (a fraction of what
    ``HdrHistogram.record_value`` costs per call); the counts are folded into the HDR histograms
    with ``record_value(value, count)``, which files each value in exactly the bucket a single
    record would, whenever a histogram is read and when a dict grows past ``FOLD_AT`` values.
    """

    FOLD_AT = 20_000

    def __init__(self) -> None:
        self._histograms: dict[tuple[str, str], HdrHistogram] = {}
        self._pending: dict[tuple[str, str], dict[int, int]] = {}
        self.sources = 0  # how many documents were added (a master: worker reports)

    def record(self, request_type: str, name: str, response_time: float | None,
               response_length: Any = None, response: Any = None, context: Any = None,
               exception: Any = None, start_time: Any = None, url: Any = None,
               **_kwargs: Any) -> None:
        """The ``request`` event listener: count one response time (ms) in microseconds.

        Every argument Locust's clients fire the event with is named, so that the call binds
        them instead of building a dict of the rest (a third of the listener's cost).
        """
        if response_time is None:
            return
        key = (request_type, name)
        counts = self._pending.get(key)
        if counts is None:
            counts = self._pending[key] = {}
        value = int(response_time * 1000.0 + 0.5)
        counts[value] = counts.get(value, 0) + 1
        if len(counts) > self.FOLD_AT:
            self._fold(key)

    def _histogram(self, key: tuple[str, str]) -> HdrHistogram:
        histogram = self._histograms.get(key)
        if histogram is None:
            histogram = self._histograms[key] = HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)
        return histogram

    def _fold(self, key: tuple[str, str]) -> None:
        counts = self._pending.pop(key, None)
        if not counts:
            return
        histogram = self._histogram(key)
        for value, count in counts.items():
            histogram.record_value(min(max(value, LOWEST_US), HIGHEST_US), count)

    @property
    def histograms(self) -> dict[tuple[str, str], HdrHistogram]:
        """Every endpoint's histogram, with all counts recorded so far."""
        for key in list(self._pending):
            self._fold(key)
        return self._histograms

    def reset(self) -> None:
        self._histograms = {}
        self._pending = {}
        self.sources = 0

    def document(self, role: str) -> dict[str, Any]:
        """The versioned JSON form (results/README.md): one encoded histogram per endpoint."""
        return {
            "format": FORMAT, "version": FORMAT_VERSION, "unit": "us",
            "significant_figures": DIGITS, "lowest_us": LOWEST_US, "highest_us": HIGHEST_US,
            "role": role, "pid": os.getpid(), "sources": self.sources,
            "endpoints": [
                {"method": method, "name": name, "count": histogram.get_total_count(),
                 "histogram": bytes(histogram.encode()).decode("ascii")}
                for (method, name), histogram in sorted(self.histograms.items())
                if histogram.get_total_count()],
        }

    def add_document(self, document: dict[str, Any]) -> None:
        """Merge another process's histograms into these (exact: counts add)."""
        for entry in document.get("endpoints", []):
            self._histogram((str(entry["method"]), str(entry["name"]))).decode_and_add(
                entry["histogram"])
        self.sources += 1


RECORDER = Recorder()  # this process's own requests
RECEIVED = Recorder()  # on a master: its workers' histograms since the last reset


def _role(runner: Any) -> str:
    from locust.runners import MasterRunner, WorkerRunner

    if isinstance(runner, WorkerRunner):
        return "worker"
    if isinstance(runner, MasterRunner):
        return "master"
    return "local"


def write_evidence(role: str) -> Path | None:
    """Write this process's histograms to ``$LOADBENCH_EVIDENCE_DIR`` (atomically)."""
    directory = os.environ.get(EVIDENCE_ENV)
    if not directory:
        return None
    path = Path(directory) / f"hdr-{role}-{os.getpid()}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(RECORDER.document(role)))
        os.replace(partial, path)
    except OSError as error:
        logger.error("scenarios: cannot write %s: %s", path, error)
        return None
    return path


def install(environment: Any, runner: Any, web_ui: Any = None) -> None:
    """Record every request in this process, reset with Locust's statistics, report at stop."""
    if runner is None or not enabled():
        return
    role = _role(runner)
    stats = runner.stats
    locust_reset_all = stats.reset_all

    def reset_all(*args: Any, **kwargs: Any) -> Any:
        result = locust_reset_all(*args, **kwargs)
        RECORDER.reset()
        RECEIVED.reset()
        return result

    stats.reset_all = reset_all  # the one place every kind of stats reset goes through
    if role != "master":
        environment.events.request.add_listener(RECORDER.record)
    if role == "worker":
        def report(**_kwargs: Any) -> None:
            try:
                runner.send_message(HDR_MESSAGE, RECORDER.document(role))
            except Exception as error:  # a lost report must not break the stop
                logger.warning("scenarios: HDR report to the master failed: %s", error)

        # before the worker tells the master it stopped (Locust fires test_stop first)
        environment.events.test_stop.add_listener(report)
    if role == "master":
        def receive(environment: Any, msg: Any, **_kwargs: Any) -> None:
            RECEIVED.add_document(msg.data)

        runner.register_message(HDR_MESSAGE, receive)
        if web_ui is not None:
            @web_ui.app.route(ROUTE)
            def hdr() -> dict[str, Any]:
                merged = Recorder()
                merged.add_document(RECEIVED.document("workers"))
                merged.add_document(RECORDER.document("master"))
                document = merged.document("master")
                document["sources"] = RECEIVED.sources
                return document
    else:
        environment.events.test_stop.add_listener(lambda **_kwargs: write_evidence(role))


def read_evidence(directory: Path) -> tuple[HdrHistogram | None, int]:
    """All endpoints of every ``hdr-*.json`` in ``directory`` merged; and how many files."""
    files = sorted(directory.glob("hdr-*.json")) if directory.is_dir() else []
    if not files:
        return None, 0
    merged = Recorder()
    for path in files:
        try:
            merged.add_document(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as error:
            logger.error("scenarios: unreadable %s: %s", path, error)
            return None, len(files)
    total = HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)
    for histogram in merged.histograms.values():
        total.add(histogram)
    return total, len(files)


def percentile_ms(histogram: HdrHistogram, fraction: float) -> float | None:
    """The nearest-rank ``fraction`` percentile in milliseconds (HDR precision)."""
    total = histogram.get_total_count()
    if total == 0:
        return None
    rank = nearest_rank(total, fraction)  # runmodel's convention, as the analysis reads it
    return float(histogram.get_value_at_percentile(hdr_query_percent(rank, total))) / 1000.0
