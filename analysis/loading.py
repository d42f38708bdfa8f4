"""Load a sweep directory (results/README.md, schema 1 or 2) or plain Locust CSV output into
pandas. run.json and manifest.json are read through runmodel's records; each run's dimensions
are labelled by runmodel's registry. The loaded sweep is a ``Sweep``; its tidy rows are built
in ``analysis._rows``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from analysis._errors import AnalysisError
from analysis._locust import (
    AGGREGATED,
    aggregate,
    figures,
    read_endpoints,
    read_history_csv,
    read_stats_csv,
)
from analysis._locust import read_hdr_evidence as read_hdr_evidence  # public, as before
from analysis._rows import (
    POINT_KEYS,
    base_row,
    endpoint_keys,
    run_rows,
    stats_csv_rows,
    tidy_frame,
)
from analysis._sweep import Sweep
from analysis.dimensions import label_of
from runmodel import littles_law
from runmodel.records import SCHEMA_VERSIONS, RecordError, load_manifest, load_run

__all__ = ["POINT_KEYS", "SCHEMA_VERSIONS", "Sweep", "delay_label", "envelope_label", "load",
           "load_history", "load_locust_csv", "load_sweep", "think_time"]


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
        rows.extend(run_rows(manifest, run, run_dir))
    if not rows:
        raise AnalysisError(runs_dir, "no finished runs (no run directory has a run.json)")
    return Sweep(path, manifest, tidy_frame(rows), unfinished)


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
    base = base_row("locust-csv", prefix.name, prefix.name, params, {"verdict": verdict}, True)
    rows: list[dict[str, Any]] = []
    if json_path.exists():
        endpoints = read_endpoints(json_path)
        total_row = aggregate(endpoints)
        seconds = total_row["last"] - total_row["start"]
        for row in [*endpoints, total_row]:
            rows.append({**base, **endpoint_keys(row), **figures(row, seconds),
                         "histogram": row["histogram"], "hdr": None})
    else:
        rows = stats_csv_rows(base, stats)
    manifest = {"schema_version": 1, "sweep_id": prefix.name, "status": "complete",
                "points": [prefix.name], "source": "locust-csv"}
    return Sweep(stats_path.parent.resolve(), manifest, tidy_frame(rows))


def load_history(path: Path | str) -> pd.DataFrame:
    """A Locust ``_stats_history.csv``, typed (``N/A`` as NaN)."""
    return read_history_csv(Path(path))


def think_time(pacing: dict[str, Any]) -> float:
    """Mean seconds a user waits between requests under a pacing (for Little's law;
    ``runmodel.littles_law.think_time``: NaN where not known here)."""
    return littles_law.think_time(pacing)


def _users_from_history(prefix: Path) -> int:
    history_path = Path(f"{prefix}_stats_history.csv")
    if not history_path.exists():
        return 0
    history = read_history_csv(history_path)
    return int(history["User Count"].max()) if len(history) else 0


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
