"""The service's own view of its latency: server-side time per request and route, at /metrics.

``Metrics`` is the outermost ASGI layer: it times every HTTP request from the moment the
service receives it to the end of its response body (time.perf_counter), by route template,
method and status, and answers ``GET /metrics`` in Prometheus' text format (prometheus-client)
with the histogram ``loadbench_server_request_duration_seconds``. Recording is one bisect and
two additions per request (no lock: one event loop per process); prometheus-client formats
the figures only when scraped. With ``--workers N`` each worker process keeps its own figures
and ``/metrics`` answers from whichever worker takes the connection.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from target_service._fast_reads import FastReads

METRIC = "loadbench_server_request_duration_seconds"
# Upper bounds in seconds: 50 µs steps to 0.5 ms, then finer than 2 per decade up to 10 s.
BUCKETS = (0.00005, 0.0001, 0.00015, 0.0002, 0.00025, 0.0003, 0.0004, 0.0005, 0.00075, 0.001,
           0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
           0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
_CONTENT_TYPE = (b"content-type", b"text/plain; version=0.0.4; charset=utf-8")


def route_of(path: str) -> str:
    """The route template of a request path (a small, fixed set of label values)."""
    if path.startswith("/products/"):
        return "/products/{productId}"
    if path in ("/products", "/health", "/openapi.yaml", "/metrics"):
        return path
    return "other"


class _Times:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0


class _Collector(Collector):
    def __init__(self, times: dict[tuple[str, str, int], _Times]) -> None:
        self.times = times

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            METRIC, "Server-side time from request received to response sent, per route",
            labels=("route", "method", "status"))
        for (route, method, status), times in sorted(self.times.items()):
            running, buckets = 0, []
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), times.counts, strict=True):
                running += count
                buckets.append((bound, running))
            family.add_metric([route, method, str(status)], buckets, times.total)
        yield family


class Metrics:
    """Time every request into per-(route, method, status) histograms; serve ``/metrics``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Hot reads answered by FastReads report their status directly: no send wrapper
        self.hot = app.hot if isinstance(app, FastReads) else None
        self.rest = app.app if isinstance(app, FastReads) else app  # what FastReads passes on
        self.times: dict[tuple[str, str, int], _Times] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self.times))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/metrics" and method == "GET":
            await self._serve(send)
            status = 200
        elif self.hot is not None and (hot := await self.hot(scope, send)) is not None:
            status = hot
        else:
            status = 500  # unless the app starts a response

            async def timed_send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            await self.rest(scope, receive, timed_send)
        elapsed = time.perf_counter() - started
        key = (route_of(path), method, status)
        times = self.times.get(key)
        if times is None:
            times = self.times[key] = _Times()
        times.counts[bisect_left(BUCKETS, elapsed)] += 1
        times.total += elapsed

    async def _serve(self, send: Send) -> None:
        body = generate_latest(self.registry)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(body)).encode()), _CONTENT_TYPE]})
        await send({"type": "http.response.body", "body": body})
