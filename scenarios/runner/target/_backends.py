"""The local sweep's database and cache: PostgreSQL (and Redis) started once, on the service's
CPUs. Each point's service resets them to the same seeded data through its own admin route
(LocalService.reset); `BackendServers.reset` does the same without a service, through the
service's admin command (`python -m target_service.admin reset`): no SQL here."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from runmodel.values import Backend
from scenarios.runner.target._db_servers import (
    Postgres,
    Server,
    ServerError,
    start_postgres,
    start_redis,
)
from scenarios.runner.target._local_target import REPO_ROOT, TargetError

DATABASE = "loadbench"


class BackendServers:
    """PostgreSQL when a point uses it, Redis when a point caches; both stopped by close()."""

    def __init__(self, postgres: bool, redis: bool, cpus: list[int] | None) -> None:
        self.cpus = cpus
        self.postgres: Postgres | None = None
        self.redis: Server | None = None
        self.database_url: str | None = None
        self.start_s: float | None = None
        try:
            started = time.perf_counter()
            if postgres:
                self.postgres = start_postgres(cpus)
                self.database_url = self.postgres.create_database(DATABASE)
            if redis:
                self.redis = start_redis(cpus)
            self.start_s = time.perf_counter() - started
        except ServerError as exc:
            self.close()
            raise TargetError(f"cannot start the sweep's database or cache: {exc}") from None

    def service_flags(self, backend: Backend) -> list[str]:
        """The service's backend flags for a point."""
        if backend.store == "memory":
            return ["--store", "memory"]
        assert self.database_url is not None
        flags = ["--store", "postgres", "--database-url", self.database_url]
        if backend.cache == "on":
            assert self.redis is not None
            flags += ["--cache-url", self.redis.url]
        return flags

    def reset(self, seed_count: int, payload_bytes: int = 0) -> float:
        """Empty the products, load the seed products, flush the cache, with the service's own
        admin command (a child process: about 0.3 s of interpreter start-up on top of the
        reset itself); seconds it took."""
        assert self.database_url is not None
        command = [sys.executable, "-m", "target_service.admin", "reset",
                   "--seed", str(seed_count), "--payload-bytes", str(payload_bytes),
                   "--store", "postgres", "--database-url", self.database_url]
        if self.redis is not None:
            command += ["--cache-url", self.redis.url]
        started = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TargetError(f"resetting the database: {exc}") from None
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise TargetError(f"resetting the database: {lines[-1] if lines else done.returncode}")
        return time.perf_counter() - started

    def describe(self) -> dict[str, Any]:
        """For the manifest: what runs where."""
        return {
            "postgres": {"port": self.postgres.port, "bin_dir": str(self.postgres.bin_dir),
                         "database": DATABASE} if self.postgres else None,
            "redis": {"port": self.redis.port} if self.redis else None,
            "cpus": self.cpus, "start_s": round(self.start_s or 0.0, 3),
        }

    def close(self) -> None:
        for server in (self.redis, self.postgres):
            if server is not None:
                server.stop()
        self.redis = self.postgres = None
