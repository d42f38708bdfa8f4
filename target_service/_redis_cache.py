"""The optional Redis cache in front of a store: cache-aside for products and listing pages.

`GET /products/{id}`: the product's bytes under `p:{id}`. Products are immutable and never deleted
while the service runs, so an entry can never become wrong and needs no invalidation (only a reset,
which empties the database, must also flush the cache; `reset` and the admin CLI do, see
target_service/admin.py). Misses (404) are not cached: the id may be created a moment later.

`GET /products`: pages under a generation number. A read fetches the generation and the page in
one round trip (a small Lua script); a miss reads the database and stores the page under the
generation it read *before* the database read. Each insert increments the generation after its
commit, so a page made before the insert is never read again. If that increment fails (cache
down), the next successful contact from this process increments first; pages also expire after
PAGE_TTL_SECONDS, which bounds how stale a page can be when the cache itself lost a write.

A cache that is down or slow never fails a request: each call has a short timeout
(CACHE_TIMEOUT_SECONDS), a failure sends the read to the database, and the cache is then left
alone for COOLDOWN_SECONDS. Every read served by the database because of the cache is counted in
`fallbacks` (shown in /health with hits, misses and the cache's state).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from target_service.store import Store, StoreUnavailable

CACHE_TIMEOUT_SECONDS = 0.25
COOLDOWN_SECONDS = 1.0
PRODUCT_TTL_SECONDS = 3600
PAGE_TTL_SECONDS = 60
_GENERATION = "pages:generation"
_READ_PAGE = """
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('HGET', 'pages:' .. generation, ARGV[1])}
"""
_CACHE_ERRORS = (RedisError, OSError, TimeoutError)


async def flush_cache(client: redis.Redis) -> None:
    """Empty the cache's database (FLUSHDB) and move the page generation to a value never used
    before, so that a page computed before the flush by a read still in flight is stored under
    a generation nobody reads again."""
    await client.flushdb()
    await client.set(_GENERATION, time.time_ns())


class CachedStore:
    """`store` behind a Redis cache at `url`; every other call goes to `store` unchanged."""

    def __init__(self, store: Store, url: str) -> None:
        self.store = store
        self.capacity = store.capacity
        self.client = redis.Redis.from_url(
            url, socket_timeout=CACHE_TIMEOUT_SECONDS,
            socket_connect_timeout=CACHE_TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0))
        self._read_page = self.client.register_script(_READ_PAGE)
        self.hits = self.misses = self.fallbacks = self.errors = 0
        self._down_until = 0.0
        self._invalidation_owed = False

    async def open(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        try:
            await self.client.aclose()
        finally:
            await self.store.close()

    def _usable(self) -> bool:
        if self._down_until and time.monotonic() < self._down_until:
            self.fallbacks += 1
            return False
        return True

    def _failed(self) -> None:
        self.errors += 1
        self._down_until = time.monotonic() + COOLDOWN_SECONDS

    async def _settle_invalidation(self) -> None:
        if self._invalidation_owed:
            await self.client.incr(_GENERATION)
            self._invalidation_owed = False

    async def get(self, product_id: str) -> bytes | None:
        key = f"p:{product_id}"
        if self._usable():
            try:
                cached = cast("bytes | None", await self.client.get(key))
            except _CACHE_ERRORS:
                self._failed()
                self.fallbacks += 1
            else:
                if cached is not None:
                    self.hits += 1
                    return cached
                self.misses += 1
                body = await self.store.get(product_id)
                if body is not None:
                    try:
                        await self.client.set(key, body, ex=PRODUCT_TTL_SECONDS)
                    except _CACHE_ERRORS:
                        self._failed()
                return body
        return await self.store.get(product_id)

    async def add(self, product: dict[str, Any]) -> bytes:
        encoded = await self.store.add(product)
        self._invalidation_owed = True
        if self._usable():
            try:
                await self._settle_invalidation()
            except _CACHE_ERRORS:
                self._failed()
        return encoded

    async def page(self, offset: int, limit: int) -> bytes:
        field = f"{offset}:{limit}"
        if self._usable():
            try:
                await self._settle_invalidation()
                generation, cached = await self._read_page(keys=[_GENERATION], args=[field])
            except _CACHE_ERRORS:
                self._failed()
                self.fallbacks += 1
            else:
                if cached is not None:
                    self.hits += 1
                    return bytes(cached)
                self.misses += 1
                body = await self.store.page(offset, limit)
                try:
                    key = b"pages:" + generation
                    async with self.client.pipeline(transaction=False) as pipe:
                        pipe.hset(key, field, body)
                        pipe.expire(key, PAGE_TTL_SECONDS)
                        await pipe.execute()
                except _CACHE_ERRORS:
                    self._failed()
                return body
        return await self.store.page(offset, limit)

    async def count(self) -> int:
        return await self.store.count()

    async def ready(self) -> dict[str, object]:
        """The database's readiness only: a cache that is down slows reads, it fails none."""
        return await self.store.ready()

    async def reset(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Reset the store, then empty the cache (a failure here fails the reset: stale copies
        of the old products would otherwise be served)."""
        await self.store.reset(records)
        try:
            await flush_cache(self.client)
        except _CACHE_ERRORS as error:
            raise StoreUnavailable("cache", f"{type(error).__name__}: {error}") from None
        self._invalidation_owed = False
        self._down_until = 0.0

    async def health(self) -> dict[str, object]:
        state = "ok"
        try:
            await self.client.ping()
        except _CACHE_ERRORS:
            state = "down"
        return {**await self.store.health(), "cacheState": state, "cacheHits": self.hits,
                "cacheMisses": self.misses, "cacheFallbacks": self.fallbacks,
                "cacheErrors": self.errors}
