"""GET /metrics: the service's own time per request, per route, in Prometheus' format."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import httpx

from scenarios.runner.evidence import Scrape, window_view
from tests.conftest import free_port

if TYPE_CHECKING:
    from tests.conftest import ServiceFactory


def test_metrics_count_each_route_in_sub_millisecond_buckets(client: httpx.Client) -> None:
    before = Scrape(0.0, client.get("/metrics").text)
    created = client.post("/products", json={"productId": "metrics-1", "name": "m",
                                             "price": 1.5})
    assert created.status_code == 201, created.text
    for _ in range(5):
        assert client.get("/products/metrics-1").status_code == 200
    assert client.get("/products/no-such-id").status_code == 404
    reply = client.get("/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    assert "loadbench_server_request_duration_seconds_bucket" in reply.text
    assert 'le="0.0001"' in reply.text and 'le="0.00025"' in reply.text  # sub-ms resolution
    view = window_view(before, Scrape(1.0, reply.text))
    routes = view["routes"]
    assert routes["GET /products/{productId} 200"]["requests"] == 5
    assert routes["GET /products/{productId} 404"]["requests"] == 1
    assert view["load"]["requests"] >= 7  # the POST too; /metrics itself is not load
    assert 0 < routes["GET /products/{productId} 200"]["p50_ms"] < 1000


def _series(text: str, name: str) -> dict[str, float]:
    """`name`'s samples in a scrape: the rest of the line before the value -> the value."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name):
            key, _, value = line.rpartition(" ")
            found[key[len(name):]] = float(value)
    return found


def test_queue_time_is_recorded_beside_the_duration(client: httpx.Client) -> None:
    for _ in range(4):
        assert client.get("/health/live").status_code == 200
    text = client.get("/metrics").text
    label = '{method="GET",route="/health/live",status="200"}'
    durations = _series(text, "loadbench_server_request_duration_seconds_count")
    queued = _series(text, "loadbench_server_request_queue_seconds_count")
    assert queued[label] == durations[label] >= 4  # every request stamped on arrival
    waited = _series(text, "loadbench_server_request_queue_seconds_sum")[label]
    assert 0 <= waited < queued[label] * 0.5  # an idle service: the app sees requests at once
    accepted = _series(text, "loadbench_server_accept_queue_seconds_count")
    assert accepted[""] >= 1  # this client's connection, at least


def test_the_metrics_port_serves_metrics_beside_the_main_port(
        service_factory: ServiceFactory) -> None:
    port = free_port()
    service = service_factory("--no-access-log", "--workers", "2", "--allow-split-memory",
                              "--metrics-port", str(port))  # both workers bind it
    side = f"http://127.0.0.1:{port}"
    for _ in range(3):
        assert httpx.get(f"{service.url}/products").status_code == 200
    assert httpx.get(f"{service.url}/health").json()["metricsPort"] == port
    scraped = httpx.get(f"{side}/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    # each worker answers with its own figures (whichever the kernel picks), as on the main port
    for family in ("request_duration_seconds", "request_queue_seconds", "accept_queue_seconds"):
        assert f"# TYPE loadbench_server_{family} histogram" in scraped.text
    # the service is ready when one worker answers; the other worker's listener may log its
    # start a moment later (on a busy machine): wait for it, bounded
    deadline = time.monotonic() + 10.0
    while True:
        ready = [line for line in service.log_path.read_text().splitlines()
                 if "metrics listener ready" in line]
        if len(ready) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(ready) == 2, ready
    assert httpx.get(f"{side}/health/live").json()["status"] == "ok"
    for method, path, status in (("GET", "/products", 404), ("POST", "/metrics", 405),
                                 ("DELETE", "/health/live", 405)):
        response = httpx.request(method, side + path)
        assert response.status_code == status and response.json()["status"] == status
    # a request that is not HTTP at all: a JSON 400 too, and the listener keeps serving
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"NOT HTTP\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):  # the headers and the body may come in two writes
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400") and b'"status":400' in reply
    assert httpx.get(f"{side}/metrics").status_code == 200
