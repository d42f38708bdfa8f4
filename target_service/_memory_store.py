"""The in-memory backend: a dict of encoded products with a capacity, per process."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from target_service.store import DuplicateProduct, StoreFull, encode_product, page_body


class MemoryStore:
    """Products by id, kept as their encoded JSON bytes, in insertion order.

    Inserts and lookups are O(1). Products are never removed, so a position in the insertion
    order is stable: pages by offset neither skip nor repeat products while others are added.
    Each page of the listing is encoded once and reused until the next insert. The duplicate
    check and the insert happen together, without yielding to the event loop.
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

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def get(self, product_id: str) -> bytes | None:
        return self._by_id.get(product_id)

    async def add(self, product: dict[str, Any]) -> bytes:
        """Store a validated product; return its encoding. Raise DuplicateProduct or StoreFull."""
        encoded = encode_product(product)
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

    async def page(self, offset: int, limit: int) -> bytes:
        key = (offset, limit)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        with self._lock:
            body = page_body(self._in_order[offset:offset + limit], offset, limit,
                             len(self._in_order))
            if len(self._pages) >= 256:
                self._pages.clear()
            self._pages[key] = body
        return body

    async def count(self) -> int:
        return len(self._in_order)

    async def health(self) -> dict[str, object]:
        return {}

    async def ready(self) -> dict[str, object]:
        return {}

    async def reset(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Replace every product with `records` (id, encoded bytes), in order."""
        if len(records) > self.capacity:
            raise StoreFull(f"{len(records)} seed products")
        by_id = dict(records)
        in_order = [encoded for _, encoded in records]
        with self._lock:
            self._by_id = by_id
            self._in_order = in_order
            self._pages.clear()
