"""The open model's evidence: one versioned JSON document per process, merged exactly.

``$LOADBENCH_EVIDENCE_DIR/open-model-<role>-<pid>.json`` (results/README.md, "Open model"):

- ``counts``: ``intended`` (arrivals that fell due in the window), ``started`` (handed to a
  free user), ``dropped`` (no free user and a full backlog), ``backlogged`` (waited in the
  backlog for a user), ``queued_at_stop`` (still waiting when the schedule stopped),
  ``overdue_at_stop`` (due after the schedule's last run, before the stop: Locust's stop
  blocks the event loop for a moment before ``test_stopping``; the window then ends at that
  last run and they are not in ``intended``). intended = started + dropped + queued_at_stop;
- ``histograms``: HDR (µs, 3 significant figures, encoded as the HDR recorder's files) of
  ``intended_us`` (each request's latency from its intended start), ``service_us`` (from the
  actual send: Locust's response time) and ``lag_us`` (each iteration's actual − intended start);
- ``pool``: this process's users, the whole pool, the most busy at an arrival, whether the pool
  was the default; ``share`` of the rate; the ``profile``; ``window`` start and end (epoch s).

A worker also sends its document to its master (``OPEN_MODEL_MESSAGE``), which serves the merge
at ``GET /scenarios/open-model`` (a remote master: no worker file reaches the results).
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

FORMAT = "loadbench-open-model"
FORMAT_VERSION = 1
EVIDENCE_ENV = "LOADBENCH_EVIDENCE_DIR"
SERIES = ("intended_us", "service_us", "lag_us")
COUNTS = ("intended", "started", "dropped", "backlogged", "queued_at_stop", "overdue_at_stop")
GLOB = "open-model-*.json"
LOWEST_US, HIGHEST_US, DIGITS = 1, 3_600_000_000, 3  # as the HDR recorder's (instrumentation)

logger = logging.getLogger("scenarios")


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def encode(histogram: HdrHistogram) -> str:
    return bytes(histogram.encode()).decode("ascii")


def decode(text: str) -> HdrHistogram:
    histogram = new_histogram()
    if text:
        histogram.decode_and_add(text)
    return histogram


def percentile_ms(histogram: HdrHistogram, fraction: float) -> float | None:
    """The nearest-rank ``fraction`` percentile in milliseconds (HDR precision), None if empty."""
    total = histogram.get_total_count()
    if total == 0:
        return None
    rank = max(1, min(total, math.ceil(fraction * total - 1e-9)))
    return float(histogram.get_value_at_percentile(100.0 * rank / total)) / 1000.0


def merge(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Several processes' documents as one (counts and histograms add, windows span)."""
    histograms = {name: new_histogram() for name in SERIES}
    counts = dict.fromkeys(COUNTS, 0)
    pool = {"users": 0, "max_users": 0, "peak_busy": 0, "default": False}
    starts: list[float] = []
    ends: list[float] = []
    shares = 0.0
    for document in documents:
        for name in SERIES:
            text = document.get("histograms", {}).get(name)
            if text:
                histograms[name].decode_and_add(text)
        for name in COUNTS:
            counts[name] += int(document.get("counts", {}).get(name, 0))
        part = document.get("pool", {})
        pool["users"] += int(part.get("users", 0))
        pool["peak_busy"] += int(part.get("peak_busy", 0))
        pool["max_users"] = max(pool["max_users"], int(part.get("max_users", 0)))
        pool["default"] = pool["default"] or bool(part.get("default"))
        shares += float(document.get("share", 0.0))
        window = document.get("window", {})
        if window.get("start") is not None and window.get("end") is not None:
            starts.append(float(window["start"]))
            ends.append(float(window["end"]))
    first = documents[0] if documents else {}
    return {
        "format": FORMAT, "version": FORMAT_VERSION, "role": "merged", "sources": len(documents),
        "profile": first.get("profile"), "share": shares, "counts": counts, "pool": pool,
        "window": {"start": min(starts) if starts else None, "end": max(ends) if ends else None},
        "histograms": {name: encode(h) for name, h in histograms.items()},
    }


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """Figures of a (merged) document: counts, rates, percentiles in ms, drop share."""
    counts = document.get("counts", {})
    window = document.get("window", {})
    seconds = (float(window["end"]) - float(window["start"])
               if window.get("start") is not None and window.get("end") is not None else None)
    intended = int(counts.get("intended", 0))
    figures: dict[str, Any] = {
        "intended": intended, "started": int(counts.get("started", 0)),
        "dropped": int(counts.get("dropped", 0)),
        "backlogged": int(counts.get("backlogged", 0)),
        "overdue_at_stop": int(counts.get("overdue_at_stop", 0)),
        "dropped_share": (int(counts.get("dropped", 0)) / intended) if intended else 0.0,
        "window_s": seconds,
        "offered_rps": intended / seconds if seconds else None,
        "started_rps": int(counts.get("started", 0)) / seconds if seconds else None,
    }
    for name in SERIES:
        histogram = decode(document.get("histograms", {}).get(name, ""))
        short = name.removesuffix("_us")
        figures[f"{short}_count"] = histogram.get_total_count()
        for label, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
            figures[f"{short}_{label}_ms"] = percentile_ms(histogram, fraction)
    return figures


def write(document: dict[str, Any]) -> Path | None:
    """Write this process's document to ``$LOADBENCH_EVIDENCE_DIR`` (atomically)."""
    directory = os.environ.get(EVIDENCE_ENV)
    if not directory:
        return None
    path = Path(directory) / f"open-model-{document['role']}-{os.getpid()}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(document))
        os.replace(partial, path)
    except OSError as error:
        logger.error("scenarios: cannot write %s: %s", path, error)
        return None
    return path


def read(directory: Path) -> dict[str, Any] | None:
    """Every ``open-model-*.json`` in ``directory`` merged, or None when there is none."""
    files = sorted(directory.glob(GLOB)) if directory.is_dir() else []
    if not files:
        return None
    return merge([json.loads(path.read_text()) for path in files])
