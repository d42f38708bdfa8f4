"""The product API's routes, built as a Starlette application around one Store."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

import target_service
from target_service._admin_route import RESET_PATH, reset_route
from target_service._fast_reads import NOT_FOUND_MESSAGE, FastReads
from target_service._memory_store import MemoryStore
from target_service._metrics_listener import MetricsListener
from target_service._test_delay import with_test_delay
from target_service._test_stall import Staller, stall_from_env
from target_service.errors import ApiError, error_body, error_response
from target_service.metrics import Metrics
from target_service.products import MAX_BODY_BYTES, parse_product
from target_service.settings import Settings, settings_from_env, store_capacity
from target_service.store import DuplicateProduct, Store, StoreFull, StoreUnavailable

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A query number longer than this is refused before it is converted: Python refuses to convert
# a string of more than 4300 digits (a 500), and nothing valid here needs more than 10 digits.
MAX_QUERY_DIGITS = 20
OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
JSON = "application/json"

logger = logging.getLogger("target_service")


def open_store(settings: Settings) -> Store:
    """The backend the settings choose (not opened yet)."""
    capacity = store_capacity(settings)
    if settings.store == "memory":
        assert capacity is not None
        return MemoryStore(capacity)
    from target_service._postgres_store import PostgresStore

    store: Store = PostgresStore(settings.database_url, capacity, settings.db_pool_size)
    if settings.cache_url:
        from target_service._redis_cache import CachedStore

        store = CachedStore(store, settings.cache_url)
    return store


def create_app(settings: Settings | None = None) -> ASGIApp:
    """The ASGI app; `settings` default to the environment's (the command line exports them)."""
    settings = settings if settings is not None else settings_from_env()
    store = open_store(settings)
    openapi_document = OPENAPI_PATH.read_bytes()
    version = target_service.__version__
    backend: dict[str, object] = {"store": settings.store,
                                  "cache": "on" if settings.cache_url else "off",
                                  "fastReads": settings.fast_reads}
    if settings.metrics_port is not None:
        backend["metricsPort"] = settings.metrics_port
    stall = stall_from_env()

    async def get_product(request: Request) -> Response:
        encoded = await store.get(request.path_params["productId"])
        if encoded is None:
            raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)
        return Response(encoded, media_type=JSON)

    async def list_products(request: Request) -> Response:
        offset, limit = _page_params(request)
        return Response(await store.page(offset, limit), media_type=JSON)

    async def create_product(request: Request) -> Response:
        product = parse_product(await _read_json_body(request))
        try:
            encoded = await store.add(product)
        except DuplicateProduct:
            raise ApiError(409, "duplicate",
                           "a product with this productId already exists") from None
        except StoreFull:
            raise ApiError(507, "store_full", f"the store is full ({store.capacity} products, "
                           "its capacity); reads still work") from None
        location = f"/products/{product['productId']}"
        return Response(encoded, 201, headers={"location": location}, media_type=JSON)

    async def products(request: Request) -> Response:
        if request.method == "POST":
            return await create_product(request)
        return await list_products(request)

    async def health(request: Request) -> Response:
        dependencies = await store.health()
        down = [name for name, state in dependencies.items() if state == "down"]
        ok = "database" not in down  # a cache that is down slows reads, it fails none
        products = await store.count() if ok else None
        body = {"status": "ok" if ok else "unavailable", "version": version, **backend,
                "pid": os.getpid(),
                "products": products, "capacity": store.capacity, **dependencies}
        return Response(orjson.dumps(body), 200 if ok else 503, media_type=JSON)

    async def live(request: Request) -> Response:
        # Liveness: this process answers. Nothing else is asked (no database, no cache).
        return Response(orjson.dumps({"status": "ok", "version": version, "pid": os.getpid()}),
                        media_type=JSON)

    async def ready(request: Request) -> Response:
        # Readiness: the store is reachable, checked off the request path (see Store.ready).
        dependencies = await store.ready()
        ok = dependencies.get("database") != "down"
        body = {"status": "ok" if ok else "unavailable", "version": version,
                "store": settings.store, "pid": os.getpid(), **dependencies}
        return Response(orjson.dumps(body), 200 if ok else 503, media_type=JSON)

    async def openapi(request: Request) -> Response:
        return Response(openapi_document, media_type="application/yaml")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        listener = None
        if settings.metrics_port is not None:
            listener = MetricsListener(settings.host, settings.metrics_port, metrics.registry,
                                       reuse_port=settings.workers > 1)
            listener.start()
        staller = Staller(stall) if stall is not None else None
        if staller is not None:
            staller.start()
        logger.info("service ready", extra={"version": version, **backend,
                                            "capacity": store.capacity, "pid": os.getpid(),
                                            "admin": bool(settings.admin_token)})
        yield
        if staller is not None:
            staller.stop()
        if listener is not None:
            listener.stop()
        try:
            products: int | None = await store.count()
        except StoreUnavailable:
            products = None
        await store.close()
        logger.info("shutdown complete", extra={"products": products, "pid": os.getpid()})

    routes = [
        Route("/products/{productId}", get_product, methods=["GET"]),
        Route("/products", products, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/health/live", live, methods=["GET"]),
        Route("/health/ready", ready, methods=["GET"]),
        Route("/openapi.yaml", openapi, methods=["GET"]),
    ]
    if settings.admin_token:  # off unless enabled: without a token the path is a 404
        routes.append(Route(RESET_PATH, reset_route(store, settings.admin_token,
                                                    _read_json_body), methods=["POST"]))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            StoreUnavailable: _unavailable,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.router.redirect_slashes = False  # "/products/" is a 404, not a redirect
    served = FastReads(app, store, DEFAULT_PAGE_SIZE) if settings.fast_reads else app
    metrics = Metrics(with_test_delay(served))  # the lifespan's metrics listener reads it
    return metrics


def _page_params(request: Request) -> tuple[int, int]:
    params = request.query_params
    offset = _whole_number(params, "offset", 0, 0, 2**31 - 1)
    limit = _whole_number(params, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return offset, limit


def _whole_number(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    values = params.getlist(name)
    if not values:
        return default
    text = values[0]
    if (len(values) > 1 or len(text) > MAX_QUERY_DIGITS or not (text.isascii() and text.isdigit())
            or not low <= int(text) <= high):
        raise ApiError(400, "invalid_query", f"{name} must be a whole number from {low} to {high}, "
                       "given once")
    return int(text)


async def _read_json_body(request: Request) -> bytes:
    _check_content_type(request.headers.get("content-type"))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() \
            and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large()
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "incomplete_body", "the client went away before the body ended") \
            from None
    return b"".join(chunks)


def _check_content_type(header: str | None) -> None:
    media_type, *params = (header or "").split(";")
    charset_ok = all(
        key.strip().lower() != "charset" or value.strip().strip('"').lower() in ("utf-8", "utf8")
        for key, _, value in (param.partition("=") for param in params)
    )
    if media_type.strip().lower() != JSON or not charset_ok:
        raise ApiError(400, "unsupported_media_type",
                       "the body must be JSON sent with Content-Type: application/json")


def _too_large() -> ApiError:
    return ApiError(413, "body_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreUnavailable)
    logger.warning("dependency unavailable", extra={"error": str(exc), "path": request.url.path})
    return Response(error_body(503, "unavailable", f"the {exc.dependency} is unavailable; "
                               "retry later"), 503, headers={"retry-after": "1"},
                    media_type=JSON)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = {404: "no such resource", 405: "method not allowed on this resource"}.get(
        exc.status_code, str(exc.detail))
    return Response(error_body(exc.status_code, code, message), exc.status_code,
                    headers=exc.headers, media_type=JSON)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return Response(error_body(500, "internal_error", "internal error"), 500, media_type=JSON)
