"""The service's own view of its latency: server-side time per request and route, at /metrics.

``Metrics`` is the outermost ASGI layer: it times every HTTP request from the moment the
service receives it to the end of its response body (time.perf_counter), by route template,
method and status, and answers ``GET /metrics`` in Prometheus' text format (prometheus-client)
with the histogram ``loadbench_server_request_duration_seconds``, and beside it the time each
request waited in the process before the app saw it (``loadbench_server_request_queue_seconds``,
stamped by target_service/_timed_protocol.py) and, per connection, a lower bound on its wait in
the accept queue (``loadbench_server_accept_queue_seconds``). Recording is one bisect and
two additions per request (no lock: one event loop per process); prometheus-client formats
the figures only when scraped. Every response but ``/metrics``'s is also counted by the
millisecond it was sent in (target_service/_completions.py), so that a window's count can be
read after the window, at its exact edges (``GET /completions`` on ``--metrics-port``).
With ``--workers N`` each worker process keeps its own figures and ``/metrics`` answers from
whichever worker takes the connection.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from target_service._completions import COMPLETIONS, Completions
from target_service._fast_reads import FastReads
from target_service._metrics_listener import MetricsListener

__all__ = ["ACCEPT_METRIC", "COMPLETIONS", "METRIC", "QUEUE_METRIC", "Completions", "Metrics",
           "MetricsListener", "record_accept_wait", "route_of"]

METRIC = "loadbench_server_request_duration_seconds"
QUEUE_METRIC = "loadbench_server_request_queue_seconds"
ACCEPT_METRIC = "loadbench_server_accept_queue_seconds"
# The scope entry target_service/_timed_protocol.py adds: perf_counter() when the loop read the
# request's first bytes. Absent under another server: then no queue time is recorded.
RECEIVED_KEY = "loadbench.received"
# Upper bounds in seconds: 50 µs steps to 0.5 ms, then finer than 2 per decade up to 10 s.
BUCKETS = (0.00005, 0.0001, 0.00015, 0.0002, 0.00025, 0.0003, 0.0004, 0.0005, 0.00075, 0.001,
           0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
           0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
_CONTENT_TYPE = (b"content-type", b"text/plain; version=0.0.4; charset=utf-8")


def route_of(path: str) -> str:
    """The route template of a request path (a small, fixed set of label values)."""
    if path.startswith("/products/"):
        return "/products/{productId}"
    if path in _ROUTES:
        return path
    return "other"


_ROUTES = frozenset(("/products", "/health", "/health/live", "/health/ready", "/openapi.yaml",
                     "/metrics", "/admin/reset"))


class _Times:
    __slots__ = ("counts", "queue_counts", "queue_total", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0
        self.queue_counts = [0] * (len(BUCKETS) + 1)  # requests with a receive stamp only
        self.queue_total = 0.0


_ACCEPT_WAITS = _Times()  # per process: one per accepted connection (counts and total)


def record_accept_wait(seconds: float) -> None:
    """Count one accepted connection that waited `seconds` (see _timed_protocol.py)."""
    _ACCEPT_WAITS.counts[bisect_left(BUCKETS, seconds)] += 1
    _ACCEPT_WAITS.total += seconds


def _cumulative(counts: list[int]) -> list[tuple[str, int]]:
    running, buckets = 0, []
    for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
        running += count
        buckets.append((bound, running))
    return buckets


class _Collector(Collector):
    def __init__(self, times: dict[tuple[str, str, int], _Times]) -> None:
        self.times = times

    def collect(self) -> Iterator[HistogramMetricFamily]:
        # A snapshot: the metrics listener's thread reads while the event loop records.
        items = sorted(list(self.times.items()))
        family = HistogramMetricFamily(
            METRIC, "Server-side time from the app receiving the request to the response sent, "
            "per route", labels=("route", "method", "status"))
        queue = HistogramMetricFamily(
            QUEUE_METRIC, "Time from the event loop reading a request's first bytes to the app "
            "starting on it (parsing, the loop's ready queue, pipelining), per route",
            labels=("route", "method", "status"))
        for (route, method, status), times in items:
            labels = [route, method, str(status)]
            family.add_metric(labels, _cumulative(list(times.counts)), times.total)
            queued = list(times.queue_counts)
            if any(queued):
                queue.add_metric(labels, _cumulative(queued), times.queue_total)
        yield family
        yield queue
        accept = HistogramMetricFamily(
            ACCEPT_METRIC, "Per accepted connection: how long before the event loop accepted "
            "it the kernel last heard from the client (a lower bound on the accept-queue wait; "
            "kernel jiffies, 1-4 ms)")
        accept.add_metric([], _cumulative(list(_ACCEPT_WAITS.counts)), _ACCEPT_WAITS.total)
        yield accept


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
        if path != "/metrics":  # responses sent, by when (the window's count: _completions)
            COMPLETIONS.record(time.time())
        key = (route_of(path), method, status)
        times = self.times.get(key)
        if times is None:
            times = self.times[key] = _Times()
        times.counts[bisect_left(BUCKETS, elapsed)] += 1
        times.total += elapsed
        received = scope.get(RECEIVED_KEY)
        if received is not None:
            waited = started - received
            times.queue_counts[bisect_left(BUCKETS, waited)] += 1
            times.queue_total += waited

    async def _serve(self, send: Send) -> None:
        body = generate_latest(self.registry)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(body)).encode()), _CONTENT_TYPE]})
        await send({"type": "http.response.body", "body": body})
