"""The store under concurrency and at capacity, against real service processes."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from service_checks import assert_json_error, new_product

from tests.conftest import backend_flags

if TYPE_CHECKING:
    from tests.conftest import ServiceFactory

SIMULTANEOUS = 32


def _post_on_own_connection(url: str, body: bytes, start: threading.Barrier,
                            statuses: list[int]) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                            timeout=10)
    try:
        connection.connect()
        start.wait(timeout=10)
        connection.request("POST", "/products", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
    finally:
        connection.close()


def test_simultaneous_posts_of_one_id_create_it_once(service_url: str) -> None:
    product = new_product("race")
    body = json.dumps(product).encode()
    start = threading.Barrier(SIMULTANEOUS)
    statuses: list[int] = []
    threads = [threading.Thread(target=_post_on_own_connection,
                                args=(service_url, body, start, statuses))
               for _ in range(SIMULTANEOUS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert Counter(statuses) == {201: 1, 409: SIMULTANEOUS - 1}
    fetched = httpx.get(f"{service_url}/products/{product['productId']}")
    assert fetched.json() == product


def test_simultaneous_posts_of_distinct_ids_all_succeed(service_url: str) -> None:
    products = [new_product("many") for _ in range(SIMULTANEOUS)]
    start = threading.Barrier(SIMULTANEOUS)
    statuses: list[int] = []
    threads = [threading.Thread(target=_post_on_own_connection,
                                args=(service_url, json.dumps(p).encode(), start, statuses))
               for p in products]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert statuses == [201] * SIMULTANEOUS
    for product in products:
        assert httpx.get(f"{service_url}/products/{product['productId']}").json() == product


def test_post_past_capacity_is_507_and_reads_still_work(service_factory: ServiceFactory,
                                                        backend: str,
                                                        request: pytest.FixtureRequest) -> None:
    service = service_factory("--capacity", "5", "--no-access-log",
                              *backend_flags(backend, request))
    with httpx.Client(base_url=service.url, timeout=10) as client:
        stored = [new_product("cap") for _ in range(5)]
        for product in stored:
            assert client.post("/products", json=product).status_code == 201
        for _ in range(3):
            body = assert_json_error(client.post("/products", json=new_product("cap")), 507)
            assert body["error"] == "store_full"
            assert "5" in body["message"]
        # a duplicate of a stored id is still a conflict, not "full"
        assert_json_error(client.post("/products", json=stored[0]), 409)
        for product in stored:
            assert client.get(f"/products/{product['productId']}").json() == product
        listing = client.get("/products").json()
        assert listing["total"] == 5 and listing["items"] == stored
        health = client.get("/health").json()
        assert health["products"] == 5 and health["capacity"] == 5


def test_capacity_from_the_environment(service_factory: ServiceFactory) -> None:
    service = service_factory(env={"STORE_CAPACITY": "1", "ACCESS_LOG": "false"})
    with httpx.Client(base_url=service.url, timeout=10) as client:
        assert client.get("/health").json()["capacity"] == 1
        assert client.post("/products", json=new_product()).status_code == 201
        assert_json_error(client.post("/products", json=new_product()), 507)


def test_flag_wins_over_environment(service_factory: ServiceFactory) -> None:
    service = service_factory("--capacity", "3", env={"STORE_CAPACITY": "1"})
    assert httpx.get(f"{service.url}/health").json()["capacity"] == 3


def test_each_worker_has_its_own_store_with_the_capacity(service_factory: ServiceFactory) -> None:
    service = service_factory("--workers", "2", "--capacity", "2", "--no-access-log",
                              "--allow-split-memory")
    created = 0
    full = 0
    for _ in range(12):  # new connection each time: the kernel spreads them over both workers
        response = httpx.post(f"{service.url}/products", json=new_product("w"), timeout=10)
        assert response.status_code in (201, 507), response.text
        created += response.status_code == 201
        full += response.status_code == 507
    assert 2 <= created <= 4  # at most capacity per process, two processes
    assert full == 12 - created
    health = httpx.get(f"{service.url}/health", timeout=10).json()
    assert health["capacity"] == 2 and health["products"] <= 2
