"""The service's count of responses by the millisecond they were sent
(target_service/_completions.py), and its answer on the metrics listener:
``GET /completions?from=T0&to=T1``."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from target_service.metrics import COMPLETIONS, Completions, Metrics, MetricsListener
from tests.conftest import free_port


def test_counts_between_two_instants_to_the_millisecond() -> None:
    counter = Completions(ms_span_s=8, second_span_s=64)
    base = float(int(time.time()) - 3)  # a whole second, inside both rings
    for ms in range(0, 2000, 2):  # one response every 2 ms for 2 s: 1000
        counter.record(base + ms / 1000.0 + 0.0005)
    assert counter.count(base, base + 2.0)["requests"] == 1000
    assert counter.count(base + 0.5, base + 1.5)["requests"] == 500  # across a second's edge
    assert counter.count(base + 0.100, base + 0.104)["requests"] == 2  # ms 100 and 102
    assert counter.count(base + 0.101, base + 0.102)["requests"] == 0
    answer = counter.count(base + 0.25, base + 1.75)
    assert answer["requests"] == 750 and answer["resolution_s"] == 0.001
    assert counter.count(base, base)["requests"] == 0
    assert counter.total == 1000


def test_an_edge_older_than_the_millisecond_ring_counts_whole_seconds() -> None:
    counter = Completions(ms_span_s=2, second_span_s=64)
    now = time.time()
    old = float(int(now) - 10)
    for i in range(10):
        counter.record(old + 0.05 + i * 0.1)  # 10 in the old second
    counter.record(now)
    answer = counter.count(old + 0.5, now + 0.001)
    assert answer["resolution_s"] == 1.0  # that edge's second is counted whole
    assert answer["requests"] == 11
    assert counter.count(now - 0.0005, now + 0.001)["requests"] == 1


def test_the_metrics_layer_counts_the_load_but_not_metrics_scrapes() -> None:
    async def products(_request: object) -> PlainTextResponse:
        return PlainTextResponse("[]")

    app = Metrics(Starlette(routes=[Route("/products", products)]))

    async def requests() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            paths = ["/products"] * 5 + ["/nowhere", "/metrics"]
            return [(await client.get(path)).status_code for path in paths]

    before, started = COMPLETIONS.total, time.time()
    # a 404 is an answer all the same (counted); the scrape itself is not
    assert asyncio.run(requests()) == [200] * 5 + [404, 200]
    assert COMPLETIONS.total - before == 6
    assert COMPLETIONS.count(started, time.time() + 0.002)["requests"] == 6


@pytest.fixture
def listener() -> object:
    server = MetricsListener("127.0.0.1", free_port(), CollectorRegistry())
    server.start()
    yield f"http://127.0.0.1:{server.server.server_address[1]}"
    server.stop()


def test_the_metrics_listener_answers_the_count_of_a_span(listener: str) -> None:
    start = time.time()
    for _ in range(7):
        COMPLETIONS.record(time.time())
    end = time.time() + 0.002
    answer = httpx.get(f"{listener}/completions", params={"from": repr(start), "to": repr(end)})
    assert answer.status_code == 200
    body = answer.json()
    assert body["requests"] == 7 and body["complete"] and body["resolution_s"] == 0.001
    for query in ({"from": "x", "to": "1"}, {"from": "2", "to": "1"}, {"to": "1"},
                  {"from": "nan", "to": "1"}):
        refused = httpx.get(f"{listener}/completions", params=query)
        assert refused.status_code == 400 and refused.json()["error"] == "bad_request"
