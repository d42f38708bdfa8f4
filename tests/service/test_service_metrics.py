"""GET /metrics: the service's own time per request, per route, in Prometheus' format."""

from __future__ import annotations

import httpx

from scenarios.runner._server_view import Scrape, window_view


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
