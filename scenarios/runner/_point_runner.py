"""A sweep's points, one at a time: a point's run (here or on a remote master), judged and
written, run again with more Locust processes while ``--processes auto`` finds it
generator-bound; and the client's overhead calibrated once per user class.

``SweepRunner`` (``_runner``) is the sweep around it: preflight, the points in order, signals
and the manifest.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any

from scenarios.runner._local_run import LocalRun
from scenarios.runner._sweep_target import SweepTarget
from scenarios.runner.config import Objective, Point, SweepConfig
from scenarios.runner.evidence import Thresholds
from scenarios.runner.generator import calibrate
from scenarios.runner.record import Progress, build_record, write_json
from scenarios.runner.remote import run_on_master


class PointRunner:
    """Runs a sweep's points into ``sweep_dir``: each point's run.json and its progress line."""

    def __init__(self, config: SweepConfig, points: list[Point], objectives: list[Objective],
                 sweep_dir: Path) -> None:
        self.config = config
        self.points = points
        self.objectives = objectives
        self.sweep_dir = sweep_dir
        self.manifest: dict[str, Any] = {}
        self.local = config.target == "local"
        self.stop_event = threading.Event()
        self.thresholds = Thresholds(config.generator_cpu_threshold, config.error_threshold,
                                     config.min_requests)
        self.placement: dict[str, Any] = {}
        # the service, its database, cache and CPU envelope, and the Locust fork server
        self.target = SweepTarget(config, points, self.sweep_dir, self.local)
        self.log = logging.getLogger(f"scenarios.sweep.{id(self)}")
        self.progress = Progress(len(points), config.ramp_s + config.duration_s)

    def _load_over(self) -> None:
        """The current point's window is over: start the following point's service (outside the
        envelope, whose quota stays in force until this point's Locust has exited)."""
        self.target.prepare_following(self.placement)

    # --- client-overhead calibration, once per sweep and user class -----------------------
    def _calibrate(self) -> dict[str, Any]:
        services = self.target.services
        host = services.spare_url if services else self.config.host
        result: dict[str, Any] = {}
        if not self.config.product:  # calibrated against the product's /health only
            return {}
        for short_name in dict.fromkeys(p.user_class for p in self.points):
            fork_server = self.target.fork_server
            if self.stop_event.is_set() or host is None or fork_server is None:
                break
            self.progress.note(f"calibrating the {short_name} client against {host}/health")
            result[short_name] = calibrate(fork_server, host, short_name,
                                           self.placement.get("generator_cpus"),
                                           self.target.calibration_key(self.placement))
            self.log.info("calibration %s: %s", short_name, result[short_name])
        return result

    def _calibration(self, point: Point) -> dict[str, Any] | None:
        figures = self.manifest.get("calibration", {}).get(point.user_class)
        return figures if isinstance(figures, dict) and "error" not in figures else None

    # --- one run --------------------------------------------------------------------------------
    def _max_processes(self) -> int:
        cpus = self.placement.get("generator_cpus")
        if cpus:
            return len(cpus)
        return max(1, self.placement["cpu_count"] - (1 if self.local else 0))

    def _run_once(self, point: Point, processes: int, attempt: int, index: int,
                  more_to_come: bool) -> dict[str, Any]:
        config = self.config
        run_id = point.run_id(processes)
        run_dir = self.sweep_dir / "runs" / run_id
        if run_dir.exists():
            shutil.rmtree(run_dir)  # an attempt that never finished
        run_dir.mkdir(parents=True)
        run_tag = f"{point.user_class}.u{point.users}.r{point.repeat}.p{processes}"
        if self.config.master_host:
            self.progress.start(index, run_id, f"users={point.users} on {config.master_host}")
            self.log.info("%s: start on the master %s", run_id, config.master_host)
            outcome = run_on_master(config, point, run_tag, run_dir, self.stop_event)
            return build_record(point, processes, attempt, outcome, config, self.thresholds,
                                self.objectives, self.placement, with_service=False,
                                calibration=self._calibration(point))
        service, failure_note = self.target.take(point, self.placement)
        self.progress.start(index, run_id, f"users={point.users} processes={processes} "
                            f"attempt={attempt}")
        self.log.info("%s: start (users %d, processes %d, attempt %d, host %s)", run_id,
                      point.users, processes, attempt, service.url if service else config.host)
        assert self.target.fork_server is not None
        local = LocalRun(config, self.placement, self.stop_event, self.progress.tick,
                         self._load_over, self.target.envelope)
        outcome = self.target.run(local, point, processes, run_dir, run_tag, service,
                                  failure_note, more_to_come)
        record = build_record(point, processes, attempt, outcome, config, self.thresholds,
                              self.objectives, self.placement,
                              with_service=self.local or bool(self.config.service_pid
                                                              or self.config.service_cgroup),
                              calibration=self._calibration(point))
        missing = (record.get("service_side") or {}).get("missing")
        if missing:  # a service of the user's own that gave no side of its own
            record["verdict"]["warnings"].append(missing)
        if service is not None and service.health_info:  # the backend and fast path it ran with
            record["service"] = {key: service.health_info.get(key) for key in
                                 ("version", "store", "cache", "fastReads", "capacity")}
        if service is not None and point.backend.store != "memory":
            record["database"] = {"reset_s": (round(service.reset_s, 4)
                                              if service.reset_s is not None else None),
                                  "seed_products": config.seed_products,
                                  "cpus": self.placement.get("service_cpus")}
        return record

    # --- a point: one run, or more with --processes auto ---------------------------------------
    def _run_point(self, point: Point, index: int, last: bool) -> dict[str, Any]:
        auto = self.config.processes == "auto" and not self.config.master_host
        processes = (self.config.expect_workers if self.config.master_host
                     else 1 if auto else int(self.config.processes))
        attempt = 1
        while True:
            record = self._run_once(point, processes, attempt, index, more_to_come=auto or not last)
            status = record["verdict"]["status"]
            if status == "interrupted":
                self._write_run(record, final=False)
                return record
            if auto:
                record["processes_auto"] = {"max_processes": self._max_processes(),
                                            "escaped": status != "generator-bound"}
            if auto and status == "generator-bound":
                more = min(self._max_processes(), processes * 2)
                if more > processes:
                    message = (f"{record['run_id']}: generator-bound with {processes} Locust "
                               f"process(es); running it again with {more}")
                    self.log.warning(message)
                    self.progress.finish(record["run_id"], "generator-bound (rerun with "
                                         f"{more} processes)", final=False)
                    record["processes_auto"]["next_processes"] = more
                    self._write_run(record, final=False)
                    processes, attempt = more, attempt + 1
                    continue
                cpus = self.placement.get("generator_cpus") or []
                message = (f"cannot escape generator-bound: {processes} Locust process(es) "
                           f"already use the {len(cpus) or self._max_processes()} CPU(s) left "
                           f"for generators (generator CPUs {cpus or 'unpinned'}, service CPUs "
                           f"{self.placement.get('service_cpus')})")
                record["processes_auto"]["note"] = message
                record["verdict"]["reasons"].append(message)
                self.log.warning("%s: %s", record["run_id"], message)
                self.progress.note(f"{record['run_id']}: {message}")
            self._write_run(record, final=True)
            return record

    def _write_run(self, record: dict[str, Any], final: bool) -> None:
        record["final"] = final
        run_dir = self.sweep_dir / "runs" / record["run_id"]
        write_json(run_dir / "run.json", record)
        verdict = record["verdict"]
        requests = record["requests"]
        self.log.info("%s: %s (final %s): %s rps, %s requests, %s failures%s", record["run_id"],
                      verdict["status"], final, requests["rps"], requests["total"],
                      requests["failures"],
                      "".join(f"; {r}" for r in verdict["reasons"] + verdict["warnings"]))
        if final or verdict["status"] == "interrupted":
            rps = f"{requests['rps']:.0f} rps" if requests["rps"] is not None else "no stats"
            slo = record["slo"]["violations"]
            self.progress.finish(record["run_id"], f"{verdict['status']}, {rps}"
                                 + (f", SLO missed: {'; '.join(slo)}" if slo else ""), final)
