"""The storage backends, for code outside this package (benchmarks, tests, the admin command).

``MemoryStore`` (per process), ``PostgresStore`` (shared) and ``CachedStore`` (Redis in front of
a store) implement ``store.Store``; the rest are the pieces a benchmark's bare app or a tool
needs to do exactly what a backend does: the PostgreSQL pool and its deadline, the lookup query,
the schema migration and the reset, the cache's timeout and flush. Importing this module imports
asyncpg and redis; the service itself imports a backend only when its settings choose it.
"""

from __future__ import annotations

from target_service._memory_store import MemoryStore
from target_service._postgres_store import (
    _GET as PRODUCT_BY_ID_QUERY,
)
from target_service._postgres_store import (
    DB_TIMEOUT_SECONDS,
    PostgresStore,
    create_pool,
    migrate,
    reset_products,
)
from target_service._redis_cache import CACHE_TIMEOUT_SECONDS, CachedStore, flush_cache

__all__ = [
    "CACHE_TIMEOUT_SECONDS",
    "DB_TIMEOUT_SECONDS",
    "PRODUCT_BY_ID_QUERY",
    "CachedStore",
    "MemoryStore",
    "PostgresStore",
    "create_pool",
    "flush_cache",
    "migrate",
    "reset_products",
]
