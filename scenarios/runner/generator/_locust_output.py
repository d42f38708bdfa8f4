"""The Aggregated figures of one Locust run, from its --json-file when it wrote one.

Locust's final ``locust_stats.csv`` is its last 1-second snapshot and lags the end of the run
by up to a second of requests; the ``--json-file`` output is written at exit from the complete
stats, so it is preferred. Both give a dict keyed like the CSV's Aggregated row, so the SLO
checks read either.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

# Locust's own percentile rule (calculate_response_time_percentile), written once in runmodel
from runmodel.percentiles import locust_percentile

_PERCENTILES = {"50%": 0.50, "95%": 0.95, "99%": 0.99}


def _from_json(path: Path, window_s: float | None) -> dict[str, Any] | None:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entries, list):
        return None
    histogram: dict[int, int] = {}
    total = failures = content = 0
    time_ms = 0.0
    by_name: dict[str, float] = {}  # average response body bytes per request name
    for entry in entries:
        total += int(entry.get("num_requests", 0))
        content += int(entry.get("total_content_length", 0))
        if entry.get("num_requests"):
            by_name[str(entry.get("name"))] = round(
                int(entry.get("total_content_length", 0)) / int(entry["num_requests"]), 1)
        time_ms += float(entry.get("total_response_time", 0.0))
        failures += int(entry.get("num_failures", 0))
        for bucket, count in entry.get("response_times", {}).items():
            histogram[int(bucket)] = histogram.get(int(bucket), 0) + int(count)
    row: dict[str, Any] = {"Name": "Aggregated", "Request Count": total,
                           "Failure Count": failures,
                           "Requests/s": total / window_s if window_s else None,
                           "Average Response Time": time_ms / total if total else None,
                           "Average Content Size": content / total if total else None,
                           "content_by_name": by_name}
    for column, fraction in _PERCENTILES.items():
        row[column] = locust_percentile(histogram, fraction) if total else None
    row["percentile"] = (lambda fraction: locust_percentile(histogram, fraction)) if total else None
    return row


def _from_csv(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("Name") == "Aggregated":
                    return dict(row)
    except OSError:
        return None
    return None


def aggregated_figures(run_dir: Path, window_s: float | None) -> dict[str, Any] | None:
    """The run's Aggregated row: from locust.json when present, else locust_stats.csv, else None.

    Percentiles (the ``50%``/``95%``/``99%`` columns and the ``percentile`` function the SLO
    checks use) come from the run's HDR histograms (``evidence/hdr-*.json``) when there are
    any; Locust's own stay as ``locust_50%``... (``latency_source`` says which).
    """
    row = (_from_json(run_dir / "locust.json", window_s)
           or _from_csv(run_dir / "locust_stats.csv"))
    if row is None:
        return None
    from scenarios.instrumentation import (  # hdrhistogram: loadgen extra
        percentile_ms,
        read_evidence,
    )

    merged, files = read_evidence(run_dir / "evidence")
    for column in _PERCENTILES:
        row[f"locust_{column}"] = row.get(column)
    if merged is None or not merged.get_total_count():
        row["latency_source"] = "locust"
        return row
    for column, fraction in _PERCENTILES.items():
        row[column] = percentile_ms(merged, fraction)
    row["percentile"] = lambda fraction: percentile_ms(merged, fraction)
    row["latency_source"] = "hdr"
    row["hdr_requests"] = merged.get_total_count()
    row["hdr_files"] = files
    return row
