"""An ASGI front that answers the two hot reads straight from the store, before Starlette.

`GET /products/{id}` for a stored id and `GET /products` without a query string are what a load
test repeats; each answer is bytes the store already holds, so routing and request/response
objects would be most of their cost. Everything else (misses, errors, writes, HEAD, queries)
goes to the Starlette app, which owns the API's behaviour; the answers here are byte-identical.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from target_service.store import ProductStore

_PREFIX = "/products/"
_CONTENT_TYPE = (b"content-type", b"application/json")


class FastReads:
    """Serve stored products and the default first page directly; pass the rest to `app`."""

    def __init__(self, app: ASGIApp, store: ProductStore, first_page_size: int) -> None:
        self.app = app
        self.store = store
        self.first_page_size = first_page_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            body: bytes | None = None
            if path.startswith(_PREFIX):
                body = self.store.get(path[len(_PREFIX):])  # ids never contain "/"
            elif path == "/products" and not scope["query_string"]:
                body = self.store.page(0, self.first_page_size)
            if body is not None:
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-length", str(len(body)).encode()), _CONTENT_TYPE]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
