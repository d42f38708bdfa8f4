"""The product API's happy paths and JSON errors, against the real service on loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from service_checks import assert_json_error, new_product

import target_service

OPENAPI_FILE = Path(target_service.__file__).with_name("openapi.yaml")


def test_health_reports_status_and_version(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == target_service.__version__
    assert body["products"] >= 0
    # the memory store is bounded by default; PostgreSQL has no cap unless one is set
    assert body["capacity"] == (200_000 if body["store"] == "memory" else None)


def test_create_returns_the_product_and_its_location(client: httpx.Client) -> None:
    product = new_product(name="Blue mug", price=12)
    response = client.post("/products", json=product)
    assert response.status_code == 201
    assert response.json() == product
    assert response.headers["location"] == f"/products/{product['productId']}"
    fetched = client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == product
    assert fetched.headers["content-type"] == "application/json"


def test_price_keeps_its_json_number(client: httpx.Client) -> None:
    fractional = new_product(price=0.1)
    whole = new_product(price=1_000_000_000)
    for product in (fractional, whole):
        assert client.post("/products", json=product).status_code == 201
    assert client.get(f"/products/{fractional['productId']}").json()["price"] == 0.1
    assert client.get(f"/products/{whole['productId']}").text.endswith('"price":1000000000}')


def test_unicode_name_round_trips(client: httpx.Client) -> None:
    product = new_product(name="Café ☕ 東京 😀")
    assert client.post("/products", json=product).status_code == 201
    assert client.get(f"/products/{product['productId']}").json()["name"] == "Café ☕ 東京 😀"


def test_duplicate_id_is_409_and_keeps_the_first(client: httpx.Client) -> None:
    first = new_product(name="First")
    assert client.post("/products", json=first).status_code == 201
    second = {**first, "name": "Second"}
    body = assert_json_error(client.post("/products", json=second), 409)
    assert body["error"] == "duplicate"
    assert client.get(f"/products/{first['productId']}").json()["name"] == "First"


@pytest.mark.parametrize("path", ["/products/absent", "/products/%00", "/products/a%2Fb",
                                  "/products/" + "x" * 500])
def test_unknown_product_is_404_json(client: httpx.Client, path: str) -> None:
    assert assert_json_error(client.get(path), 404)["error"] == "not_found"


@pytest.mark.parametrize("path", ["/", "/nope", "/products/", "/products/a/b", "/health/x",
                                  "/health/"])
def test_unknown_route_is_404_json(client: httpx.Client, path: str) -> None:
    assert_json_error(client.get(path), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/products"), ("PUT", "/products"), ("POST", "/products/abc"),
    ("DELETE", "/products/abc"), ("POST", "/health"), ("PATCH", "/openapi.yaml"),
])
def test_wrong_method_is_405_json_with_allow(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path)
    assert_json_error(response, 405)
    assert "GET" in response.headers["allow"]


def test_products_allows_get_and_post(client: httpx.Client) -> None:
    allow = client.delete("/products").headers["allow"]
    assert {"GET", "POST"} <= {method.strip() for method in allow.split(",")}


def test_head_is_answered_without_body(client: httpx.Client) -> None:
    response = client.head("/health")
    assert response.status_code == 200
    assert response.content == b""


def test_openapi_document_is_served_and_matches_the_file(client: httpx.Client) -> None:
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.content == OPENAPI_FILE.read_bytes()
    assert response.content.startswith(b"openapi: 3.")


def test_no_server_header_and_responses_are_json(client: httpx.Client) -> None:
    response = client.get("/health")
    assert "server" not in response.headers
    assert response.headers["content-type"] == "application/json"


def test_fast_and_routed_answers_are_identical(client: httpx.Client) -> None:
    product = new_product()
    client.post("/products", json=product)
    fast = client.get("/products")  # served before routing
    routed = client.get("/products?offset=0&limit=20")  # served by the Starlette route
    assert fast.content == routed.content
    assert [(k, v) for k, v in fast.headers.items() if k != "date"] \
        == [(k, v) for k, v in routed.headers.items() if k != "date"]
    hit = client.get(f"/products/{product['productId']}")
    miss = client.get("/products/not-there")
    assert set(hit.headers) == set(miss.headers)
    assert hit.headers["content-type"] == miss.headers["content-type"] == "application/json"
