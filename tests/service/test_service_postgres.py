"""The postgres backend and the Redis cache with real servers: many workers, one dataset; races;
durability through SIGKILL; the database and the cache going away and coming back."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest
from service_checks import assert_json_error, new_product
from test_service_store import SIMULTANEOUS, _post_on_own_connection

from scenarios.runner.target import (
    Postgres,
    Server,
    seed_pipelined,
    start_postgres,
    start_redis,
)
from tests.conftest import REPO_ROOT, fresh_cache_url, new_database

if TYPE_CHECKING:
    from tests.conftest import RunningService, ServiceFactory


def _postgres_flags(url: str, *extra: str) -> tuple[str, ...]:
    return ("--store", "postgres", "--database-url", url, "--no-access-log", *extra)


def _connection(service: RunningService) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)


def _get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def test_a_product_created_through_one_worker_is_read_through_every_other(
        service_factory: ServiceFactory, postgres_server: Postgres) -> None:
    service = service_factory(*_postgres_flags(new_database(postgres_server), "--workers", "4"))
    products: list[dict[str, Any]] = []
    created_by: set[int] = set()
    while len(created_by) < 2 or len(products) < 8:  # new connections spread over the workers
        assert len(products) < 200, f"every product was created by worker {created_by}"
        product = new_product("mw")
        connection = _connection(service)
        _, health = _get(connection, "/health")
        connection.request("POST", "/products", json.dumps(product),
                           {"Content-Type": "application/json"})
        assert connection.getresponse().status == 201
        created_by.add(json.loads(health)["pid"])
        products.append(product)
        connection.close()
    readers: set[int] = set()
    for _ in range(1000):
        connection = _connection(service)
        status, health = _get(connection, "/health")
        assert status == 200
        readers.add(json.loads(health)["pid"])
        for product in products:  # the same connection: the same worker
            status, body = _get(connection, f"/products/{product['productId']}")
            assert status == 200 and json.loads(body) == product
        connection.close()
        if len(readers) == 4:
            break
    assert len(readers) == 4, f"only workers {readers} answered"


def test_simultaneous_posts_of_one_id_over_four_workers_create_it_once(
        service_factory: ServiceFactory, postgres_server: Postgres) -> None:
    service = service_factory(*_postgres_flags(new_database(postgres_server), "--workers", "4"))
    product = new_product("race4")
    start = threading.Barrier(SIMULTANEOUS)
    statuses: list[int] = []
    threads = [threading.Thread(target=_post_on_own_connection,
                                args=(service.url, json.dumps(product).encode(), start, statuses))
               for _ in range(SIMULTANEOUS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Counter(statuses) == {201: 1, 409: SIMULTANEOUS - 1}
    assert httpx.get(f"{service.url}/products/{product['productId']}").json() == product
    assert httpx.get(f"{service.url}/health").json()["products"] == 1


class _Writer(threading.Thread):
    """POSTs new products on its own connection until it fails; logs each acknowledged id."""

    def __init__(self, port: int, name: str) -> None:
        super().__init__(daemon=True)
        self.port, self.prefix = port, name
        self.sent: dict[str, bytes] = {}
        self.acknowledged: list[str] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            for number in range(1_000_000):
                product_id = f"{self.prefix}-{number}"
                body = orjson.dumps({"productId": product_id, "name": f"Durable {number}",
                                     "price": number / 4})
                self.sent[product_id] = body
                connection.request("POST", "/products", body,
                                   {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status == 201:
                    self.acknowledged.append(product_id)
        except (OSError, http.client.HTTPException):
            return  # the service was killed
        finally:
            connection.close()


def _all_products(url: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    total = -1
    while offset is not None:
        page = httpx.get(f"{url}/products", params={"offset": offset, "limit": 100}).json()
        items += page["items"]
        total, offset = page["total"], page["nextOffset"]
    return items, total


def test_every_acknowledged_write_survives_sigkill(service_factory: ServiceFactory,
                                                  postgres_server: Postgres) -> None:
    database = new_database(postgres_server)
    service = service_factory(*_postgres_flags(database, "--workers", "2"))
    writers = [_Writer(service.port, f"dur{i}") for i in range(8)]
    for writer in writers:
        writer.start()
    time.sleep(1.5)
    os.killpg(service.process.pid, signal.SIGKILL)  # the service and its workers, mid-write
    service.process.wait(timeout=10)
    for writer in writers:
        writer.join(timeout=10)
    acknowledged = {i for w in writers for i in w.acknowledged}
    sent = {i: b for w in writers for i, b in w.sent.items()}
    assert len(acknowledged) > 100, f"only {len(acknowledged)} writes before the kill"

    restarted = service_factory(*_postgres_flags(database))
    items, total = _all_products(restarted.url)
    stored = {item["productId"]: item for item in items}
    assert len(stored) == len(items) == total  # the counter matches the rows, no repeats
    missing = acknowledged - set(stored)
    assert not missing, f"{len(missing)} acknowledged products lost, e.g. {sorted(missing)[:3]}"
    unknown = set(stored) - set(sent)
    assert not unknown
    for product_id, item in stored.items():  # every row, acknowledged or in flight, is whole
        assert orjson.dumps(item) == sent[product_id]
    with httpx.Client(base_url=restarted.url, timeout=10) as client:
        for product_id in list(stored)[::max(1, len(stored) // 50)]:
            assert client.get(f"/products/{product_id}").content == sent[product_id]
    assert len(stored) - len(acknowledged) <= len(writers)  # at most one in flight per writer


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    """A PostgreSQL of this test's own, which it may stop and start."""
    server = start_postgres(fsync=False)
    yield server
    server.stop()


def test_database_down_is_a_bounded_503_and_recovers(service_factory: ServiceFactory,
                                                     own_postgres: Postgres) -> None:
    service = service_factory(*_postgres_flags(own_postgres.url))
    product = new_product("down")
    assert httpx.post(f"{service.url}/products", json=product).status_code == 201
    own_postgres.stop_keeping_data()
    for method, path, body in (("GET", f"/products/{product['productId']}", None),
                               ("GET", "/products", None), ("GET", "/products?limit=5", None),
                               ("POST", "/products", new_product("down"))):
        started = time.monotonic()
        response = httpx.request(method, service.url + path, json=body, timeout=30)
        assert time.monotonic() - started < 5.0
        assert assert_json_error(response, 503)["error"] == "unavailable"
        assert "database" in response.json()["message"]
    health = httpx.get(f"{service.url}/health", timeout=30)
    assert health.status_code == 503
    assert health.json()["database"] == "down" and health.json()["status"] == "unavailable"
    time.sleep(1.1)  # readiness reuses its last answer for 1 s
    ready = httpx.get(f"{service.url}/health/ready", timeout=30)
    assert ready.status_code == 503 and ready.json()["database"] == "down"
    assert httpx.get(f"{service.url}/health/live", timeout=30).status_code == 200  # alive

    own_postgres.restart()
    deadline = time.monotonic() + 20
    while httpx.get(f"{service.url}/health", timeout=30).status_code != 200 \
            or httpx.get(f"{service.url}/health/ready", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover"
        time.sleep(0.2)
    assert httpx.get(f"{service.url}/products/{product['productId']}").json() == product
    assert httpx.post(f"{service.url}/products", json=new_product("up")).status_code == 201
    assert service.process.poll() is None


def test_a_down_or_slow_cache_never_fails_a_request(service_factory: ServiceFactory,
                                                    postgres_server: Postgres) -> None:
    redis = start_redis()
    try:
        service = service_factory(*_postgres_flags(new_database(postgres_server),
                                                   "--cache-url", redis.url))
        url = service.url
        product = new_product("cache")
        assert httpx.post(f"{url}/products", json=product).status_code == 201
        for _ in range(2):
            assert httpx.get(f"{url}/products/{product['productId']}").json() == product
            assert httpx.get(f"{url}/products").json()["total"] == 1
        health = httpx.get(f"{url}/health").json()
        assert health["cacheHits"] >= 2 and health["cacheState"] == "ok"

        # slow: the server stops answering; a request waits at most the short timeout
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            assert httpx.get(f"{url}/products/{product['productId']}").json() == product
            assert time.monotonic() - started < 1.0
            later = new_product("cache")  # its invalidation cannot reach the cache
            assert httpx.post(f"{url}/products", json=later).status_code == 201
            assert httpx.get(f"{url}/products").json()["total"] == 2
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        time.sleep(1.2)  # the cool-down after a failure
        assert httpx.get(f"{url}/products").json()["total"] == 2  # no stale cached page
        _check_fallbacks(url, state="ok")

        # down: the server is gone
        port = redis.port
        redis.stop()
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(f"{url}/products/{product['productId']}").json() == product
            assert httpx.get(f"{url}/products").json()["total"] == 2
            assert time.monotonic() - started < 1.0
        assert httpx.post(f"{url}/products", json=new_product("cache")).status_code == 201
        _check_fallbacks(url, state="down")

        redis = start_redis(port=port)  # back, empty: used again after the cool-down
        time.sleep(1.2)
        hits = httpx.get(f"{url}/health").json()["cacheHits"]
        for _ in range(3):
            assert httpx.get(f"{url}/products").json()["total"] == 3
        assert httpx.get(f"{url}/health").json()["cacheHits"] > hits
    finally:
        redis.stop()


def _check_fallbacks(url: str, state: str) -> None:
    health = httpx.get(f"{url}/health")
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["cacheState"] == state and body["cacheFallbacks"] >= 1, body


def _bytes_of(url: str, ids: list[str]) -> list[bytes]:
    with httpx.Client(base_url=url, timeout=10) as client:
        return [client.get(f"/products/{i}").content for i in ids] + [
            client.get("/products", params={"limit": 100}).content,
            client.get("/products").content]


def test_both_backends_answer_the_same_bytes(service_factory: ServiceFactory,
                                             postgres_server: Postgres,
                                             redis_server: Server) -> None:
    memory = service_factory("--no-access-log")
    database = new_database(postgres_server)
    postgres = service_factory(*_postgres_flags(database))
    products = [new_product("same", name="Café ☕ 東京 😀", price=0.1),
                new_product("same", price=12), new_product("same", price=1_000_000_000),
                new_product("same", price=1e-7), new_product("same", name=" x\u00a0y ")]
    for service in (memory, postgres):
        for product in products:
            assert httpx.post(f"{service.url}/products", json=product).status_code == 201
    ids = [p["productId"] for p in products]
    assert _bytes_of(memory.url, ids) == _bytes_of(postgres.url, ids)

    # the admin reset loads seed products with the bytes the scenarios' HTTP seeding stores
    seeded_memory = service_factory("--no-access-log")
    seed_pipelined(seeded_memory.url, 150)
    reset = subprocess.run([sys.executable, "-m", "target_service.admin", "reset", "--seed", "150",
                            "--store", "postgres", "--database-url", database], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=60, check=False)
    assert reset.returncode == 0, reset.stderr
    cached = service_factory(*_postgres_flags(database, "--cache-url",
                                              fresh_cache_url(redis_server)))
    seed_ids = [f"seed-{i:06d}" for i in (1, 2, 99, 100, 150)]
    for url in (postgres.url, cached.url, cached.url):
        assert _bytes_of(seeded_memory.url, seed_ids) == _bytes_of(url, seed_ids)


def test_pages_neither_skip_nor_repeat_while_others_insert(service_factory: ServiceFactory,
                                                           postgres_server: Postgres) -> None:
    service = service_factory(*_postgres_flags(new_database(postgres_server), "--workers", "2"))
    with httpx.Client(base_url=service.url, timeout=10) as client:
        before = [new_product("walk") for _ in range(150)]
        for product in before:
            assert client.post("/products", json=product).status_code == 201
        writers = [_Writer(service.port, f"walkw{i}") for i in range(4)]
        for writer in writers:
            writer.start()
        walked: list[str] = []
        offset: int | None = 0
        while offset is not None and len(walked) < 2000:
            page = client.get("/products", params={"offset": offset, "limit": 7}).json()
            walked += [item["productId"] for item in page["items"]]
            offset = page["nextOffset"]
        os.killpg(service.process.pid, signal.SIGKILL)  # stops the writers too
        for writer in writers:
            writer.join(timeout=10)
    assert len(walked) == len(set(walked)), "a product was listed twice"
    assert walked[:len(before)] == [p["productId"] for p in before]
    written = [set(w.acknowledged) for w in writers]
    assert sum(map(len, written)) > 0
    for mine in written:  # each writer's products appear in the order it created them
        order = [i for i in walked if i in mine]
        assert order == sorted(order, key=lambda i: int(i.rsplit("-", 1)[1]))
