"""Checks shared by the service tests (and reusable against any base URL, e.g. a container)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

_ids = itertools.count()


def new_product(prefix: str = "t", **overrides: Any) -> dict[str, Any]:
    """A valid product body with an id unique within this test session."""
    product: dict[str, Any] = {"productId": f"{prefix}-{next(_ids)}", "name": "Widget",
                               "price": 9.5}
    product.update(overrides)
    return product


def assert_json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response has `status` and the API's JSON error shape; return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "status"}, body
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    return body
