"""The in-memory product store: a dict of encoded products with a capacity, per process."""

from __future__ import annotations

import threading
from typing import Any

import orjson


class StoreFull(Exception):
    """The store holds `capacity` products and accepts no more."""


class DuplicateProduct(Exception):
    """A product with this id is already stored."""


class ProductStore:
    """Products by id, kept as their encoded JSON bytes, in insertion order.

    Inserts and lookups are O(1). Products are never removed, so a position in the insertion
    order is stable: pages by offset neither skip nor repeat products while others are added.
    Each page of the listing is encoded once and reused until the next insert.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._by_id: dict[str, bytes] = {}
        self._in_order: list[bytes] = []
        self._pages: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._in_order)

    def get(self, product_id: str) -> bytes | None:
        return self._by_id.get(product_id)

    def add(self, product: dict[str, Any]) -> bytes:
        """Store a validated product; return its encoding. Raise DuplicateProduct or StoreFull."""
        # orjson's bytes keep a ~4 KiB buffer; an exact-size copy is what the store keeps.
        encoded = memoryview(orjson.dumps(product)).tobytes()
        product_id = product["productId"]
        with self._lock:
            if product_id in self._by_id:
                raise DuplicateProduct(product_id)
            if len(self._in_order) >= self.capacity:
                raise StoreFull(product_id)
            self._by_id[product_id] = encoded
            self._in_order.append(encoded)
            self._pages.clear()
        return encoded

    def page(self, offset: int, limit: int) -> bytes:
        """One page of the listing as a JSON object (see openapi.yaml, ProductPage)."""
        key = (offset, limit)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        with self._lock:
            items = self._in_order[offset:offset + limit]
            total = len(self._in_order)
            body = b"".join((
                b'{"items":[', b",".join(items), b'],"offset":', str(offset).encode(),
                b',"limit":', str(limit).encode(), b',"total":', str(total).encode(),
                b',"nextOffset":', _next_offset(offset, limit, total), b"}",
            ))
            if len(self._pages) >= 256:
                self._pages.clear()
            self._pages[key] = body
        return body


def _next_offset(offset: int, limit: int, total: int) -> bytes:
    return str(offset + limit).encode() if offset + limit < total else b"null"
