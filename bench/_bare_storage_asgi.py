"""The ceilings for bench/storage.py: bare ASGI apps (no framework) doing the service's storage
read for `GET /products/{id}`, with the service's own client settings.

BARE_BACKEND=postgres: the same asyncpg query through the same pool (the service's
`create_pool`, DB_POOL_SIZE connections, DATABASE_URL). BARE_BACKEND=redis: the same Redis GET
of `p:{id}` with the service's client settings (CACHE_URL). Run with the service's uvicorn
settings.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from target_service.backends import (
    CACHE_TIMEOUT_SECONDS,
    DB_TIMEOUT_SECONDS,
    PRODUCT_BY_ID_QUERY,
    create_pool,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]
_BACKEND = os.environ.get("BARE_BACKEND", "postgres")
_state: dict[str, Any] = {}


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _start() -> None:
    if _BACKEND == "postgres":
        _state["pool"] = await create_pool(os.environ["DATABASE_URL"],
                                           int(os.environ.get("DB_POOL_SIZE", "10")))
    else:
        _state["redis"] = redis.Redis.from_url(
            os.environ["CACHE_URL"], socket_timeout=CACHE_TIMEOUT_SECONDS,
            socket_connect_timeout=CACHE_TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0))


async def _lookup(product_id: str) -> bytes | None:
    if _BACKEND == "postgres":
        async with _state["pool"].acquire(timeout=DB_TIMEOUT_SECONDS) as connection:
            body: bytes | None = await connection.fetchval(PRODUCT_BY_ID_QUERY, product_id,
                                                           timeout=DB_TIMEOUT_SECONDS)
            return body
    cached: bytes | None = await _state["redis"].get(f"p:{product_id}")
    return cached


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await _start()
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path: str = scope["path"]
    if scope["method"] == "GET" and path.startswith("/products/"):
        body = await _lookup(path[10:])
        await _respond(send, 200 if body else 404, body or b'{"error":"not_found"}')
    elif path == "/health":
        await _respond(send, 200, b'{"status":"ok"}')
    else:
        await _respond(send, 404, b'{"error":"not_found"}')
