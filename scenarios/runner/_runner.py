"""The sweep loop: preflight, the points in order, signals, the manifest and the summary.

A point's runs (``--processes auto`` included) are ``PointRunner``'s (``_point_runner``); the
local processes they run against are ``SweepTarget``'s (``_sweep_target``).
"""

from __future__ import annotations

import logging
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from scenarios.runner._point_runner import PointRunner
from scenarios.runner.config import Objective, Point, SweepConfig
from scenarios.runner.evidence import ServiceSideError, check_target, shown_percentile
from scenarios.runner.generator import RemoteMasterError
from scenarios.runner.record import (
    final_runs,
    finished_points,
    new_manifest,
    point_latest_symlink,
    stale_runs,
    summary_table,
    sweep_id,
    utc_iso,
    write_json,
)
from scenarios.runner.remote import check_master
from scenarios.runner.target import TargetError, default_placement, health, keep_runner_off

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class SweepRunner(PointRunner):
    """A sweep: every point not yet final, in order, into a new or resumed sweep directory."""

    def __init__(self, config: SweepConfig, points: list[Point], objectives: list[Objective],
                 sweep_dir: Path | None = None, manifest: dict[str, Any] | None = None) -> None:
        self.resuming = sweep_dir is not None
        self.started = time.time()
        super().__init__(config, points, objectives,
                         sweep_dir or _new_sweep_dir(Path(config.out),
                                                     sweep_id(config.preset, self.started)))
        self.manifest = manifest or {}
        self.failed_fast = False
        self.auto_envelope: dict[str, Any] | None = None  # --service-cpu auto's sizing
        self.envelope_check: dict[str, Any] | None = None  # the quota's requests per period

    # --- set-up ---------------------------------------------------------------------------------
    def _preflight(self) -> dict[str, Any]:
        """The target answers GET /health, or TargetError (exit 2, one line)."""
        if self.config.master_host:
            try:
                self.placement["remote_master"] = check_master(self.config)
            except RemoteMasterError as exc:
                raise TargetError(f"preflight: {exc}") from None
            return {}
        self.target.prepare(self.placement)
        if self.target.services is not None:
            try:
                return self.target.services.preflight()
            except TargetError as exc:
                self.target.discard()
                raise TargetError(f"preflight: {exc}") from None
        host = self.config.host
        assert host is not None
        try:
            if not self.config.product:  # any service: it answers, and so do its metrics
                config = self.config
                return check_target(host, config.server_metrics, config.server_histogram,
                                    config.server_route_label)
            return health(host)
        except (TargetError, ServiceSideError) as exc:
            self.target.discard()
            raise TargetError(f"preflight: {exc}") from None

    def _open_log(self) -> None:
        handler = logging.FileHandler(self.sweep_dir / "sweep.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.log.addHandler(handler)
        self.log.setLevel(logging.INFO)
        self.log.propagate = False

    def _write_manifest(self, status: str, health_info: dict[str, Any] | None = None) -> None:
        if not self.manifest:
            target = self.target
            self.manifest = new_manifest(
                self.config, self.sweep_dir.name, self.started, [p.point_id for p in self.points],
                host=target.services.spare_url if target.services else None,
                service_version=(health_info or {}).get("version"), placement=self.placement)
            self.manifest["target"]["backend_servers"] = (target.servers.describe()
                                                         if target.servers else None)
            self.manifest["target"]["health"] = health_info
            self.manifest["target"]["cpu_limit"] = (target.envelope.describe()
                                                    if target.envelope else None)
            if self.auto_envelope is not None:
                self.manifest["target"]["cpu_limit_auto"] = self.auto_envelope
            if self.envelope_check is not None:
                self.manifest["target"]["cpu_limit_check"] = self.envelope_check
        self.manifest["status"] = status
        if status == "running" and self.resuming:
            self.manifest["finished_at"] = None
            self.manifest.setdefault("resumed_at", []).append(utc_iso())
        elif status != "running":
            self.manifest["finished_at"] = utc_iso()
        write_json(self.sweep_dir / "manifest.json", self.manifest)

    # --- the sweep ------------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_event.set()

    def run(self) -> int:
        """Run every unfinished point; the exit status (0, 1 or 130)."""
        self.placement = default_placement(self.config.service_cpus, self.config.generator_cpus,
                                           self.local)
        self.placement["runner_cpus"] = keep_runner_off(self.placement.get("generator_cpus"))
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            try:
                health_info = self._preflight()
            except TargetError:
                if not self.resuming:
                    shutil.rmtree(self.sweep_dir, ignore_errors=True)
                raise
            self._open_log()
            self._write_manifest("running", health_info)
            if not self.config.master_host and "calibration" not in self.manifest:
                self.manifest["calibration"] = self._calibrate()
                write_json(self.sweep_dir / "manifest.json", self.manifest)
            if not self.resuming:
                try:
                    point_latest_symlink(self.sweep_dir.parent, self.sweep_dir)
                except OSError as exc:  # e.g. a real directory called "latest"
                    self.log.warning("could not point %s/latest here: %s",
                                     self.sweep_dir.parent, exc)
            status = self._run_points()
        finally:
            self.target.discard()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self._write_manifest(status)
        return self._report(status)

    def _run_points(self) -> str:
        done = finished_points(self.sweep_dir) if self.resuming else set()
        todo = [p for p in self.points if p.point_id not in done]
        for leftover in self.sweep_dir.glob(".*"):  # from a runner that was killed
            if leftover.is_file():
                leftover.unlink()
        if done:
            self.progress.note(f"resuming {self.sweep_dir}: {len(done)} points done, "
                               f"{len(todo)} to run")
            self.log.info("resume: %d points done, %d to run", len(done), len(todo))
        self.progress.total = len(todo)
        for number, point in enumerate(todo, start=1):
            for stale in stale_runs(self.sweep_dir, point.point_id):
                shutil.rmtree(stale)
            following = todo[number] if number < len(todo) else point
            self.target.next_backend = point.backend
            self.target.following_backend = following.backend
            self.target.next_payload, self.target.following_payload = (point.payload_bytes,
                                                                       following.payload_bytes)
            record = self._run_point(point, number, last=number == len(todo))
            if self.stop_event.is_set():
                self.log.warning("interrupted during %s", record["run_id"])
                return "interrupted"
            if self.config.fail_fast and (record["verdict"]["status"] != "valid"
                                          or record["slo"]["violations"]):
                self.log.warning("--fail-fast: stopping after %s", record["run_id"])
                self.failed_fast = True
                return "failed"
        return "complete"

    def _report(self, status: str) -> int:
        finals = final_runs(self.sweep_dir)
        rows = [{"run_id": r["run_id"], "rps": r["requests"]["rps"],  # "≥" for a lower bound
                 "p50": shown_percentile(r["requests"], "p50"),
                 "p95": shown_percentile(r["requests"], "p95"),
                 "failures": r["requests"]["failures"],
                 "verdict": r["verdict"]["status"] + (" +SLO" if r["slo"]["violations"] else ""),
                 "warnings": r["verdict"].get("warnings") or []}
                for point_id in self.manifest["points"] if (r := finals.get(point_id))]
        self.progress.note(summary_table(rows))
        self.progress.note(f"sweep {status}: {self.sweep_dir}")
        if status == "interrupted":
            return EXIT_INTERRUPTED
        all_valid = (len(finals) == len(self.manifest["points"])
                     and all(r["verdict"]["status"] == "valid" and not r["slo"]["violations"]
                             for r in finals.values()))
        return EXIT_OK if all_valid and status == "complete" else EXIT_INVALID


def _new_sweep_dir(out: Path, name: str) -> Path:
    """``out/name``, or ``out/name-2``, ``-3``... when it is taken."""
    candidate, number = out / name, 1
    while candidate.exists():
        number += 1
        candidate = out / f"{name}-{number}"
    return candidate
