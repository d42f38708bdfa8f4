"""Seed products: deterministic ids created over plain HTTP, outside Locust's statistics.

Every Locust process derives the same ids from ``--seed-products N`` (``seed-000001`` ..), so the
master and its workers agree on them without talking. Only the process that starts the test
(the local runner or the master) seeds. Seeding is idempotent and does only what is needed:
when the last id already exists, the store was seeded before and nothing is sent; otherwise every
id is POSTed and a 409 (already there) counts as fine.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from scenarios.payload import description_member

_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def seed_product_id(index: int) -> str:
    """The id of seed product ``index`` (counting from 1)."""
    return f"seed-{index:06d}"


def seed_product_body(index: int, payload_bytes: int = 0) -> bytes:
    """The JSON body that creates seed product ``index`` (with a description of
    ``payload_bytes`` bytes when it is not 0: see scenarios/payload.py)."""
    price = 1 + (index % 1000) / 100
    return (
        f'{{"productId":"{seed_product_id(index)}","name":"Seed product {index}",'
        f'"price":{price:.2f}{description_member(payload_bytes)}}}'
    ).encode()


class SeedError(RuntimeError):
    """The service could not be seeded."""


@dataclass(frozen=True)
class SeedReport:
    requested: int
    created: int
    already_there: int
    seconds: float


def _connect(host: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SeedError(f"cannot seed {host!r}: expected a URL such as http://127.0.0.1:8080")
    base = parts.path.rstrip("/")
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout), base
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout), base


def _excerpt(body: bytes) -> str:
    return body[:120].decode("utf-8", errors="replace")


def seed_products(host: str, count: int, timeout: float = 10.0,
                  payload_bytes: int = 0) -> SeedReport:
    """Make sure products ``seed-000001`` .. ``seed-{count:06d}`` exist on ``host``."""
    started = time.monotonic()
    if count <= 0:
        return SeedReport(0, 0, 0, 0.0)
    connection, base = _connect(host, timeout)
    try:
        connection.request("GET", f"{base}/products/{seed_product_id(count)}",
                           headers=_JSON_HEADERS)
        probe = connection.getresponse()
        probe.read()
        if probe.status == 200:
            return SeedReport(count, 0, count, time.monotonic() - started)
        created = already_there = 0
        for index in range(1, count + 1):
            connection.request("POST", f"{base}/products",
                               body=seed_product_body(index, payload_bytes), headers=_JSON_HEADERS)
            response = connection.getresponse()
            body = response.read()
            if response.status == 201:
                created += 1
            elif response.status == 409:
                already_there += 1
            elif response.status == 507:
                raise SeedError(
                    f"the service's store is full after {created + already_there} of {count} "
                    f"seed products: lower --seed-products or raise the service's capacity"
                )
            else:
                raise SeedError(
                    f"POST {base}/products for {seed_product_id(index)} answered "
                    f"{response.status}: {_excerpt(body)}"
                )
        return SeedReport(count, created, already_there, time.monotonic() - started)
    except (OSError, http.client.HTTPException) as error:
        raise SeedError(f"cannot seed {host}: {type(error).__name__}: {error}") from None
    finally:
        connection.close()
