"""``POST /admin/reset``: replace every product with the seed products, behind a bearer token.

The route exists only when the service has ``ADMIN_TOKEN`` (at least 16 characters); without it
the path is an ordinary 404. A request must carry ``Authorization: Bearer <token>``: none is a
401, a wrong one a 403 (compared in constant time). The body is ``{"seed": N, "payloadBytes":
B}`` (``payloadBytes`` optional, 0 by default); the answer ``{"status": "ok", "seed": N,
"payloadBytes": B, "products": N, "seconds": S, "pid": P}``. With the memory store and
``--workers N --allow-split-memory`` only the worker that answered is reset.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from target_service.errors import ApiError
from target_service.seeds import check_seed_request, seed_records
from target_service.store import Store, StoreFull

RESET_PATH = "/admin/reset"
FIELDS = ("seed", "payloadBytes")

logger = logging.getLogger("target_service")


def reset_route(store: Store, token: str,
                read_json_body: Callable[[Request], Awaitable[bytes]]
                ) -> Callable[[Request], Awaitable[Response]]:
    """The route's endpoint for `store`, accepting `token`."""
    expected = f"Bearer {token}".encode()

    async def admin_reset(request: Request) -> Response:
        given = request.headers.get("authorization")
        if given is None:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <ADMIN_TOKEN>",
                           headers={"www-authenticate": "Bearer"})
        if not hmac.compare_digest(given.encode(errors="replace"), expected):
            raise ApiError(403, "forbidden", "wrong admin token")
        seed, payload_bytes = _parse(await read_json_body(request), store.capacity)
        started = time.perf_counter()
        try:
            await store.reset(seed_records(seed, payload_bytes))
        except StoreFull:  # not reached: the seed count was checked against the capacity
            raise ApiError(400, "invalid_reset", "seed is more than the store's capacity") \
                from None
        seconds = time.perf_counter() - started
        logger.info("store reset", extra={"products": seed, "payload_bytes": payload_bytes,
                                          "seconds": round(seconds, 6), "pid": os.getpid()})
        body = {"status": "ok", "seed": seed, "payloadBytes": payload_bytes, "products": seed,
                "seconds": round(seconds, 6), "pid": os.getpid()}
        return Response(orjson.dumps(body), media_type="application/json")

    return admin_reset


def _parse(body: bytes, capacity: int | None) -> tuple[int, int]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "malformed_json", f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_reset", "body must be a JSON object such as "
                       '{"seed": 1000, "payloadBytes": 0}')
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ApiError(400, "invalid_reset", f"unknown field(s): {', '.join(unknown)[:200]}; "
                       f"allowed: {', '.join(FIELDS)}")
    if "seed" not in data:
        raise ApiError(400, "invalid_reset", "missing field: seed")
    try:
        return check_seed_request(data["seed"], data.get("payloadBytes", 0), capacity)
    except ValueError as error:
        raise ApiError(400, "invalid_reset", str(error)) from None
