"""Strict input handling: every invalid POST is a 400/413 JSON error and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from service_checks import assert_json_error, new_product

JSON_HEADERS = {"Content-Type": "application/json"}
VALID = '{"productId": "ok-1", "name": "Widget", "price": 3}'

INVALID_JSON_BODIES = {
    "empty body": b"",
    "malformed": b'{"productId": "a", "name": "b", "price": 1',
    "trailing comma": b'{"productId": "a", "name": "b", "price": 1,}',
    "single quotes": b"{'productId': 'a', 'name': 'b', 'price': 1}",
    "NaN": b'{"productId": "a", "name": "b", "price": NaN}',
    "Infinity": b'{"productId": "a", "name": "b", "price": Infinity}',
    "-Infinity": b'{"productId": "a", "name": "b", "price": -Infinity}',
    "overflowing number": b'{"productId": "a", "name": "b", "price": 1e400}',
    "invalid utf-8": b'{"productId": "a", "name": "\xff\xfe", "price": 1}',
    "lone surrogate": b'{"productId": "a", "name": "\\ud800", "price": 1}',
    "two documents": b'{"productId": "a", "name": "b", "price": 1} {}',
    "utf-16": VALID.encode("utf-16"),
}

INVALID_PRODUCTS = {
    "array": [],
    "string": "product",
    "number": 1,
    "null": None,
    "true": True,
    "empty object": {},
    "missing productId": {"name": "b", "price": 1},
    "missing name": {"productId": "a", "price": 1},
    "missing price": {"productId": "a", "name": "b"},
    "extra field": {"productId": "a", "name": "b", "price": 1, "colour": "red"},
    "productId number": {"productId": 1, "name": "b", "price": 1},
    "productId null": {"productId": None, "name": "b", "price": 1},
    "productId empty": {"productId": "", "name": "b", "price": 1},
    "productId too long": {"productId": "a" * 65, "name": "b", "price": 1},
    "productId with slash": {"productId": "a/b", "name": "b", "price": 1},
    "productId with space": {"productId": "a b", "name": "b", "price": 1},
    "productId dot-dot": {"productId": "..", "name": "b", "price": 1},
    "productId non-ascii": {"productId": "café", "name": "b", "price": 1},
    "productId object": {"productId": {"id": "a"}, "name": "b", "price": 1},
    "name number": {"productId": "a", "name": 5, "price": 1},
    "name null": {"productId": "a", "name": None, "price": 1},
    "name empty": {"productId": "a", "name": "", "price": 1},
    "name whitespace": {"productId": "a", "name": "   ", "price": 1},
    "name too long": {"productId": "a", "name": "n" * 201, "price": 1},
    "name control char": {"productId": "a", "name": "a\x00b", "price": 1},
    "name newline": {"productId": "a", "name": "a\nb", "price": 1},
    "name list": {"productId": "a", "name": ["b"], "price": 1},
    "description number": {"productId": "a", "name": "b", "price": 1, "description": 5},
    "description null": {"productId": "a", "name": "b", "price": 1, "description": None},
    "description too long": {"productId": "a", "name": "b", "price": 1,
                             "description": "d" * 32769},
    "description control char": {"productId": "a", "name": "b", "price": 1,
                                 "description": "a\x00b"},
    "price string": {"productId": "a", "name": "b", "price": "1"},
    "price true": {"productId": "a", "name": "b", "price": True},
    "price false": {"productId": "a", "name": "b", "price": False},
    "price null": {"productId": "a", "name": "b", "price": None},
    "price negative": {"productId": "a", "name": "b", "price": -0.01},
    "price too large": {"productId": "a", "name": "b", "price": 1_000_000_000.5},
    "price huge integer": {"productId": "a", "name": "b", "price": 10**30},
    "price object": {"productId": "a", "name": "b", "price": {"amount": 1}},
}

BAD_CONTENT_TYPES = {
    "missing": None,
    "text/plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "json-ish": "application/jsonx",
    "latin-1 charset": "application/json; charset=latin-1",
    "multipart": "multipart/form-data; boundary=x",
}


@pytest.fixture
def count_unchanged(client: httpx.Client) -> Iterator[None]:
    """Check that the test left the store's size and listing as they were."""
    before = client.get("/health").json()["products"]
    yield
    assert client.get("/health").json()["products"] == before
    listing = client.get("/products", params={"limit": 100})
    assert listing.status_code == 200 and listing.json()["total"] == before


@pytest.mark.parametrize("body", INVALID_JSON_BODIES.values(), ids=INVALID_JSON_BODIES.keys())
@pytest.mark.usefixtures("count_unchanged")
def test_malformed_json_is_400(client: httpx.Client, body: bytes) -> None:
    assert_json_error(client.post("/products", content=body, headers=JSON_HEADERS), 400)


@pytest.mark.parametrize("product", INVALID_PRODUCTS.values(), ids=INVALID_PRODUCTS.keys())
@pytest.mark.usefixtures("count_unchanged")
def test_invalid_product_is_400(client: httpx.Client, product: object) -> None:
    body = assert_json_error(client.post("/products", content=_encode(product),
                                         headers=JSON_HEADERS), 400)
    assert body["error"] in ("invalid_product", "malformed_json")


@pytest.mark.parametrize("content_type", BAD_CONTENT_TYPES.values(), ids=BAD_CONTENT_TYPES.keys())
@pytest.mark.usefixtures("count_unchanged")
def test_wrong_content_type_is_400(client: httpx.Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/products", content=VALID.encode(), headers=headers)
    assert assert_json_error(response, 400)["error"] == "unsupported_media_type"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON;charset=UTF-8"])
def test_json_content_types_are_accepted(client: httpx.Client, content_type: str) -> None:
    product = new_product()
    response = client.post("/products", content=_encode(product),
                           headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


@pytest.mark.usefixtures("count_unchanged")
def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    product = new_product(description="d" * 70_000)
    body = assert_json_error(client.post("/products", json=product), 413)
    assert body["error"] == "body_too_large"


@pytest.mark.usefixtures("count_unchanged")
def test_chunked_body_over_the_limit_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(70):
            yield b" " * 1000  # no Content-Length: the service must count what arrives

    response = client.post("/products", content=chunks(), headers=JSON_HEADERS)
    assert_json_error(response, 413)


def test_body_at_the_limit_is_accepted(client: httpx.Client) -> None:
    product = new_product(name="n" * 200, description="d" * 32768)
    encoded = _encode(product)
    padded = encoded + b" " * (65536 - len(encoded))
    assert len(padded) == 65536
    assert client.post("/products", content=padded, headers=JSON_HEADERS).status_code == 201


def test_limits_are_inclusive(client: httpx.Client) -> None:
    edge = {"productId": "E" + "x" * 63, "name": "n" * 200, "price": 0}
    assert client.post("/products", json=edge).status_code == 201
    top = new_product(price=1_000_000_000)
    assert client.post("/products", json=top).status_code == 201
    described = new_product(description="d" * 32768)
    assert client.post("/products", json=described).status_code == 201
    stored = client.get(f"/products/{described['productId']}").json()
    assert stored == described
    empty = new_product(description="")
    assert client.post("/products", json=empty).status_code == 201


def test_error_after_invalid_input_leaves_listing_intact(client: httpx.Client) -> None:
    for body in INVALID_JSON_BODIES.values():
        client.post("/products", content=body, headers=JSON_HEADERS)
    response = client.get("/products")
    assert response.status_code == 200
    fields = {"productId", "name", "price"}
    assert all(fields <= set(item) <= fields | {"description"}
               for item in response.json()["items"])


def _encode(product: object) -> bytes:
    return json.dumps(product).encode()
