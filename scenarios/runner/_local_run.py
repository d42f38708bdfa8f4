"""One run on this machine: Locust forked onto the generator CPUs, sampled, watched, collected."""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scenarios.runner.config import USER_CLASSES, Point, SweepConfig, locust_files
from scenarios.runner.evidence import (
    EVIDENCE_DIR,
    EVIDENCE_ENV,
    CpuSampler,
    Scrape,
    cpu_csv,
    describe_service_side,
    host_busy,
    host_series,
    mark_window,
    not_load,
    queue_view,
    read_edges,
    read_in_flight,
    read_lateness,
    read_stalls,
    run_time_bound,
    scrape,
    scraper,
    service_pids,
    socket_queues,
    window_count,
    window_request,
    window_view,
)
from scenarios.runner.generator import LocustForkServer, LocustOptions, LocustRun
from scenarios.runner.record import RunOutcome, write_atomic
from scenarios.runner.target import CpuEnvelope, LocalService, throttling

DEADLINE_GRACE_S = 60.0  # a run still going this long after ramp + window is stopped as failed


def pinned_cpus(pid: int) -> list[int] | None:
    """The CPUs a process may run on, when fewer than this machine's; else None."""
    try:
        allowed = sorted(os.sched_getaffinity(pid))
    except OSError:
        return None
    return allowed if len(allowed) < len(os.sched_getaffinity(0)) else None


def sample_interval(duration_s: float) -> float:
    """CPU sampling interval: twice a second for windows under 30 s, else once a second."""
    return 0.5 if duration_s < 30 else 1.0


@dataclass
class LocalRun:
    config: SweepConfig
    placement: dict[str, Any]
    stop_event: threading.Event
    on_tick: Callable[[], None]  # about once a second (the progress bar)
    on_load_over: Callable[[], None]  # the window has ended: start the next point's service
    envelope: CpuEnvelope | None = None  # the service's CPU envelope: cpu.stat at the edges
    edges: list[dict[str, Any]] = field(default_factory=list)  # cpu.stat at start, end
    via: str | None = None  # the delaying proxy's URL (--rtt-delay): Locust's host
    applied: dict[str, int | None] | None = None  # period/quota read back from the cgroup

    def run(self, point: Point, processes: int, run_dir: Path, run_tag: str,
            fork_server: LocustForkServer, service: LocalService | None,
            failure_note: str | None, more_to_come: bool) -> RunOutcome:
        """Run Locust for one point against ``service`` (or --host); never raises for a bad run."""
        config = self.config
        host = service.url if service else str(config.host)  # metrics: straight to the service
        names = (["locust"] if processes == 1
                 else ["locust-master", *(f"locust-worker-{i}" for i in range(1, processes + 1))])
        # one process opens the window once the ramp has settled, and ends it (a fixed window,
        # or --duration auto); a master and its workers keep Locust's own (evidence/_settle.py)
        settles = processes == 1
        period_s = (self.envelope.period_for(point.service_vcpu) / 1e6
                    if self.envelope is not None and point.service_vcpu else None)
        window_env = window_request(
            config.duration_s, config.duration_max_s,
            point.users if point.arrival_rate is None else None,
            urlsplit(service.url).port if service else None, period_s) if settles else {}
        run = LocustRun(run_dir, fork_server, names, self.placement["generator_cpus"],
                        env={EVIDENCE_ENV: str(run_dir / EVIDENCE_DIR), **window_env})
        if settles:
            run.settled_window()
        run_time = (run_time_bound(config.ramp_s, config.duration_s, config.duration_max_s)
                    if settles else math.ceil(config.ramp_s + config.duration_s))
        product = config.product  # else a locustfile of the user's own, beside the plugin
        options = LocustOptions(
            locust_files(config.locustfile), self.via or host,
            USER_CLASSES[point.user_class] if product else point.user_class, point.users,
            point.users / config.ramp_s if config.ramp_s > 0 else float(point.users), run_time,
            (["--weights", str(config.weights)] if point.mix == "custom" else ["--mix", point.mix])
            + ([] if point.arrival_rate is None else  # the open model: a rate, users its pool
               ["--arrival-rate", f"{point.arrival_rate:g}", "--max-users", str(point.users)]),
            config.pacing, config.seed_products, run_tag, point.payload_bytes,
            product=product, extra_args=list(config.locust_args))
        scrapes: dict[str, Scrape | str] = {}
        metrics_base = (service.metrics_url if service is not None and service.metrics_url
                        else host)  # the service's own listener, which no request queues behind
        scrape_now = ((lambda: scrape(metrics_base)) if product else
                      scraper(config.server_metrics, config.server_histogram,
                              config.server_route_label))
        own_pids = [] if service is not None else service_pids(config.service_pid,
                                                                 config.service_cgroup)

        queued: dict[str, dict[str, int] | None] = {}
        service_port = urlsplit(service.url).port if service else None

        def on_edge(edge: str) -> None:  # the service's /metrics at the window's edges
            scrapes[edge] = scrape_now()
            if service_port is not None:  # and its socket queues
                queued[edge] = socket_queues(service_port)

        run.on_edge = on_edge
        interval = sample_interval(config.duration_s)
        sampler = CpuSampler(interval)
        if failure_note is None:
            try:
                run.start(options)
            except (OSError, RuntimeError) as exc:  # the fork server is gone
                failure_note = f"Locust could not be started: {exc}"
                run.stop(grace_s=5)
                run.interrupted = False
        if failure_note is None:
            for name, process in run.processes:
                sampler.track("generator", name, process.pid)
            if service is not None:
                sampler.track("service", "service", service.process.pid)
            for pid in own_pids:  # --service-pid / --service-cgroup: a service of the user's
                sampler.track("service", "service", pid)
            sampler.start()
            self._watch(run, run_time, more_to_come)
        else:
            run.started_at = run.ended_at = time.time()
        samples = sampler.stop()
        if run.exit_code is None and failure_note is None:
            failure_note = "Locust did not end"
        if failure_note is None and run.ended_at - run.started_at > run_time + DEADLINE_GRACE_S:
            failure_note = f"the run overran its {run_time}s run time by {DEADLINE_GRACE_S:g}s"
        with contextlib.suppress(FileNotFoundError):
            run.collect()
        # the service's own count of Locust's window, read now at the edges Locust recorded
        counted = (window_count(service.metrics_url, read_edges(run_dir / EVIDENCE_DIR))
                   if product and service is not None and failure_note is None else None)
        start, end = run.window_start, run.window_end
        edges = read_edges(run_dir / EVIDENCE_DIR) if settles else None
        if edges is not None and edges["processes"] == 1:
            # Locust's own clock at its edges: the log reader sees a marker late when the scrape
            # at the opening blocks it (a saturated --host service answers /metrics behind its
            # load), which shortened a 5 s window to 3.0 s on 2026-12-04
            start, end = float(edges["opened_at"]), float(edges["closed_at"])
        samples = mark_window(samples, start, end, interval)
        write_atomic(run_dir / "cpu.csv", cpu_csv(samples))
        cpus = {role: self.placement.get(f"{role}_cpus") for role in ("generator", "service")}
        if own_pids:  # a service of the user's: its CPUs, if pinned apart from the others
            cpus["service"] = pinned_cpus(own_pids[0])
        busy = {role: host_busy(sampler.host, chosen, start, end, interval)
                if chosen or role == "generator" or product else []
                for role, chosen in cpus.items()}
        generator_cpus = self.placement.get("generator_cpus") or list(
            range(self.placement.get("cpu_count") or 1))
        errors = [e for e in sampler.errors if start is not None and end is not None
                  and start + interval * 0.5 <= e["t"] <= end + interval * 0.5]
        return RunOutcome(run_dir=run_dir, host=host, started_at=run.started_at,
                          ended_at=run.ended_at, window_start=start, window_end=end,
                          exit_code=run.exit_code, interrupted=run.interrupted,
                          failure_note=failure_note, samples=samples, busy=busy,
                          commands=run.commands, sample_interval_s=interval,
                          generator_host=host_series(sampler.host, generator_cpus, start, end,
                                                     interval),
                          generator_cpu_count=len(generator_cpus),
                          lateness=read_lateness(run_dir, {p.pid: n for n, p in run.processes}),
                          stalls=read_stalls(run_dir / EVIDENCE_DIR,
                                             {p.pid: n for n, p in run.processes}),
                          sampler_errors=errors, in_flight=read_in_flight(run_dir),
                          extra={"server": window_view(
                                     scrapes.get("start"), scrapes.get("end"),
                                     not_load(config.server_metrics if not product else None),
                                     counted),
                                 **self._cpu_limit(point),
                                 **({"server_queues": queue_view(  # latency_split's
                                     scrapes.get("start"), scrapes.get("end"))} if product
                                    else {}),
                                 **({} if product or service is not None else {
                                     "service_side": describe_service_side(
                                         config.server_metrics, config.server_histogram,
                                         config.service_pid, config.service_cgroup, own_pids)}),
                                 **({"service_sockets": queued} if queued else {})})

    def _cpu_limit(self, point: Point) -> dict[str, Any]:
        """run.json's cpu_limit block: the point's quota and the throttling in its window."""
        if self.envelope is None:
            return {}
        vcpu = point.service_vcpu
        applied = self.applied or self.envelope.applied()
        return {"cpu_limit": {
            "service_cpu": point.service_cpu, "vcpu": vcpu,
            "period_us": applied["period_us"], "quota_us": applied["quota_us"],
            "requested_period_us": self.envelope.period_for(vcpu),
            "requested_quota_us": self.envelope.quota_us(vcpu),
            "cgroup": self.envelope.version,
            "throttling": throttling(*self.edges) if len(self.edges) == 2 else None}}

    def _watch(self, run: LocustRun, run_time: float, more_to_come: bool) -> None:
        deadline = time.monotonic() + run_time + DEADLINE_GRACE_S
        last_tick = 0.0
        while run.poll() is None:
            self._read_edges(run)
            if self.stop_event.is_set() and run.window_end is None:
                run.stop()  # a window that already ended is kept: Locust is only writing files
                return
            if time.monotonic() > deadline:
                run.stop()
                run.interrupted = False
                return
            if more_to_come and run.window_end is not None:
                self._read_edges(run)  # before the next service starts in the envelope
                self.on_load_over()  # overlap the next start-up with Locust writing its reports
                more_to_come = False
            if time.monotonic() - last_tick >= 1.0:
                self.on_tick()
                last_tick = time.monotonic()
            self.stop_event.wait(0.05)
        run.wait(30)
        self._read_edges(run)

    def _read_edges(self, run: LocustRun) -> None:
        """cpu.stat once the window has started and once it has ended (polled every 50 ms)."""
        if self.envelope is None:
            return
        if run.window_start is not None and not self.edges:
            self.edges.append(self.envelope.counters())
            self.applied = self.envelope.applied()  # what the kernel held in the window
        if run.window_end is not None and len(self.edges) == 1:
            self.edges.append(self.envelope.counters())
