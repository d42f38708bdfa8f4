"""What a valid product is: the limits of the API and the strict parsing of a POST body."""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

from target_service.errors import ApiError

MAX_BODY_BYTES = 65536
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 200
# An optional free-text field: what the sweep's payload dimension (--payload) fills.
MAX_DESCRIPTION_LENGTH = 32768
MAX_PRICE = 1_000_000_000
FIELDS = ("productId", "name", "price")
OPTIONAL_FIELDS = ("description",)

# Ids appear in URLs (`/products/{productId}`), so they are limited to unreserved URL characters
# and start with a letter or digit (no "." or ".." path segments).
ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._~-]{{0,{MAX_ID_LENGTH - 1}}}")
# Names are printable text: no control characters (C0, DEL, C1).
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_product", message)


def parse_product(body: bytes) -> dict[str, Any]:
    """Parse and validate a POST /products body; raise ApiError(400) when it is not a product."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "malformed_json", f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise invalid(f"body must be a JSON object, got {_json_type(data)}")
    unknown = sorted(set(data) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        allowed = ", ".join(FIELDS + OPTIONAL_FIELDS)
        raise invalid(f"unknown field(s): {', '.join(unknown)[:200]}; allowed: {allowed}")
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise invalid(f"missing field(s): {', '.join(missing)}")
    product = {
        "productId": _check_id(data["productId"]),
        "name": _check_name(data["name"]),
        "price": _check_price(data["price"]),
    }
    if "description" in data:
        product["description"] = _check_description(data["description"])
    return product


def _check_id(value: object) -> str:
    if not isinstance(value, str):
        raise invalid(f"productId must be a string, got {_json_type(value)}")
    if not ID_PATTERN.fullmatch(value):
        raise invalid(
            f"productId must be 1-{MAX_ID_LENGTH} characters from A-Z a-z 0-9 . _ ~ -, "
            "starting with a letter or digit"
        )
    return value


def _check_name(value: object) -> str:
    if not isinstance(value, str):
        raise invalid(f"name must be a string, got {_json_type(value)}")
    if not value.strip():
        raise invalid("name must not be empty or only whitespace")
    if len(value) > MAX_NAME_LENGTH:
        raise invalid(f"name must be at most {MAX_NAME_LENGTH} characters, got {len(value)}")
    if _CONTROL_CHARS.search(value):
        raise invalid("name must not contain control characters")
    return value


def _check_description(value: object) -> str:
    if not isinstance(value, str):
        raise invalid(f"description must be a string, got {_json_type(value)}")
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise invalid(f"description must be at most {MAX_DESCRIPTION_LENGTH} characters, "
                      f"got {len(value)}")
    if _CONTROL_CHARS.search(value):
        raise invalid("description must not contain control characters")
    return value


def _check_price(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"price must be a number, got {_json_type(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid("price must be a finite number")
    if not 0 <= value <= MAX_PRICE:
        raise invalid(f"price must be between 0 and {MAX_PRICE}")
    return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
