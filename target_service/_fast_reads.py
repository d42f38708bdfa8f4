"""An ASGI front that answers the two hot reads straight from the store, before Starlette.

`GET /products/{id}` and `GET /products` without a query string are what a load test repeats;
each answer is bytes the store already holds (or one query away), so routing and request/response
objects would be most of their cost. A lookup's hit and its 404 are answered here; everything else
(errors, writes, HEAD, queries, an unavailable database) goes to the Starlette app, which owns the
API's behaviour; the answers here are byte-identical to its own.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from target_service.errors import error_body
from target_service.store import Store, StoreUnavailable

_PREFIX = "/products/"
_CONTENT_TYPE = (b"content-type", b"application/json")
NOT_FOUND_MESSAGE = "no product with this productId"
_NOT_FOUND = error_body(404, "not_found", NOT_FOUND_MESSAGE)


class FastReads:
    """Serve product lookups and the default first page directly; pass the rest to `app`."""

    def __init__(self, app: ASGIApp, store: Store, first_page_size: int) -> None:
        self.app = app
        self.store = store
        self.first_page_size = first_page_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self.hot(scope, send) is None:
            await self.app(scope, receive, send)

    async def hot(self, scope: Scope, send: Send) -> int | None:
        """Answer a hot read and return its status; None (nothing sent) for anything else."""
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            status = 200
            body: bytes | None = None
            try:
                if path.startswith(_PREFIX) and "/" not in path[len(_PREFIX):] \
                        and len(path) > len(_PREFIX):
                    body = await self.store.get(path[len(_PREFIX):])
                    if body is None:
                        status, body = 404, _NOT_FOUND
                elif path == "/products" and not scope["query_string"]:
                    body = await self.store.page(0, self.first_page_size)
            except StoreUnavailable:
                body = None  # the app answers 503 with its error body
            if body is not None:
                await send({"type": "http.response.start", "status": status, "headers": [
                    (b"content-length", str(len(body)).encode()), _CONTENT_TYPE]})
                await send({"type": "http.response.body", "body": body})
                return status
        return None
