"""ProductStore in process: what a product costs in memory, and the listing cache's freshness."""

from __future__ import annotations

import tracemalloc

import orjson
import pytest

from target_service.store import DuplicateProduct, ProductStore, StoreFull


def product(index: int) -> dict[str, object]:
    return {"productId": f"product-{index:08d}", "name": f"Product number {index}",
            "price": index * 0.5}


def test_a_stored_product_costs_hundreds_of_bytes_not_kilobytes() -> None:
    store = ProductStore(10_000)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for index in range(2000):
            store.add(product(index))
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_product = (after - before) / 2000
    assert per_product < 600, f"{per_product:.0f} bytes per product (orjson's buffer kept?)"


def test_listing_cache_is_refreshed_by_each_insert() -> None:
    store = ProductStore(10)
    assert orjson.loads(store.page(0, 20))["items"] == []
    store.add(product(1))
    first = store.page(0, 20)
    assert store.page(0, 20) is first  # served from the cache
    store.add(product(2))
    assert [p["productId"] for p in orjson.loads(store.page(0, 20))["items"]] == [
        "product-00000001", "product-00000002"]


def test_duplicate_and_full_leave_the_store_unchanged() -> None:
    store = ProductStore(1)
    store.add(product(1))
    with pytest.raises(DuplicateProduct):
        store.add({**product(1), "name": "other"})
    with pytest.raises(StoreFull):
        store.add(product(2))
    assert len(store) == 1 and store.get("product-00000002") is None
    assert orjson.loads(store.get("product-00000001") or b"")["name"] == "Product number 1"
