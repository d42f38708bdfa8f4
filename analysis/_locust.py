"""Readers for Locust's own files (--json-file, --csv, --csv-full-history), with clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis._errors import AnalysisError
from analysis.histograms import (
    PERCENTILES,
    SOURCE_HDR,
    SOURCE_LOCUST,
    Histogram,
    decode_hdr,
    hdr_percentile,
    merge,
    merge_hdr,
    percentiles,
    to_histogram,
)
from runmodel import verdicts

AGGREGATED = "Aggregated"
# The only verdict whose figures describe the service. "unchecked" (plain Locust output loaded
# from a --csv prefix, no CPU evidence) is never trusted: nothing shows the generator kept up.
TRUSTED_STATUSES = verdicts.TRUSTED
# Most severe first (results/README.md, runmodel.verdicts): a configuration that is not valid
# takes the first status any of its repeats has.
VERDICT_ORDER = verdicts.ORDER

STATS_COLUMNS = ["Type", "Name", "Request Count", "Failure Count", "Average Response Time",
                 "Max Response Time", "Requests/s", "50%", "90%", "95%", "99%"]
HISTORY_COLUMNS = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
                   "50%", "95%", "99%", "Total Request Count", "Total Failure Count",
                   "Total Average Response Time"]
HISTORY_TEXT_COLUMNS = ("Type", "Name")


def read_json_file(path: Path) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise AnalysisError(path, "file is missing") from None
    except OSError as error:
        raise AnalysisError(path, f"cannot read ({error.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise AnalysisError(path, f"not valid JSON ({error.msg} at line {error.lineno}); "
                                  "truncated or corrupt?") from None


def read_endpoints(path: Path) -> list[dict[str, Any]]:
    """Locust's --json-file: one dict per endpoint with counts, times and the histogram.

    Returns rows with ``method``, ``name``, ``requests``, ``failures``, ``total_ms``,
    ``max_ms``, ``start``, ``last`` and ``histogram``; the ``Aggregated`` row is not included.
    """
    data = read_json_file(path)
    if not isinstance(data, list):
        raise AnalysisError(path, "expected a JSON list of endpoint stats (Locust --json-file)")
    rows: list[dict[str, Any]] = []
    for entry in data:
        try:
            rows.append({
                "method": str(entry.get("method") or ""),
                "name": str(entry["name"]),
                "requests": int(entry["num_requests"]),
                "failures": int(entry["num_failures"]),
                "total_ms": float(entry["total_response_time"]),
                "max_ms": float(entry.get("max_response_time") or 0.0),
                "start": float(entry.get("start_time") or "nan"),
                "last": float(entry.get("last_request_timestamp") or "nan"),
                "histogram": to_histogram(entry["response_times"]),
            })
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            problem = f"endpoint entry is not Locust's format ({error!r})"
            raise AnalysisError(path, problem) from None
    return rows


def read_hdr_evidence(directory: Path) -> dict[tuple[str, str], Any] | None:
    """The HDR histograms of a run (``evidence/hdr-*.json``), merged per (method, name).

    None when the run has no HDR file (a schema-1 run, or instrumentation off): the caller then
    falls back to Locust's histograms and says so.
    """
    files = sorted(directory.glob("hdr-*.json")) if directory.is_dir() else []
    if not files:
        return None
    found: dict[tuple[str, str], list[Any]] = {}
    for path in files:
        document = read_json_file(path)
        if not isinstance(document, dict) or document.get("format") != "loadbench-hdr":
            raise AnalysisError(path, "not a loadbench HDR file (format 'loadbench-hdr')")
        if document.get("version") != 1 or document.get("unit") != "us":
            raise AnalysisError(path, f"unknown HDR file version {document.get('version')!r} "
                                      "(this analysis reads version 1, unit us)")
        try:
            for entry in document["endpoints"]:
                key = (str(entry["method"]), str(entry["name"]))
                found.setdefault(key, []).append(decode_hdr(str(entry["histogram"])))
        except (KeyError, TypeError, ValueError) as error:
            raise AnalysisError(path, f"malformed HDR entry ({error!r}); truncated or corrupt?"
                                ) from None
    return {key: merge_hdr(histograms) for key, histograms in found.items()}


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The Aggregated row of a run's endpoints, summed exactly like Locust does."""
    hdrs = [row.get("hdr") for row in rows]
    starts = [row["start"] for row in rows if row["requests"]]
    lasts = [row["last"] for row in rows if row["requests"]]
    return {
        "method": "", "name": AGGREGATED,
        "requests": sum(row["requests"] for row in rows),
        "failures": sum(row["failures"] for row in rows),
        "total_ms": sum(row["total_ms"] for row in rows),
        "max_ms": max((row["max_ms"] for row in rows), default=0.0),
        "start": min(starts, default=float("nan")),
        "last": max(lasts, default=float("nan")),
        "histogram": merge(row["histogram"] for row in rows),
        "hdr": merge_hdr(hdrs) if rows and all(h is not None for h in hdrs) else None,
    }


def figures(row: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Throughput, mean and percentiles (ms) of one endpoint row over ``seconds``.

    Percentiles come from the row's HDR histogram when it has one (``latency_source`` says
    which); Locust's own stay as the ``locust_pXX_ms`` cross-check columns.
    """
    requests = row["requests"]
    histogram: Histogram = row["histogram"]
    locust = percentiles(histogram)
    hdr = row.get("hdr")
    if hdr is not None and hdr.get_total_count():
        chosen = {name: hdr_percentile(hdr, fraction) for name, fraction in PERCENTILES.items()}
        source, hdr_requests = SOURCE_HDR, int(hdr.get_total_count())
    else:
        chosen, source, hdr_requests = locust, SOURCE_LOCUST, 0
    return {
        "requests": requests,
        "failures": row["failures"],
        "failure_ratio": row["failures"] / requests if requests else float("nan"),
        "rps": requests / seconds if seconds > 0 else float("nan"),
        "mean_ms": row["total_ms"] / requests if requests else float("nan"),
        **{f"{name}_ms": value for name, value in chosen.items()},
        **{f"locust_{name}_ms": value for name, value in locust.items()},
        "latency_source": source,
        "hdr_requests": hdr_requests,
        "max_ms": row["max_ms"] if requests else float("nan"),
    }


def read_stats_csv(path: Path) -> pd.DataFrame:
    """Locust's final ``_stats.csv`` (one row per endpoint and the Aggregated row)."""
    frame = _read_csv(path)
    missing = [column for column in STATS_COLUMNS if column not in frame.columns]
    if missing:
        raise AnalysisError(path, f"not a Locust stats CSV (missing columns: {', '.join(missing)})")
    if frame.empty or AGGREGATED not in set(frame["Name"].astype(str)):
        raise AnalysisError(path, "no Aggregated row: truncated, or an empty run")
    numeric = [column for column in STATS_COLUMNS if column not in ("Type", "Name")]
    for column in numeric:
        converted = pd.to_numeric(frame[column].replace("N/A", None), errors="coerce")
        if converted.isna().any() and column in ("Request Count", "Failure Count", "Requests/s"):
            raise AnalysisError(path, f"column {column!r} holds values that are not numbers; "
                                      "truncated or corrupt?")
        frame[column] = converted
    return frame


def read_history_csv(path: Path) -> pd.DataFrame:
    """Locust's ``_stats_history.csv``: one row per second per endpoint, ``N/A`` as NaN.

    A plain ``pandas.read_csv`` (the fastest reader here), then checks that catch a truncated
    or corrupt file: every column but Type and Name numeric, running totals never missing.
    """
    frame = _read_csv(path, keep_default_na=True)
    missing = [column for column in HISTORY_COLUMNS if column not in frame.columns]
    if missing:
        raise AnalysisError(path, f"not a Locust history CSV (missing: {', '.join(missing)})")
    for column in frame.columns:
        if column not in HISTORY_TEXT_COLUMNS and not pd.api.types.is_numeric_dtype(frame[column]):
            raise AnalysisError(path, f"column {column!r} holds values that are not numbers; "
                                      "truncated or corrupt?")
    if frame["Total Request Count"].isna().any():
        raise AnalysisError(path, "rows end early (no Total Request Count): truncated?")
    return frame


def _read_csv(path: Path, nrows: int | None = None, keep_default_na: bool = False) -> pd.DataFrame:
    try:
        return pd.read_csv(path, nrows=nrows, keep_default_na=keep_default_na)
    except FileNotFoundError:
        raise AnalysisError(path, "file is missing") from None
    except pd.errors.EmptyDataError:
        raise AnalysisError(path, "file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AnalysisError(path, f"cannot parse ({message}); truncated or corrupt?") from None
