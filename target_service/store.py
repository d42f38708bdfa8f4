"""The storage interface: what every backend does, and the bytes they all answer with.

A backend keeps products as their encoded JSON (encoded once, at insert) and answers with those
bytes, so the same product is the same bytes whichever backend stored it. `open_store` builds the
backend the settings choose: `memory` (per process) or `postgres` (shared), optionally behind a
Redis cache (`CACHE_URL`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson


class StoreFull(Exception):
    """The store holds `capacity` products and accepts no more."""


class DuplicateProduct(Exception):
    """A product with this id is already stored."""


class StoreUnavailable(Exception):
    """A dependency the store needs (named by `dependency`) did not answer in time."""

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency


class Store(Protocol):
    """Products by id, append-only, listed in insertion order; every answer is JSON bytes.

    `health` reports the dependencies as the request path sees them (the request pool);
    `ready` checks that the store is reachable without queueing behind requests (readiness);
    `reset` replaces every product with `records` (id, encoded bytes), in that order: the
    admin path (target_service/admin.py) uses it between the points of a sweep.
    """

    @property
    def capacity(self) -> int | None:
        """Most products stored (None: no cap, PostgreSQL's default: the limit is the disk)."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def get(self, product_id: str) -> bytes | None: ...
    async def add(self, product: dict[str, Any]) -> bytes: ...
    async def page(self, offset: int, limit: int) -> bytes: ...
    async def count(self) -> int: ...
    async def health(self) -> dict[str, object]: ...
    async def ready(self) -> dict[str, object]: ...
    async def reset(self, records: Sequence[tuple[str, bytes]]) -> None: ...


def encode_product(product: dict[str, Any]) -> bytes:
    """The stored bytes of a validated product (an exact-size copy of orjson's buffer)."""
    # orjson's bytes keep a ~4 KiB buffer; an exact-size copy is what a store keeps.
    return memoryview(orjson.dumps(product)).tobytes()


def page_body(items: list[bytes], offset: int, limit: int, total: int) -> bytes:
    """One page of the listing as a JSON object (see openapi.yaml, ProductPage)."""
    next_offset = str(offset + limit).encode() if offset + limit < total else b"null"
    return b"".join((
        b'{"items":[', b",".join(items), b'],"offset":', str(offset).encode(),
        b',"limit":', str(limit).encode(), b',"total":', str(total).encode(),
        b',"nextOffset":', next_offset, b"}",
    ))
