"""The seed products a reset loads: part of the HTTP contract (README.md, openapi.yaml).

Seed product ``i`` (counting from 1) is the product a client would create with

    {"productId": "seed-%06d" % i, "name": "Seed product " + str(i),
     "price": 1 + (i % 1000) / 100 rounded to 2 decimals, ["description": D(B)]}

where ``D(B)`` (only when the reset asks for ``payloadBytes`` B > 0) is the ASCII text
``FILLER`` repeated and cut to exactly B characters. A load generator that knows the seed count
N can therefore ask for ``seed-000001`` .. ``seed-{N:06d}`` without listing anything. The
scenarios carry their own copy of this rule (scenarios/seeding.py and scenarios/payload.py; the
two packages never import each other); tests/service/test_service_admin.py checks that both
give the same ids and the same stored bytes.
"""

from __future__ import annotations

from typing import Any

from target_service.products import MAX_DESCRIPTION_LENGTH
from target_service.store import encode_product

# Plain ASCII text (no JSON escaping), so a description's length is its size in bytes.
FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit; load-test payload text. "
MAX_SEED = 1_000_000
MAX_PAYLOAD_BYTES = MAX_DESCRIPTION_LENGTH
# A reset builds every seed product in memory first: bound what one request may ask for.
MAX_SEED_BYTES = 512 * 1024 * 1024


def seed_product_id(index: int) -> str:
    """The id of seed product ``index`` (counting from 1): ``seed-000001``."""
    return f"seed-{index:06d}"


def description(size: int) -> str:
    """The deterministic ASCII description of exactly ``size`` bytes."""
    repeats = size // len(FILLER) + 1
    return (FILLER * repeats)[:size]


def seed_product(index: int, payload_bytes: int = 0) -> dict[str, Any]:
    """Seed product ``index`` as the service stores it (fields in the stored order)."""
    product: dict[str, Any] = {
        "productId": seed_product_id(index),
        "name": f"Seed product {index}",
        "price": float(f"{1 + (index % 1000) / 100:.2f}"),
    }
    if payload_bytes > 0:
        product["description"] = description(payload_bytes)
    return product


def seed_records(count: int, payload_bytes: int = 0) -> list[tuple[str, bytes]]:
    """(id, stored bytes) of seed products 1..count, in order: what a reset loads."""
    return [(seed_product_id(index), encode_product(seed_product(index, payload_bytes)))
            for index in range(1, count + 1)]


def check_seed_request(seed: object, payload_bytes: object,
                       capacity: int | None) -> tuple[int, int]:
    """Validate a reset's seed count and description size; ValueError names the problem."""
    for name, value, high in (("seed", seed, MAX_SEED),
                              ("payloadBytes", payload_bytes, MAX_PAYLOAD_BYTES)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise ValueError(f"{name} must be a whole number from 0 to {high}")
    assert isinstance(seed, int) and isinstance(payload_bytes, int)
    if capacity is not None and seed > capacity:
        raise ValueError(f"seed {seed} is more than the store's capacity ({capacity})")
    if seed * (payload_bytes + 100) > MAX_SEED_BYTES:
        raise ValueError(f"seed x payloadBytes is too large: at most about "
                         f"{MAX_SEED_BYTES // (1024 * 1024)} MiB of seed products per reset")
    return seed, payload_bytes
