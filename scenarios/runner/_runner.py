"""The sweep loop: preflight, the points in order, --processes auto, signals, the manifest."""

from __future__ import annotations

import logging
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

from scenarios.runner._local_run import LocalRun
from scenarios.runner.config import Objective, Point, SweepConfig
from scenarios.runner.evidence import (
    ServiceSideError,
    Thresholds,
    check_target,
    shown_percentile,
)
from scenarios.runner.generator import LocustForkServer, RemoteMasterError, calibrate
from scenarios.runner.record import (
    Progress,
    build_record,
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
from scenarios.runner.remote import check_master, run_on_master
from scenarios.runner.target import (
    BackendServers,
    CpuEnvelope,
    CpuLimitError,
    DelayProxy,
    ServicePool,
    TargetError,
    default_placement,
    describe,
    health,
    keep_runner_off,
    parse_rtt_delay,
    start_proxy,
)

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class SweepRunner:
    def __init__(self, config: SweepConfig, points: list[Point], objectives: list[Objective],
                 sweep_dir: Path | None = None, manifest: dict[str, Any] | None = None) -> None:
        self.config = config
        self.points = points
        self.objectives = objectives
        self.resuming = sweep_dir is not None
        self.started = time.time()
        self.sweep_dir = sweep_dir or _new_sweep_dir(Path(config.out),
                                                     sweep_id(config.preset, self.started))
        self.manifest: dict[str, Any] = manifest or {}
        self.local = config.target == "local"
        self.stop_event = threading.Event()
        self.thresholds = Thresholds(config.generator_cpu_threshold, config.error_threshold,
                                     config.min_requests)
        self.placement: dict[str, Any] = {}
        self.services: ServicePool | None = None
        self.servers: BackendServers | None = None
        self.envelope: CpuEnvelope | None = None  # the service's CPU quota (--service-cpu)
        # (store, cache) of the next service to start, and of the point after the current one
        self.next_backend = (points[0].store, points[0].cache) if points else ("memory", "off")
        self.following_backend = self.next_backend
        # the payload (description bytes) the next and the following point's services seed
        self.next_payload = points[0].payload_bytes if points else 0
        self.following_payload = self.next_payload
        self.fork_server: LocustForkServer | None = None
        self.log = logging.getLogger(f"scenarios.sweep.{id(self)}")
        self.progress = Progress(len(points), config.ramp_s + config.duration_s)
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
        self._prepare_spares()
        if self.services is not None:
            try:
                return self.services.preflight()
            except TargetError as exc:
                self._discard_spares()
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
            self._discard_spares()
            raise TargetError(f"preflight: {exc}") from None

    def _open_log(self) -> None:
        handler = logging.FileHandler(self.sweep_dir / "sweep.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.log.addHandler(handler)
        self.log.setLevel(logging.INFO)
        self.log.propagate = False

    def _write_manifest(self, status: str, health_info: dict[str, Any] | None = None) -> None:
        if not self.manifest:
            self.manifest = new_manifest(
                self.config, self.sweep_dir.name, self.started, [p.point_id for p in self.points],
                host=self.services.spare_url if self.services else None,
                service_version=(health_info or {}).get("version"), placement=self.placement)
            self.manifest["target"]["backend_servers"] = (self.servers.describe()
                                                         if self.servers else None)
            self.manifest["target"]["health"] = health_info
            self.manifest["target"]["cpu_limit"] = (self.envelope.describe()
                                                    if self.envelope else None)
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

    # --- spares: the next point's service, started while this one winds down ---------------
    def _prepare_spares(self) -> None:
        if (self.local and self.envelope is None
                and any(p.service_vcpu is not None for p in self.points)):
            try:
                self.envelope = CpuEnvelope(self.config.cpu_period_ms)
            except CpuLimitError as exc:
                raise TargetError(str(exc)) from None
            self.envelope.activate()  # the service, database and cache start inside it
        if self.local and self.servers is None and any(p.store != "memory" for p in self.points):
            # the database and cache share the service's CPUs: the generators' stay clean
            self.servers = BackendServers(True, any(p.cache == "on" for p in self.points),
                                          self.placement["service_cpus"])
        if self.local and self.services is None:
            self.services = ServicePool(self.sweep_dir, self.config.service_workers,
                                        self.placement["service_cpus"], self.config.seed_products,
                                        self.servers)
        if self.services is not None:
            self.services.backend = self.next_backend
            self.services.payload_bytes = self.next_payload
            self.services.prepare()
        if self.fork_server is None and not self.config.master_host:
            self.fork_server = LocustForkServer()

    def _load_over(self) -> None:
        """The current point's window is over: start the following point's service (outside the
        envelope, whose quota stays in force until this point's Locust has exited)."""
        self._prepare_following()

    def _prepare_following(self) -> None:
        """The current point's load is over: start the following point's service."""
        self.next_backend = self.following_backend
        self.next_payload = self.following_payload
        self._prepare_spares()

    def _discard_spares(self) -> None:
        if self.services is not None:
            self.services.close()
            self.services = None
        if self.fork_server is not None:
            self.fork_server.close()
            self.fork_server = None
        if self.servers is not None:
            self.servers.close()
            self.servers = None
        if self.envelope is not None:
            self.envelope.close()
            self.envelope = None

    # --- client-overhead calibration, once per sweep and user class -----------------------
    def _calibrate(self) -> dict[str, Any]:
        host = self.services.spare_url if self.services else self.config.host
        result: dict[str, Any] = {}
        if not self.config.product:  # calibrated against the product's /health only
            return {}
        for short_name in dict.fromkeys(p.user_class for p in self.points):
            if self.stop_event.is_set() or host is None or self.fork_server is None:
                break
            self.progress.note(f"calibrating the {short_name} client against {host}/health")
            result[short_name] = calibrate(self.fork_server, host, short_name,
                                           self.placement.get("generator_cpus"),
                                           self._calibration_key())
            self.log.info("calibration %s: %s", short_name, result[short_name])
        return result

    def _calibration_key(self) -> str | None:
        """What a calibration against this sweep's own local service depends on (the test-only
        reuse in generator/_calibration.py); None for a target of the user's own."""
        if self.services is None:
            return None
        cpus = [",".join(map(str, self.placement.get(name) or [])) or "any"
                for name in ("generator_cpus", "service_cpus")]
        return (f"g{cpus[0]}-s{cpus[1]}-w{self.config.service_workers}-"
                f"{'-'.join(self.next_backend)}")

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
        self._prepare_spares()
        backend = (point.store, point.cache)
        service, failure_note = (self.services.take(backend, point.payload_bytes) if self.services
                                 else (None, None))
        self.progress.start(index, run_id, f"users={point.users} processes={processes} "
                            f"attempt={attempt}")
        self.log.info("%s: start (users %d, processes %d, attempt %d, host %s)", run_id,
                      point.users, processes, attempt, service.url if service else config.host)
        assert self.fork_server is not None
        local = LocalRun(config, self.placement, self.stop_event, self.progress.tick,
                         self._load_over, self.envelope)
        rtt = parse_rtt_delay(point.rtt_delay)
        rtt = rtt.for_repeat(point.repeat) if rtt is not None else None  # its own draws
        proxy: DelayProxy | None = None
        if rtt is not None and service is not None and failure_note is None:
            try:
                proxy = start_proxy(service.url, rtt, self.placement.get("service_cpus"),
                                    run_dir / "delay_proxy.json")
                local.via = proxy.url
            except (TargetError, OSError) as exc:
                failure_note = str(exc)
        if self.envelope is not None:  # the point's envelope, until its Locust has exited
            if service is not None:
                self.envelope.admit(service.process.pid)
            self.envelope.set_limit(point.service_vcpu)
        try:
            outcome = local.run(point, processes, run_dir, run_tag, self.fork_server, service,
                                failure_note, more_to_come)
        finally:
            if self.envelope is not None:
                self.envelope.set_limit(None)
            if proxy is not None:
                proxy.stop()
        if service is not None and self.services is not None:
            self.services.retire(service, run_dir)
        if rtt is not None:
            outcome.extra["rtt_delay"] = {**describe(rtt, self.placement.get("service_cpus")),
                                          "proxy_url": proxy.url if proxy else None,
                                          **(proxy.measured() if proxy else {})}
        if not self.fork_server.alive:  # it died: the next point gets a new one
            self.fork_server.close()
            self.fork_server = None
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
        if service is not None and point.store != "memory":
            record["database"] = {"reset_s": (round(service.reset_s, 4)
                                              if service.reset_s is not None else None),
                                  "seed_products": config.seed_products,
                                  "cpus": self.placement.get("service_cpus")}
        return record

    def _calibration(self, point: Point) -> dict[str, Any] | None:
        figures = self.manifest.get("calibration", {}).get(point.user_class)
        return figures if isinstance(figures, dict) and "error" not in figures else None

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
            self._discard_spares()
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
            self.next_backend = (point.store, point.cache)
            self.following_backend = (following.store, following.cache)
            self.next_payload, self.following_payload = (point.payload_bytes,
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
    candidate, number = out / name, 1
    while candidate.exists():
        number += 1
        candidate = out / f"{name}-{number}"
    return candidate
