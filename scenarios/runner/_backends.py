"""The local sweep's database and cache: PostgreSQL (and Redis) started once, on the service's
CPUs, and reset before every point so that each point starts from the same seeded data."""

from __future__ import annotations

import time
from typing import Any

from scenarios.runner._db_servers import (
    Postgres,
    Server,
    ServerError,
    redis_command,
    reset_products,
    start_postgres,
    start_redis,
)
from scenarios.runner._local_target import TargetError

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

    def service_flags(self, store: str, cache: str) -> list[str]:
        """The service's backend flags for a point."""
        if store == "memory":
            return ["--store", "memory"]
        assert self.database_url is not None
        flags = ["--store", "postgres", "--database-url", self.database_url]
        if cache == "on":
            assert self.redis is not None
            flags += ["--cache-url", self.redis.url]
        return flags

    def reset(self, seed_count: int, payload_bytes: int = 0) -> float:
        """Empty the products, load the seed products, flush the cache; seconds it took."""
        assert self.postgres is not None
        started = time.perf_counter()
        try:
            reset_products(self.postgres, DATABASE, seed_count, payload_bytes)
            if self.redis is not None:
                redis_command(self.redis.port, "FLUSHALL")
        except (ServerError, OSError) as exc:
            raise TargetError(f"resetting the database: {exc}") from None
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
