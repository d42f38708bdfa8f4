"""GET /products: bounded pages, every product exactly once, strict page parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from service_checks import assert_json_error

from tests.conftest import backend_flags

if TYPE_CHECKING:
    from tests.conftest import ServiceFactory

PRODUCTS = 237


@pytest.fixture(scope="module")
def seeded(module_service_factory: ServiceFactory, backend: str, request: pytest.FixtureRequest,
           ) -> Iterator[tuple[httpx.Client, list[dict[str, Any]]]]:
    service = module_service_factory("--no-access-log", *backend_flags(backend, request))
    products = [{"productId": f"page-{i:04d}", "name": f"Item {i}", "price": i * 0.5}
                for i in range(PRODUCTS)]
    with httpx.Client(base_url=service.url, timeout=10) as client:
        for product in products:
            assert client.post("/products", json=product).status_code == 201
        yield client, products


def walk(client: httpx.Client, limit: int | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, int] = {} if limit is None else {"limit": limit}
    offset: int | None = 0
    while offset is not None:
        page = client.get("/products", params={**params, "offset": offset})
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= body["limit"]
        assert body["offset"] == offset and body["total"] == PRODUCTS
        items += body["items"]
        offset = body["nextOffset"]
    return items


@pytest.mark.parametrize("limit", [None, 1, 7, 100])
def test_walking_the_pages_visits_every_product_once(seeded: Any, limit: int | None) -> None:
    client, products = seeded
    assert walk(client, limit) == products


def test_first_page_by_default(seeded: Any) -> None:
    client, products = seeded
    body = client.get("/products").json()
    assert body["items"] == products[:20]
    assert body == {"items": products[:20], "offset": 0, "limit": 20, "total": PRODUCTS,
                    "nextOffset": 20}


def test_page_past_the_end_is_empty(seeded: Any) -> None:
    client, _ = seeded
    body = client.get("/products", params={"offset": 10_000}).json()
    assert body["items"] == [] and body["nextOffset"] is None


def test_last_page_has_no_next(seeded: Any) -> None:
    client, products = seeded
    body = client.get("/products", params={"offset": PRODUCTS - 3, "limit": 100}).json()
    assert body["items"] == products[-3:] and body["nextOffset"] is None


def test_repeated_listing_is_identical(seeded: Any) -> None:
    client, _ = seeded
    first = client.get("/products", params={"limit": 50}).content
    assert all(client.get("/products", params={"limit": 50}).content == first for _ in range(5))


def test_a_write_shows_in_the_next_listing(service_factory: ServiceFactory, backend: str,
                                           request: pytest.FixtureRequest) -> None:
    service = service_factory("--no-access-log", *backend_flags(backend, request))
    with httpx.Client(base_url=service.url, timeout=10) as client:
        for query in ("", "?offset=0&limit=5"):  # the fast path and the routed one
            assert client.get("/products" + query).json()["items"] == []
            assert client.get("/products" + query).json()["items"] == []  # cached, if a cache
        product = {"productId": "fresh", "name": "Fresh", "price": 1}
        client.post("/products", json=product)
        for query in ("", "?offset=0&limit=5"):
            assert client.get("/products" + query).json()["items"] == [product]


BAD_PARAMS = {
    "limit zero": {"limit": "0"},
    "limit over maximum": {"limit": "101"},
    "limit negative": {"limit": "-1"},
    "limit text": {"limit": "ten"},
    "limit empty": {"limit": ""},
    "limit float": {"limit": "1.5"},
    "limit huge": {"limit": "9" * 40},
    "limit unicode digits": {"limit": "١٢"},
    "offset negative": {"offset": "-5"},
    "offset text": {"offset": "x"},
    "offset plus sign": {"offset": "+5"},
    "offset huge": {"offset": "99999999999999999999"},
    # over 4300 digits: Python's int() refused the string and the service answered 500
    "offset 5000 zeros": {"offset": "0" * 5000},
    "limit 5000 digits": {"limit": "0" * 4999 + "5"},
    "offset over-long but small": {"offset": "0" * 30 + "1"},
}


@pytest.mark.parametrize("params", BAD_PARAMS.values(), ids=BAD_PARAMS.keys())
def test_bad_page_parameters_are_400(seeded: Any, params: dict[str, str]) -> None:
    client, _ = seeded
    body = assert_json_error(client.get("/products", params=params), 400)
    assert body["error"] == "invalid_query"


def test_repeated_parameter_is_400(seeded: Any) -> None:
    client, _ = seeded
    assert_json_error(client.get("/products?limit=5&limit=6"), 400)
