"""The tidy rows of a loaded sweep (``analysis.loading``): one per run and endpoint, holding the
point's parameters, its verdict, the CPU and server-side evidence and the figures, read from
run.json, Locust's files and the run's HDR evidence."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis._errors import AnalysisError
from analysis._locust import (
    AGGREGATED,
    aggregate,
    figures,
    read_endpoints,
    read_hdr_evidence,
    read_stats_csv,
)
from analysis.dimensions import EXTRA_KEYS, label_of
from runmodel import littles_law
from runmodel.dimensions import point_keys

# A configuration of the matrix (its repeats share these; runmodel's point keys): a dimension
# newer than a run reads as its default ("small" payload, "none" envelope, ...).
POINT_KEYS = list(point_keys())
NO_STATS_STATUSES = ("failed", "interrupted", "too-few-samples")


def stats_csv_rows(base: dict[str, Any], stats: pd.DataFrame,
                   seconds: float | None = None) -> list[dict[str, Any]]:
    """Rows from a Locust ``_stats.csv``: its percentiles, no histogram.

    With ``seconds`` (the measured window), the rate is requests / seconds; otherwise Locust's
    own ``Requests/s`` column.
    """
    rows = []
    for _, line in stats.iterrows():
        keys = endpoint_keys({"name": str(line["Name"]), "method": str(line["Type"])})
        requests = int(line["Request Count"])
        rps = requests / seconds if seconds and seconds > 0 else float(line["Requests/s"])
        rows.append({**base, **keys, "requests": requests,
                     "failures": int(line["Failure Count"]),
                     "failure_ratio": line["Failure Count"] / max(requests, 1),
                     "rps": rps, "mean_ms": float(line["Average Response Time"]),
                     "p50_ms": float(line["50%"]), "p90_ms": float(line["90%"]),
                     "p95_ms": float(line["95%"]), "p99_ms": float(line["99%"]),
                     "max_ms": float(line["Max Response Time"]), "histogram": {},
                     "hdr": None, "latency_source": "Locust's stats CSV (no histogram)"})
    return rows


def run_rows(manifest: dict[str, Any], run: dict[str, Any], run_dir: Path) -> list[dict[str, Any]]:
    """One run directory's rows: every endpoint of its ``locust.json`` and the Aggregated row."""
    run_json = run_dir / "run.json"
    try:
        params = run["params"]
        base = base_row(str(manifest.get("sweep_id")), str(run["point_id"]), str(run["run_id"]),
                        params, run, bool(run.get("final", False)))
    except (KeyError, TypeError, AttributeError) as error:
        raise AnalysisError(run_json, f"missing or malformed field {error}") from None
    locust_json = run_dir / "locust.json"
    if not locust_json.exists() and base["status"] in NO_STATS_STATUSES:
        endpoints = []  # Locust wrote no stats: the point stays, with its verdict, no figures
    elif not locust_json.exists() and run.get("remote") is not None:
        # A remote master that does not serve its --json-file statistics: its stats CSV
        # (Locust's percentiles, no histogram), over the measured window.
        stats = read_stats_csv(run_dir / "locust_stats.csv")
        return stats_csv_rows(base, stats, float(base["window_s"]))
    else:
        endpoints = read_endpoints(locust_json)
    hdrs = read_hdr_evidence(run_dir / "evidence")
    for endpoint in endpoints:
        endpoint["hdr"] = (hdrs or {}).get((endpoint["method"], endpoint["name"])) if (
            hdrs is not None) else None
    total = aggregate(endpoints)
    # one throughput everywhere: requests in the measured window / the window's seconds, as
    # run.json's requests.rps (results/README.md)
    seconds = float(base["window_s"])
    if not seconds > 0:
        seconds = total["last"] - total["start"]
    return [{**base, **endpoint_keys(row), **figures(row, seconds), "histogram": row["histogram"],
             "hdr": row.get("hdr")} for row in [*endpoints, total]]


def base_row(sweep_id: str, point_id: str, run_id: str, params: dict[str, Any],
             run: dict[str, Any], final: bool) -> dict[str, Any]:
    """The columns every endpoint row of a run shares: the point, the verdict, the evidence."""
    window = run.get("window") or {}
    verdict = run.get("verdict") or {"status": "unknown", "reasons": ["run.json has no verdict"]}
    cpu = run.get("cpu") or {}
    generator = cpu.get("generator") or {}
    service = cpu.get("service") or {}
    pacing = params.get("pacing") or {"kind": "none"}
    server = run.get("server") or {}  # schema 2: the service's own view of the window
    load = (server.get("load") or {}) if server.get("available") else {}
    overhead = run.get("client_overhead") or {}
    law = (verdict.get("evidence") or {}).get("littles_law") or {}  # the generator's own count
    return {
        "sweep_id": sweep_id, "point_id": point_id, "run_id": run_id, "final": final,
        "attempt": int(run.get("attempt", 1)),
        "user_class": str(params["user_class"]), "mix": str(params["mix"]),
        # every series dimension of runmodel's registry by its label (a run older than a
        # dimension has its default): backend memory, postgres or postgres+cache; the CPU
        # envelope none, "0.25 vCPU", "fargate-256 (0.25 vCPU)"; the added delay none, "10 ms",
        # "40±5 ms"; the payload small, 4k, ...
        **{name: label_of(name, params.get(name) or None) for name in EXTRA_KEYS},
        **_throttling(run.get("cpu_limit")),
        "users": int(params["users"]), "repeat": int(params["repeat"]),
        "processes": int(params.get("processes", 1)),
        "pacing": str(pacing.get("kind", "none")), "think_s": littles_law.think_time(pacing),
        "per_user_rps": float(pacing["per_user_rps"]) if "per_user_rps" in pacing else math.nan,
        "duration_s": _number(params.get("duration_s")),
        "window_s": _number(window.get("seconds")),
        "window_start": _epoch(window.get("start")), "window_end": _epoch(window.get("end")),
        "exit_code": run.get("exit_code"),
        "status": str(verdict.get("status", "unknown")),
        "reasons": "; ".join(str(reason) for reason in verdict.get("reasons") or []),
        "warnings": "; ".join(str(warning) for warning in verdict.get("warnings") or []),
        "gen_cpu_mean": _number(generator.get("mean_process_percent")),
        "gen_cpu_max": _number(generator.get("max_process_percent")),
        "gen_cpu_total": _number(generator.get("total_percent")),
        "service_cpu_mean": _number(service.get("mean_percent")),
        "service_cpu_max": _number(service.get("max_percent")),
        "server_requests": _number(load.get("requests")),
        # the service's count of Locust's own window, read after it (server.window_count)
        "server_window_requests": _number(
            (server.get("window_count") or {}).get("service_requests")),
        "server_mean_ms": _number(load.get("mean_ms")),
        "server_p50_ms": _number(load.get("p50_ms")),
        "server_p95_ms": _number(load.get("p95_ms")),
        "server_p99_ms": _number(load.get("p99_ms")),
        "client_overhead_share": _number(overhead.get("overhead_share")),
        # requests in flight counted by the generator (mean over the window), the requests
        # still unanswered at its end and the oldest's age (NaN where not recorded)
        "measured_in_flight": _number(law.get("measured_in_flight")),
        "in_flight_at_end": _number(law.get("in_flight_at_end")),
        "oldest_in_flight_s": _number(law.get("oldest_in_flight_s")),
        # requests open at the window's end (requests.censored), and per percentile those
        # already older than it: the ones that make it a lower bound (runmodel.censoring)
        "censored_open": _number(_censored(run).get("open")),
        **{f"censored_older_{name}": _number(
            ((_censored(run).get("percentiles") or {}).get(name) or {}).get("open_older"))
           for name in ("p50", "p95", "p99")},
        # an open-model point (run.json ``open_model``; NaN for a closed one): its offered rate,
        # arrivals dropped, latency from the intended start, service time and schedule lag
        **{f"open_{key}": _number((run.get("open_model") or {}).get(key)) for key in (
            "offered_rps", "started_rps", "intended", "dropped", "intended_p50_ms",
            "intended_p95_ms", "intended_p99_ms", "service_p50_ms", "service_p95_ms",
            "service_p99_ms", "lag_p99_ms")},
    }


def endpoint_keys(row: dict[str, Any]) -> dict[str, str]:
    """``method``, ``name`` and the ``endpoint`` label (``GET /products/{id}``, Aggregated)."""
    name, method = row["name"], row["method"]
    endpoint = name if name == AGGREGATED or name.startswith(f"{method} ") else f"{method} {name}"
    return {"method": method, "name": name, "endpoint": endpoint.strip()}


def tidy_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a data frame, in the order of the matrix (point keys, repeat, attempt)."""
    frame = pd.DataFrame(rows)
    order = [*POINT_KEYS, "repeat", "attempt"]
    frame = frame.sort_values([*order, "endpoint"], kind="stable").reset_index(drop=True)
    return frame


def _epoch(value: Any) -> float:
    if not value:
        return math.nan
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return math.nan


def _throttling(limit: Any) -> dict[str, float]:
    """The quota's period and the share of periods the kernel throttled in the window."""
    limit = limit if isinstance(limit, dict) else {}
    counted = limit.get("throttling") if isinstance(limit.get("throttling"), dict) else {}
    period = limit.get("period_us")
    ratio = counted.get("throttled_ratio")
    return {"cpu_period_ms": float(period) / 1000 if period and limit.get("vcpu") else math.nan,
            "throttled_ratio": float(ratio) if ratio is not None else math.nan}


def _censored(run: dict[str, Any]) -> dict[str, Any]:
    """run.json's ``requests.censored`` block ({} when the run recorded none)."""
    return (run.get("requests") or {}).get("censored") or {}


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)
