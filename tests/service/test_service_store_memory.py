"""MemoryStore in process: what a product costs in memory, and the listing cache's freshness."""

from __future__ import annotations

import asyncio
import tracemalloc

import orjson
import pytest

from target_service.backends import MemoryStore
from target_service.store import DuplicateProduct, StoreFull


def product(index: int) -> dict[str, object]:
    return {"productId": f"product-{index:08d}", "name": f"Product number {index}",
            "price": index * 0.5}


def test_a_stored_product_costs_hundreds_of_bytes_not_kilobytes() -> None:
    store = MemoryStore(10_000)

    async def fill() -> None:
        for index in range(2000):
            await store.add(product(index))

    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        asyncio.run(fill())
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_product = (after - before) / 2000
    assert per_product < 600, f"{per_product:.0f} bytes per product (orjson's buffer kept?)"


def test_listing_cache_is_refreshed_by_each_insert() -> None:
    async def check() -> None:
        store = MemoryStore(10)
        assert orjson.loads(await store.page(0, 20))["items"] == []
        await store.add(product(1))
        first = await store.page(0, 20)
        assert await store.page(0, 20) is first  # served from the cache
        await store.add(product(2))
        assert [p["productId"] for p in orjson.loads(await store.page(0, 20))["items"]] == [
            "product-00000001", "product-00000002"]

    asyncio.run(check())


def test_duplicate_and_full_leave_the_store_unchanged() -> None:
    async def check() -> None:
        store = MemoryStore(1)
        await store.add(product(1))
        with pytest.raises(DuplicateProduct):
            await store.add({**product(1), "name": "other"})
        with pytest.raises(StoreFull):
            await store.add(product(2))
        assert len(store) == 1 and await store.get("product-00000002") is None
        stored = await store.get("product-00000001")
        assert orjson.loads(stored or b"")["name"] == "Product number 1"

    asyncio.run(check())
