"""The ceiling for bench/service.py: a bare ASGI app (no framework) doing the same lookups.

It stores products sent by POST /products, answers GET /products/{id} from a dict of encoded
bytes and GET /products with the cached first page, like the service, with no validation,
routing framework or middleware. Run it with the same uvicorn settings as the service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]
_products: dict[str, bytes] = {}
_first_page: list[bytes | None] = [None]


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path: str = scope["path"]
    if scope["method"] == "GET" and path.startswith("/products/"):
        body = _products.get(path[10:])
        await _respond(send, 200 if body else 404, body or b'{"error":"not_found"}')
    elif scope["method"] == "GET" and path == "/products":
        page = _first_page[0]
        if page is None:
            page = b'{"items":[' + b",".join(list(_products.values())[:20]) + b"]}"
            _first_page[0] = page
        await _respond(send, 200, page)
    elif scope["method"] == "POST" and path == "/products":
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        product = orjson.loads(b"".join(chunks))
        encoded = orjson.dumps(product)
        _products[product["productId"]] = encoded
        _first_page[0] = None
        await _respond(send, 201, encoded)
    elif path == "/health":
        await _respond(send, 200, b'{"status":"ok"}')
    else:
        await _respond(send, 404, b'{"error":"not_found"}')
