"""The PostgreSQL backend: one table shared by every worker and task, through an asyncpg pool.

The schema is created idempotently at start-up (`migrate`, under an advisory lock so that workers
starting together do not race). Each product is one row: a unique `product_id`, the encoded JSON
`body` (the same bytes the memory store keeps) and an identity `seq` that orders the listing.

Inserts go through one function, `loadbench_add_product`: it takes a transaction-scoped advisory
lock, so identities are committed in the order they are drawn and any snapshot sees a prefix of the
final order (offset pages neither skip nor repeat while others insert); the duplicate rule is the
unique key (`INSERT ... ON CONFLICT DO NOTHING RETURNING`); the product count is a counter row
updated in the same transaction, checked against a capacity only when one is set (by default there
is none: the database's disk is the limit). Every call has a deadline: a database that is down or
stuck becomes StoreUnavailable (503) after at most about 2 x DB_TIMEOUT_SECONDS, and the pool
reconnects by itself when it is back. """

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from target_service.products import ID_PATTERN
from target_service.store import (
    DuplicateProduct,
    StoreFull,
    StoreUnavailable,
    encode_product,
    page_body,
)

DB_TIMEOUT_SECONDS = 2.0
_MIGRATION_LOCK = 7262010

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id text NOT NULL UNIQUE,
    body bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS product_total (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    n bigint NOT NULL
);
INSERT INTO product_total (one, n) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION loadbench_add_product(p_id text, p_body bytea, p_capacity bigint)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    stored bigint;
BEGIN
    -- One writer at a time until commit: identities become visible in the order they are drawn.
    PERFORM pg_advisory_xact_lock(7262011);
    -- p_capacity NULL: no cap (the default on PostgreSQL: the limit is the disk).
    IF p_capacity IS NOT NULL AND (SELECT n FROM product_total) >= p_capacity
            AND NOT EXISTS (SELECT 1 FROM products WHERE product_id = p_id) THEN
        RETURN 507;
    END IF;
    INSERT INTO products (product_id, body) VALUES (p_id, p_body)
        ON CONFLICT (product_id) DO NOTHING RETURNING seq INTO stored;
    IF stored IS NULL THEN
        RETURN 409;
    END IF;
    UPDATE product_total SET n = n + 1;
    RETURN 201;
END
$fn$;
"""

# A reset (target_service/admin.py) may load many seed products: a longer deadline than a request.
RESET_TIMEOUT_SECONDS = 60.0
# Readiness: one dedicated connection (never queued behind the request pool), one check at a
# time, its answer reused for READY_CACHE_SECONDS by every caller.
READY_TIMEOUT_SECONDS = 3.0
READY_CACHE_SECONDS = 1.0

_GET = "SELECT body FROM products WHERE product_id = $1"  # also backends.PRODUCT_BY_ID_QUERY
_ADD = "SELECT loadbench_add_product($1, $2, $3)"
_PAGE = ("SELECT (SELECT n FROM product_total), "
         "ARRAY(SELECT body FROM products ORDER BY seq OFFSET $1 LIMIT $2)")
_COUNT = "SELECT n FROM product_total"

# What "the database did not answer" looks like to asyncpg; anything else is a bug, not an outage.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncio.TimeoutError, asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError, asyncpg.InterfaceError,
    asyncpg.exceptions.InsufficientResourcesError,
)

logger = logging.getLogger("target_service")


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Connections keep no session state (single autocommit statements), so a pool release
    needs no reset round trip."""


async def create_pool(url: str, size: int) -> asyncpg.Pool:
    """The pool every backend call uses (also the benchmark's bare app): `size` connections."""
    return await asyncpg.create_pool(url, min_size=size, max_size=size, reset=_no_reset,
                                     timeout=DB_TIMEOUT_SECONDS,
                                     command_timeout=DB_TIMEOUT_SECONDS)


async def migrate(connection: asyncpg.Connection) -> None:
    """Create the schema if it is not there (idempotent, safe from many processes at once)."""
    async with connection.transaction():
        await connection.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        await connection.execute(SCHEMA)


async def reset_products(connection: asyncpg.Connection,
                         records: Sequence[tuple[str, bytes]]) -> None:
    """Replace every product with `records` (id, encoded bytes) in one transaction: TRUNCATE,
    binary COPY, the counter. Waits for writes in flight (TRUNCATE's lock)."""
    async with connection.transaction():
        await connection.execute("TRUNCATE products RESTART IDENTITY",
                                 timeout=RESET_TIMEOUT_SECONDS)
        if records:
            await connection.copy_records_to_table(
                "products", records=records, columns=("product_id", "body"),
                timeout=RESET_TIMEOUT_SECONDS)
        await connection.execute("UPDATE product_total SET n = $1", len(records),
                                 timeout=RESET_TIMEOUT_SECONDS)


class PostgresStore:
    """The products table through a pool of `pool_size` connections."""

    def __init__(self, url: str, capacity: int | None, pool_size: int,
                 start_timeout: float = 30.0) -> None:
        self.url = url
        self.capacity = capacity
        self.pool_size = pool_size
        self.start_timeout = start_timeout
        self._pool: asyncpg.Pool | None = None
        self._probe: asyncpg.Connection | None = None  # readiness' own connection
        self._ready_lock = asyncio.Lock()
        self._ready_state: dict[str, object] = {}
        self._ready_at: float | None = None

    async def open(self) -> None:
        """Connect (retrying while the database starts, up to `start_timeout`) and migrate."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        while True:
            try:
                connection = await asyncpg.connect(self.url, timeout=DB_TIMEOUT_SECONDS)
                try:
                    await migrate(connection)
                finally:
                    await connection.close()
                self._pool = await create_pool(self.url, self.pool_size)
                return
            except UNAVAILABLE_ERRORS as error:
                if loop.time() > deadline:
                    raise RuntimeError(f"database unreachable at start-up: {error}") from None
                logger.warning("database not ready, retrying", extra={"error": str(error)})
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        self._drop_probe()
        if self._pool is not None:
            await asyncio.wait_for(self._pool.close(), DB_TIMEOUT_SECONDS)

    async def _call(self, query: str, *args: Any) -> Any:
        assert self._pool is not None, "open() first"
        try:
            async with self._pool.acquire(timeout=DB_TIMEOUT_SECONDS) as connection:
                if query is _PAGE:
                    return await connection.fetchrow(query, *args, timeout=DB_TIMEOUT_SECONDS)
                return await connection.fetchval(query, *args, timeout=DB_TIMEOUT_SECONDS)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable("database", f"{type(error).__name__}: {error}") from None

    async def get(self, product_id: str) -> bytes | None:
        if not ID_PATTERN.fullmatch(product_id):
            return None  # never stored (and PostgreSQL text cannot hold every string, e.g. NUL)
        body: bytes | None = await self._call(_GET, product_id)
        return body

    async def add(self, product: dict[str, Any]) -> bytes:
        encoded = encode_product(product)
        status = await self._call(_ADD, product["productId"], encoded, self.capacity)
        if status == 409:
            raise DuplicateProduct(product["productId"])
        if status == 507:
            raise StoreFull(product["productId"])
        return encoded

    async def page(self, offset: int, limit: int) -> bytes:
        total, items = await self._call(_PAGE, offset, limit)
        return page_body(list(items), offset, limit, total)

    async def count(self) -> int:
        total: int = await self._call(_COUNT)
        return total

    async def health(self) -> dict[str, object]:
        try:
            await self._call(_COUNT)
        except StoreUnavailable:
            return {"database": "down"}
        return {"database": "ok"}

    async def ready(self) -> dict[str, object]:
        """Whether the database answers `SELECT 1` on readiness' own connection (not the
        request pool, so a saturated pool does not make the service unready)."""
        loop = asyncio.get_running_loop()
        async with self._ready_lock:  # one check at a time; waiting callers share its answer
            if self._ready_at is None or loop.time() - self._ready_at >= READY_CACHE_SECONDS:
                self._ready_state = await self._check_ready()
                self._ready_at = loop.time()
            return self._ready_state

    async def _check_ready(self) -> dict[str, object]:
        try:
            if self._probe is None or self._probe.is_closed():
                self._probe = await asyncpg.connect(self.url, timeout=READY_TIMEOUT_SECONDS)
            await self._probe.fetchval("SELECT 1", timeout=READY_TIMEOUT_SECONDS)
        except (*UNAVAILABLE_ERRORS, asyncpg.PostgresError):
            self._drop_probe()
            return {"database": "down"}
        return {"database": "ok"}

    def _drop_probe(self) -> None:
        if self._probe is not None:
            self._probe.terminate()
            self._probe = None

    async def reset(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Replace every product with `records`, in one transaction (see reset_products)."""
        assert self._pool is not None, "open() first"
        try:
            async with self._pool.acquire(timeout=DB_TIMEOUT_SECONDS) as connection:
                await reset_products(connection, records)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable("database", f"{type(error).__name__}: {error}") from None
