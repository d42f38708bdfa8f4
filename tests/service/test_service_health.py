"""Liveness (/health/live) and readiness (/health/ready), apart from /health, on every backend;
readiness does not fail when the request pool is saturated."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import httpx

import target_service
from tests.conftest import new_database

if TYPE_CHECKING:
    from scenarios.runner.target import Postgres
    from tests.conftest import ServiceFactory


def test_liveness_asks_nothing_and_readiness_names_the_store(client: httpx.Client) -> None:
    live = client.get("/health/live")
    assert live.status_code == 200 and live.headers["content-type"] == "application/json"
    assert live.json()["status"] == "ok" and live.json()["version"] == target_service.__version__
    assert set(live.json()) == {"status", "version", "pid"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok" and body["pid"] == live.json()["pid"]
    assert body.get("database", "ok") == "ok"
    assert (body["store"] == "memory") == ("database" not in body)
    assert client.head("/health/live").status_code == 200
    assert client.post("/health/ready").status_code == 405


def test_readiness_holds_while_the_request_pool_is_saturated(
        service_factory: ServiceFactory, postgres_server: Postgres) -> None:
    database = new_database(postgres_server)
    service = service_factory("--no-access-log", "--store", "postgres", "--database-url",
                              database, "--db-pool-size", "1")
    name = database.rsplit("/", 1)[1]
    assert httpx.get(f"{service.url}/health/ready").status_code == 200
    locked = threading.Event()

    def hold_the_table() -> None:  # every product read waits; so does the one pooled connection
        locked.set()
        postgres_server.psql("BEGIN; LOCK TABLE products IN ACCESS EXCLUSIVE MODE; "
                             "SELECT pg_sleep(4); COMMIT;", database=name)

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    locked.wait()
    time.sleep(0.3)
    blocked: list[float] = []

    def read() -> None:
        started = time.monotonic()
        httpx.get(f"{service.url}/products/p-1", timeout=30)
        blocked.append(time.monotonic() - started)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    time.sleep(0.3)
    try:
        for path in ("/health/ready", "/health/live"):
            started = time.monotonic()
            response = httpx.get(f"{service.url}{path}", timeout=30)
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < 1.0, path  # not queued behind the pool
    finally:
        for reader in readers:
            reader.join(timeout=30)
        holder.join(timeout=30)
    assert max(blocked) >= 1.0, blocked  # the pool really was saturated meanwhile
