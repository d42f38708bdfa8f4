"""A small service that is not target_service, for the bring-your-own tests.

A Starlette app with three routes and a prometheus-client histogram named the OpenTelemetry way
(``http.server.request.duration`` as Prometheus exports it: ``http_server_request_duration_
seconds`` with ``http_route``, ``http_request_method`` and ``http_response_status_code``).
``/metrics`` serves it; ``/metrics-bare`` serves a registry with a counter only (a metrics
endpoint without a request-duration histogram). Run: ``uvicorn tests.byo.shop_app:app``.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

REGISTRY = CollectorRegistry()
DURATION = Histogram(
    "http_server_request_duration_seconds", "Duration of HTTP server requests.",
    ["http_request_method", "http_route", "http_response_status_code"], registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
BARE = CollectorRegistry()
STARTS = Counter("shop_starts", "Process starts.", registry=BARE)
STARTS.inc()
ITEMS = {str(i): {"id": str(i), "name": f"item {i}", "price": i * 3 % 97} for i in range(200)}


async def item(request: Request) -> Response:
    found = ITEMS.get(request.path_params["item_id"])
    if found is None:
        return JSONResponse({"error": "no such item"}, status_code=404)
    return JSONResponse(found)


async def search(request: Request) -> Response:
    await asyncio.sleep(0.002)  # a slower route: two latency levels to tell apart
    word = request.query_params.get("q", "")
    return JSONResponse([v for v in ITEMS.values() if word in v["name"]][:10])


async def metrics(_request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type="text/plain; version=0.0.4")


async def metrics_bare(_request: Request) -> Response:
    return Response(generate_latest(BARE), media_type="text/plain; version=0.0.4")


routes = [Route("/items/{item_id}", item), Route("/search", search),
          Route("/metrics", metrics), Route("/metrics-bare", metrics_bare)]

class Timed:
    """ASGI middleware: each request's duration into DURATION, by route template."""

    def __init__(self, inner: Starlette) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        started = time.perf_counter()
        status = ["500"]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = str(message["status"])
            await send(message)

        try:
            await self.inner(scope, receive, sending)
        finally:
            route = next((r.path for r in routes if r.matches(scope)[0] == Match.FULL), "")
            DURATION.labels(scope["method"], route, status[0]).observe(
                time.perf_counter() - started)


app = Timed(Starlette(routes=routes))
