"""Load a sweep directory (results/README.md, schema 1 or 2) or plain Locust CSV output into
pandas. run.json and manifest.json are read through runmodel's records; each run's dimensions
are labelled by runmodel's registry."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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
    read_history_csv,
    read_stats_csv,
)
from analysis.dimensions import EXTRA_KEYS, label_of
from runmodel import littles_law
from runmodel.dimensions import point_keys
from runmodel.records import SCHEMA_VERSIONS, RecordError, load_manifest, load_run

__all__ = ["POINT_KEYS", "SCHEMA_VERSIONS", "Sweep", "delay_label", "envelope_label", "load",
           "load_history", "load_locust_csv", "load_sweep", "think_time"]

DEFAULT_GENERATOR_THRESHOLD = 90.0

# A configuration of the matrix (its repeats share these; runmodel's point keys): a dimension
# newer than a run reads as its default ("small" payload, "none" envelope, ...).
POINT_KEYS = list(point_keys())
NO_STATS_STATUSES = ("failed", "interrupted", "too-few-samples")


@dataclass
class Sweep:
    """A loaded sweep: its manifest and one tidy row per run and endpoint.

    ``runs`` has one row per run directory with ``run.json`` and endpoint (``Aggregated`` is
    one of them), with the point's parameters, verdict, CPU evidence and the figures; the
    ``histogram`` column holds each row's Locust response-time histogram. ``final`` marks the
    run the analysis uses for its point.
    """

    path: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    unfinished: list[str] = field(default_factory=list)

    @property
    def sweep_id(self) -> str:
        return str(self.manifest.get("sweep_id") or self.path.name)

    @property
    def points(self) -> pd.DataFrame:
        """The final run of every finished point, all endpoints."""
        return self.runs[self.runs["final"]].reset_index(drop=True)

    @property
    def aggregated(self) -> pd.DataFrame:
        """The final runs' Aggregated rows: one row per point."""
        points = self.points
        return points[points["endpoint"] == AGGREGATED].reset_index(drop=True)

    @property
    def missing_points(self) -> list[str]:
        """Points of the matrix that have no finished final run (a partial sweep)."""
        done = set(self.points["point_id"])
        return [point for point in self.manifest.get("points", []) if point not in done]

    def run_dir(self, run_id: str) -> Path:
        return self.path / "runs" / run_id

    @property
    def generator_cpu_threshold(self) -> float:
        """The sweep's generator-bound threshold (% of one core): manifest config, else 90."""
        config = self.manifest.get("config") or {}
        value = config.get("generator_cpu_threshold") if isinstance(config, dict) else None
        try:
            threshold = float(value) if value is not None else DEFAULT_GENERATOR_THRESHOLD
        except (TypeError, ValueError):
            return DEFAULT_GENERATOR_THRESHOLD
        return threshold if math.isfinite(threshold) and threshold > 0 else (
            DEFAULT_GENERATOR_THRESHOLD)

    def history(self, run_id: str) -> pd.DataFrame:
        """The per-second Aggregated history of one run.

        Adds ``elapsed_s``, ``in_window``, ``phase`` and ``rps``: requests completed in each
        interval, from the change of Locust's running total, where Locust's own ``Requests/s``
        column is a trailing average that lags by seconds. The running total restarts at the
        stats reset (the window start), so no rate is derived across it: the first row after
        the reset has ``phase`` "reset" and ``rps`` NaN; earlier rows are "ramp", later
        "window" (rows after the window end stay "window": Locust was stopping).
        """
        frame = load_history(self.run_dir(run_id) / "locust_stats_history.csv")
        frame = frame[frame["Name"] == AGGREGATED].reset_index(drop=True)
        total = frame["Total Request Count"]
        completed = total.diff().fillna(total)
        seconds = frame["Timestamp"].diff().fillna(1).clip(lower=1)
        row = self.runs[self.runs["run_id"] == run_id].iloc[0]
        start = frame["Timestamp"].min() if len(frame) else 0
        frame["elapsed_s"] = frame["Timestamp"] - start
        window_start, window_end = row["window_start"], row["window_end"]
        if math.isnan(window_start):
            frame["in_window"] = True
            after = pd.Series(True, index=frame.index)
            reset = completed < 0  # no recorded reset time: a drop of the total shows it
        else:
            # a row at second T covers (T - 1, T]: in the window when it ends after the start
            after = frame["Timestamp"] > window_start
            frame["in_window"] = after & (frame["Timestamp"] <= math.ceil(window_end))
            reset = after & ~after.shift(1, fill_value=False)
            if reset.any() and int(reset.idxmax()) == 0:
                reset[:] = False  # the history starts after the reset: nothing to cross
        frame["phase"] = "window"
        frame.loc[~after, "phase"] = "ramp"
        frame.loc[reset, "phase"] = "reset"
        frame["rps"] = (completed / seconds).where(~reset)
        return frame


def load(path: Path | str) -> Sweep:
    """Load a sweep directory, or a plain Locust ``--csv`` prefix (as a one-point sweep)."""
    path = Path(path)
    if path.is_dir() and (path / "manifest.json").exists():
        return load_sweep(path)
    if path.is_dir():
        raise AnalysisError(path, "not a sweep directory (no manifest.json)")
    if Path(f"{path}_stats.csv").exists():
        return load_locust_csv(path)
    raise AnalysisError(path, "no such sweep directory or Locust CSV prefix "
                              f"(looked for {path}/manifest.json and {path}_stats.csv)")


def load_sweep(path: Path | str) -> Sweep:
    """Load a sweep directory written by ``python -m scenarios.sweep``."""
    path = Path(path).resolve()
    try:
        manifest = load_manifest(path / "manifest.json").to_dict()
    except RecordError as error:
        raise AnalysisError(error.path, error.problem) from None
    rows: list[dict[str, Any]] = []
    unfinished: list[str] = []
    runs_dir = path / "runs"
    run_dirs = sorted(p for p in runs_dir.iterdir() if p.is_dir()) if runs_dir.is_dir() else []
    for run_dir in run_dirs:
        if not (run_dir / "run.json").exists():
            unfinished.append(run_dir.name)
            continue
        try:
            run = load_run(run_dir / "run.json").to_dict()
        except RecordError as error:
            raise AnalysisError(error.path, error.problem) from None
        rows.extend(_run_rows(manifest, run, run_dir))
    if not rows:
        raise AnalysisError(runs_dir, "no finished runs (no run directory has a run.json)")
    return Sweep(path, manifest, _frame(rows), unfinished)


def load_locust_csv(prefix: Path | str) -> Sweep:
    """Load plain Locust output written outside the sweep runner, given its ``--csv`` prefix.

    Uses ``PREFIX.json`` (``--json-file PREFIX``) for exact histogram percentiles when it is
    there, else the percentiles in ``PREFIX_stats.csv``. The result is a one-point sweep.
    """
    prefix = Path(prefix)
    stats_path = Path(f"{prefix}_stats.csv")
    stats = read_stats_csv(stats_path)
    total = stats[stats["Name"] == AGGREGATED].iloc[0]
    if int(total["Request Count"]) == 0:
        raise AnalysisError(stats_path, "no requests recorded (an empty run)")
    json_path = Path(f"{prefix}.json")
    params = {"user_class": "unknown", "mix": "unknown", "users": _users_from_history(prefix),
              "repeat": 1, "processes": 1, "pacing": {"kind": "none"}}
    verdict = {"status": "unchecked",
               "reasons": ["plain Locust output: no CPU evidence, generator load not checked"]}
    base = _base_row("locust-csv", prefix.name, prefix.name, params, {"verdict": verdict}, True)
    rows: list[dict[str, Any]] = []
    if json_path.exists():
        endpoints = read_endpoints(json_path)
        total_row = aggregate(endpoints)
        seconds = total_row["last"] - total_row["start"]
        for row in [*endpoints, total_row]:
            rows.append({**base, **_endpoint_keys(row), **figures(row, seconds),
                         "histogram": row["histogram"], "hdr": None})
    else:
        rows = _stats_csv_rows(base, stats)
    manifest = {"schema_version": 1, "sweep_id": prefix.name, "status": "complete",
                "points": [prefix.name], "source": "locust-csv"}
    return Sweep(stats_path.parent.resolve(), manifest, _frame(rows))


def _stats_csv_rows(base: dict[str, Any], stats: pd.DataFrame,
                    seconds: float | None = None) -> list[dict[str, Any]]:
    """Rows from a Locust ``_stats.csv``: its percentiles, no histogram.

    With ``seconds`` (the measured window), the rate is requests / seconds; otherwise Locust's
    own ``Requests/s`` column.
    """
    rows = []
    for _, line in stats.iterrows():
        keys = _endpoint_keys({"name": str(line["Name"]), "method": str(line["Type"])})
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


def load_history(path: Path | str) -> pd.DataFrame:
    """A Locust ``_stats_history.csv``, typed (``N/A`` as NaN)."""
    return read_history_csv(Path(path))


def _run_rows(manifest: dict[str, Any], run: dict[str, Any], run_dir: Path) -> list[dict[str, Any]]:
    run_json = run_dir / "run.json"
    try:
        params = run["params"]
        base = _base_row(str(manifest.get("sweep_id")), str(run["point_id"]), str(run["run_id"]),
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
        return _stats_csv_rows(base, stats, float(base["window_s"]))
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
    return [{**base, **_endpoint_keys(row), **figures(row, seconds), "histogram": row["histogram"],
             "hdr": row.get("hdr")} for row in [*endpoints, total]]


def _base_row(sweep_id: str, point_id: str, run_id: str, params: dict[str, Any],
              run: dict[str, Any], final: bool) -> dict[str, Any]:
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
        "pacing": str(pacing.get("kind", "none")), "think_s": think_time(pacing),
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


def think_time(pacing: dict[str, Any]) -> float:
    """Mean seconds a user waits between requests under a pacing (for Little's law;
    ``runmodel.littles_law.think_time``: NaN where not known here)."""
    return littles_law.think_time(pacing)


def _endpoint_keys(row: dict[str, Any]) -> dict[str, str]:
    name, method = row["name"], row["method"]
    endpoint = name if name == AGGREGATED or name.startswith(f"{method} ") else f"{method} {name}"
    return {"method": method, "name": name, "endpoint": endpoint.strip()}


def _users_from_history(prefix: Path) -> int:
    history_path = Path(f"{prefix}_stats_history.csv")
    if not history_path.exists():
        return 0
    history = read_history_csv(history_path)
    return int(history["User Count"].max()) if len(history) else 0


def _epoch(value: Any) -> float:
    if not value:
        return math.nan
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return math.nan


def envelope_label(name: Any, vcpu: Any) -> str:
    """The CPU envelope as the report names it (the registry's label: ``0.25 vCPU``,
    ``fargate-256 (0.25 vCPU)``); none for runs older than the envelope or without vCPUs."""
    if name is None or vcpu is None:
        return "none"
    return label_of("service_cpu", name)


def delay_label(delay: Any) -> str:
    """The added round-trip delay as the report names it: ``10 ms``, ``40±5 ms`` or none (also
    for runs older than the delay): the registry's label."""
    return label_of("rtt_delay", delay)


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


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    order = [*POINT_KEYS, "repeat", "attempt"]
    frame = frame.sort_values([*order, "endpoint"], kind="stable").reset_index(drop=True)
    return frame
