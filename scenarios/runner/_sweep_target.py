"""The local target's side of a sweep: what each point's load is aimed at, started in time.

The service's CPU envelope (``--service-cpu``), the database and cache servers (``--store``,
``--cache``), a fresh service per point and the Locust fork server each start when a point
first needs them; the next point's service starts while the current one winds down (a spare,
``target.ServicePool``). Around one run: the point's service, its delay proxy
(``--rtt-delay``) and its envelope's quota, released when the point's Locust has exited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runmodel.values import Backend
from scenarios.runner._local_run import LocalRun
from scenarios.runner.config import Point, SweepConfig
from scenarios.runner.generator import LocustForkServer
from scenarios.runner.record import RunOutcome
from scenarios.runner.target import (
    BackendServers,
    CpuEnvelope,
    CpuLimitError,
    DelayProxy,
    LocalService,
    ServicePool,
    TargetError,
    describe,
    parse_rtt_delay,
    start_proxy,
)


class SweepTarget:
    """The local processes a sweep's points run against, and the backend and payload of the
    next service to start; ``discard`` stops them all."""

    def __init__(self, config: SweepConfig, points: list[Point], sweep_dir: Path,
                 local: bool) -> None:
        self.config = config
        self.points = points
        self.sweep_dir = sweep_dir
        self.local = local
        self.services: ServicePool | None = None
        self.servers: BackendServers | None = None
        self.envelope: CpuEnvelope | None = None  # the service's CPU quota (--service-cpu)
        self.fork_server: LocustForkServer | None = None
        # the backend of the next service to start, and of the point after the current one
        self.next_backend = points[0].backend if points else Backend()
        self.following_backend = self.next_backend
        # the payload (description bytes) the next and the following point's services seed
        self.next_payload = points[0].payload_bytes if points else 0
        self.following_payload = self.next_payload

    # --- spares: the next point's service, started while this one winds down ---------------
    def prepare(self, placement: dict[str, Any]) -> None:
        """Start what the points need and is not running yet, the next point's service too."""
        if (self.local and self.envelope is None
                and any(p.service_vcpu is not None for p in self.points)):
            try:
                self.envelope = CpuEnvelope(self.config.cpu_period_ms)
            except CpuLimitError as exc:
                raise TargetError(str(exc)) from None
            self.envelope.activate()  # the service, database and cache start inside it
        if (self.local and self.servers is None
                and any(p.backend.store != "memory" for p in self.points)):
            # the database and cache share the service's CPUs: the generators' stay clean
            self.servers = BackendServers(True, any(p.backend.cache == "on" for p in self.points),
                                          placement["service_cpus"])
        if self.local and self.services is None:
            self.services = ServicePool(self.sweep_dir, self.config.service_workers,
                                        placement["service_cpus"], self.config.seed_products,
                                        self.servers)
        if self.services is not None:
            self.services.backend = self.next_backend
            self.services.payload_bytes = self.next_payload
            self.services.prepare()
        if self.fork_server is None and not self.config.master_host:
            self.fork_server = LocustForkServer()

    def prepare_following(self, placement: dict[str, Any]) -> None:
        """The current point's load is over: start the following point's service."""
        self.next_backend = self.following_backend
        self.next_payload = self.following_payload
        self.prepare(placement)

    def discard(self) -> None:
        """Stop the services, the fork server, the database and cache, and the envelope."""
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

    def calibration_key(self, placement: dict[str, Any]) -> str | None:
        """What a calibration against this sweep's own local service depends on (the test-only
        reuse in generator/_calibration.py); None for a target of the user's own."""
        if self.services is None:
            return None
        cpus = [",".join(map(str, placement.get(name) or [])) or "any"
                for name in ("generator_cpus", "service_cpus")]
        return (f"g{cpus[0]}-s{cpus[1]}-w{self.config.service_workers}-"
                f"{self.next_backend.store}-{self.next_backend.cache}")

    # --- one run ----------------------------------------------------------------------------
    def take(self, point: Point,
             placement: dict[str, Any]) -> tuple[LocalService | None, str | None]:
        """The point's service (on its backend, seeded with its payload) and None or why it is
        not ready; (None, None) against a target of the user's own."""
        self.prepare(placement)
        return (self.services.take(point.backend, point.payload_bytes) if self.services
                else (None, None))

    def run(self, local: LocalRun, point: Point, processes: int, run_dir: Path, run_tag: str,
            service: LocalService | None, failure_note: str | None,
            more_to_come: bool) -> RunOutcome:
        """Run the point's Locust (``local``) against ``service``: behind the point's delay
        proxy, inside its envelope's quota (lifted when Locust has exited); then retire the
        service and note the delay's evidence in the outcome."""
        assert self.fork_server is not None
        service_cpus = local.placement.get("service_cpus")
        rtt = parse_rtt_delay(point.rtt_delay)
        rtt = rtt.for_repeat(point.repeat) if rtt is not None else None  # its own draws
        proxy: DelayProxy | None = None
        if rtt is not None and service is not None and failure_note is None:
            try:
                proxy = start_proxy(service.url, rtt, service_cpus, run_dir / "delay_proxy.json")
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
            outcome.extra["rtt_delay"] = {**describe(rtt, service_cpus),
                                          "proxy_url": proxy.url if proxy else None,
                                          **(proxy.measured() if proxy else {})}
        if not self.fork_server.alive:  # it died: the next point gets a new one
            self.fork_server.close()
            self.fork_server = None
        return outcome
