"""Results writing: the sweep directory, manifest and run.json (schema of results/README.md),
atomic writes, the run record built from a run's outcome and verdict, and the progress lines and
summary table printed while a sweep runs.

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner.record._progress import Progress, summary_table
    from scenarios.runner.record._results_io import (
        SCHEMA_VERSION,
        final_runs,
        finished_points,
        new_manifest,
        point_latest_symlink,
        read_json,
        stale_runs,
        sweep_id,
        utc_iso,
        write_atomic,
        write_json,
    )
    from scenarios.runner.record._run_record import RunOutcome, build_record

__all__ = [
    "SCHEMA_VERSION",
    "Progress",
    "RunOutcome",
    "build_record",
    "final_runs",
    "finished_points",
    "new_manifest",
    "point_latest_symlink",
    "read_json",
    "stale_runs",
    "summary_table",
    "sweep_id",
    "utc_iso",
    "write_atomic",
    "write_json",
]

_HOMES = {  # public name -> (module of this package, its name there)
    "SCHEMA_VERSION": ("_results_io", "SCHEMA_VERSION"),
    "final_runs": ("_results_io", "final_runs"),
    "finished_points": ("_results_io", "finished_points"),
    "new_manifest": ("_results_io", "new_manifest"),
    "point_latest_symlink": ("_results_io", "point_latest_symlink"),
    "read_json": ("_results_io", "read_json"),
    "stale_runs": ("_results_io", "stale_runs"),
    "sweep_id": ("_results_io", "sweep_id"),
    "utc_iso": ("_results_io", "utc_iso"),
    "write_atomic": ("_results_io", "write_atomic"),
    "write_json": ("_results_io", "write_json"),
    "RunOutcome": ("_run_record", "RunOutcome"),
    "build_record": ("_run_record", "build_record"),
    "Progress": ("_progress", "Progress"),
    "summary_table": ("_progress", "summary_table"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
