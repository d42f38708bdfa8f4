"""Fresh local services, one per point: the next one starts while the current point winds down."""

from __future__ import annotations

import contextlib
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from runmodel.values import Backend
from scenarios.runner.target._backends import BackendServers
from scenarios.runner.target._local_target import LocalService, TargetError
from scenarios.runner.target._local_target import start_service as launch_service
from scenarios.seeding import SeedError, seed_product_body

PIPELINE_DEPTH = 200  # requests written before their responses are read
MEMORY = Backend()  # the in-memory store, no cache


class ServicePool:
    """Hands out a started, healthy and seeded service; keeps one spare ready or starting."""

    def __init__(self, log_dir: Path, workers: int, cpus: list[int] | None,
                 seed_count: int, servers: BackendServers | None = None) -> None:
        self.log_dir = log_dir
        self.servers = servers  # PostgreSQL/Redis, when a point uses them
        self.backend = MEMORY  # the store and cache of the next service to start
        self.payload_bytes = 0  # the description size of the next service's seed products
        self.workers = workers
        self.cpus = cpus
        self.seed_count = seed_count
        self.spare: LocalService | None = None
        self.spare_ready: Future[dict[str, Any]] | None = None  # its /health body when ready
        self.background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="service")
        self.stopping: list[Future[None]] = []

    def prepare(self) -> None:
        """Start the next service now (called when the load of the current point is over)."""
        if self.spare is None:
            flags = (self.servers.service_flags(self.backend) if self.servers
                     else ["--store", "memory"])
            service = launch_service(self.log_dir / f".service-{time.monotonic_ns()}.log",
                                     self.workers, self.cpus, flags)
            service.backend = self.backend
            service.payload_bytes = self.payload_bytes
            self.spare = service
            self.spare_ready = self.background.submit(self._ready, service)

    def _ready(self, service: LocalService) -> dict[str, Any]:
        """Wait until the service answers, then reset it to the seed products (its admin
        route: the database, which outlives services, is emptied and its cache flushed too),
        so that Locust's own seeding (inside its run time) finds the products there and sends
        a single request."""
        info = service.wait_healthy()
        service.health_info = info
        service.reset_s = service.reset(self.seed_count, service.payload_bytes)
        return info

    def preflight(self) -> dict[str, Any]:
        """The first service's /health body, or TargetError."""
        self.prepare()
        assert self.spare_ready is not None
        try:
            return self.spare_ready.result()
        except (TargetError, SeedError) as exc:
            raise TargetError(str(exc)) from None

    @property
    def spare_url(self) -> str | None:
        return self.spare.url if self.spare else None

    def take(self, backend: Backend = MEMORY,
             payload_bytes: int = 0) -> tuple[LocalService, str | None]:
        """The next point's service (on `backend`, seeded with `payload_bytes` descriptions),
        and None or why it is not ready."""
        if self.spare is not None and (self.spare.backend != backend
                                       or self.spare.payload_bytes != payload_bytes):
            self.close_spare()
        self.backend, self.payload_bytes = backend, payload_bytes
        self.prepare()
        service, ready = self.spare, self.spare_ready
        self.spare = self.spare_ready = None
        assert service is not None and ready is not None
        try:
            ready.result()
        except (TargetError, SeedError) as exc:
            return service, str(exc)
        return service, None

    def retire(self, service: LocalService, run_dir: Path) -> None:
        """Stop the point's service in the background; its log goes into the run dir."""
        self.stopping.append(self.background.submit(service.stop))
        with contextlib.suppress(OSError):
            service.log_path.replace(run_dir / "service.log")

    def close_spare(self) -> None:
        """Stop the spare (started for another backend than the next point's)."""
        if self.spare_ready is not None:
            with contextlib.suppress(Exception):
                self.spare_ready.result(timeout=60)
        if self.spare is not None:
            self.spare.stop()
            with contextlib.suppress(OSError):
                self.spare.log_path.unlink()
        self.spare = self.spare_ready = None

    def close(self) -> None:
        if self.spare_ready is not None:
            self.spare_ready.cancel()
            with contextlib.suppress(Exception):
                self.spare_ready.result(timeout=30)
        if self.spare is not None:
            self.spare.stop()
            with contextlib.suppress(OSError):
                self.spare.log_path.unlink()
        self.spare = self.spare_ready = None
        for stopping in self.stopping:
            stopping.result()
        self.stopping.clear()
        self.background.shutdown(wait=False)


def seed_pipelined(url: str, count: int, timeout: float = 30.0, payload_bytes: int = 0) -> None:
    """Create the seed products of scenarios/seeding.py (same ids and bodies) on a fresh
    service, with HTTP/1.1 pipelining: about ten times faster than one request at a time, which
    matters because every point of a sweep starts a fresh service. 201 and 409 are fine."""
    parts = urlsplit(url)
    if count <= 0 or not parts.hostname:
        return
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout) as sock:
            replies = sock.makefile("rb")
            for first in range(1, count + 1, PIPELINE_DEPTH):
                batch = range(first, min(count, first + PIPELINE_DEPTH - 1) + 1)
                sock.sendall(b"".join(_post(host, seed_product_body(i, payload_bytes))
                                      for i in batch))
                for index in batch:
                    status, body = _read_response(replies)
                    if status not in (201, 409):
                        raise SeedError(f"seeding {url}: product {index} answered {status}: "
                                        f"{body[:120].decode(errors='replace')}")
    except (OSError, ValueError) as exc:
        raise SeedError(f"seeding {url}: {exc}") from None


def _post(host: str, body: bytes) -> bytes:
    return (f"POST /products HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _read_response(replies: BinaryIO) -> tuple[int, bytes]:
    status_line = replies.readline()
    if not status_line:
        raise ValueError("the service closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while (line := replies.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, replies.read(length)
