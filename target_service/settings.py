"""The service's settings: command-line flags, each with a matching environment variable."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
STORES = ("memory", "postgres")
DEFAULT_CAPACITY = 200_000  # the memory store's bound; PostgreSQL has no cap unless one is set
MIN_ADMIN_TOKEN_LENGTH = 16
DEFAULT_POOL_SIZE = 10
MAX_WORKERS = 64
DEFAULT_KEEP_ALIVE = 5  # uvicorn's; behind a load balancer, set it above the LB's idle timeout


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_level: str = "info"
    access_log: bool = True
    capacity: int | None = None  # None: the store's default (see store_capacity)
    store: str = "memory"
    database_url: str = ""
    cache_url: str = ""
    db_pool_size: int = DEFAULT_POOL_SIZE
    fast_reads: bool = True
    allow_split_memory: bool = False
    keep_alive: int = DEFAULT_KEEP_ALIVE
    metrics_port: int | None = None
    admin_token: str = ""


# flag destination -> environment variable
ENV_VARS = {
    "host": "HOST",
    "port": "PORT",
    "workers": "WORKERS",
    "log_level": "LOG_LEVEL",
    "access_log": "ACCESS_LOG",
    "capacity": "STORE_CAPACITY",
    "store": "STORE",
    "database_url": "DATABASE_URL",
    "cache_url": "CACHE_URL",
    "db_pool_size": "DB_POOL_SIZE",
    "fast_reads": "FAST_READS",
    "allow_split_memory": "ALLOW_SPLIT_MEMORY",
    "keep_alive": "TIMEOUT_KEEP_ALIVE",
    "metrics_port": "METRICS_PORT",
    "admin_token": "ADMIN_TOKEN",
}


def parse_host(text: str) -> str:
    if not text.strip() or any(c.isspace() for c in text):
        raise ValueError(f"expected a host name or IP address, got {text!r}")
    return text


def parse_port(text: str) -> int:
    return _int_in_range(text, 1, 65535)


def parse_workers(text: str) -> int:
    return _int_in_range(text, 1, MAX_WORKERS)


def parse_capacity(text: str) -> int:
    return _int_in_range(text, 1, 100_000_000)


def parse_store(text: str) -> str:
    store = text.strip().lower()
    if store not in STORES:
        raise ValueError(f"expected one of {', '.join(STORES)}, got {text!r}")
    return store


def parse_database_url(text: str) -> str:
    if not text.startswith(("postgres://", "postgresql://")):
        raise ValueError("expected a URL such as postgresql://user@127.0.0.1:5432/db")
    return text


def parse_cache_url(text: str) -> str:
    if text and not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected a URL such as redis://127.0.0.1:6379/0 (or empty: no cache)")
    return text


def parse_pool_size(text: str) -> int:
    return _int_in_range(text, 1, 200)


def parse_admin_token(text: str) -> str:
    if len(text) < MIN_ADMIN_TOKEN_LENGTH or not text.isascii() or not text.isprintable() \
            or any(c.isspace() for c in text):
        raise ValueError(f"expected at least {MIN_ADMIN_TOKEN_LENGTH} printable ASCII "
                         "characters without spaces (or unset: the admin route is off)")
    return text


def parse_keep_alive(text: str) -> int:
    return _int_in_range(text, 1, 4000)


def parse_log_level(text: str) -> str:
    level = text.strip().lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {text!r}")
    return level


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true/false (or 1/0, yes/no, on/off), got {text!r}")


PARSERS: dict[str, Callable[[str], object]] = {
    "host": parse_host,
    "port": parse_port,
    "workers": parse_workers,
    "log_level": parse_log_level,
    "access_log": parse_bool,
    "capacity": parse_capacity,
    "store": parse_store,
    "database_url": parse_database_url,
    "cache_url": parse_cache_url,
    "db_pool_size": parse_pool_size,
    "fast_reads": parse_bool,
    "allow_split_memory": parse_bool,
    "keep_alive": parse_keep_alive,
    "metrics_port": parse_port,
    "admin_token": parse_admin_token,
}


def store_capacity(settings: Settings) -> int | None:
    """The cap on products: the setting if given; else DEFAULT_CAPACITY for the memory store
    (its bound is this process's memory) and none for PostgreSQL (its bound is the disk)."""
    if settings.capacity is not None:
        return settings.capacity
    return DEFAULT_CAPACITY if settings.store == "memory" else None


def check_combination(settings: Settings) -> None:
    """Refuse settings that cannot work together; ValueError names the fix."""
    if settings.store == "postgres" and not settings.database_url:
        raise ValueError("--store postgres needs --database-url (DATABASE_URL)")
    if settings.store == "memory" and settings.cache_url:
        raise ValueError("--cache-url (CACHE_URL) needs --store postgres; the memory store "
                         "is its own cache")
    if settings.metrics_port is not None and settings.metrics_port == settings.port:
        raise ValueError(f"--metrics-port (METRICS_PORT) {settings.metrics_port} is the service's "
                         "own --port: choose another port, or leave it unset")
    if settings.store == "memory" and settings.workers > 1 and not settings.allow_split_memory:
        raise ValueError(
            f"--workers {settings.workers} with --store memory would give each worker its own "
            "data (a product created through one is a 404 on the others): use --store postgres, "
            "or --allow-split-memory (ALLOW_SPLIT_MEMORY=true) to accept split data")


def env_defaults(environ: Mapping[str, str]) -> dict[str, object]:
    """Settings given by environment variables; raise ValueError naming a bad one."""
    found: dict[str, object] = {}
    for name, variable in ENV_VARS.items():
        text = environ.get(variable)
        if text is None or text == "":
            continue
        try:
            found[name] = PARSERS[name](text)
        except ValueError as error:
            raise ValueError(f"environment variable {variable}: {error}") from None
    return found


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of an app built inside a uvicorn worker (the command line exports them)."""
    return Settings(**env_defaults(os.environ if environ is None else environ))  # type: ignore[arg-type]


def export_to_env(settings: Settings, environ: dict[str, str] | os._Environ[str]) -> None:
    """Write `settings` as their environment variables, for uvicorn workers to read back."""
    for name, variable in ENV_VARS.items():
        value = getattr(settings, name)
        if value is None:
            environ.pop(variable, None)  # unset: the default
            continue
        environ[variable] = ("true" if value else "false") if isinstance(value, bool) \
            else str(value)


def _int_in_range(text: str, low: int, high: int) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or not stripped.isascii():
        raise ValueError(f"expected a whole number from {low} to {high}, got {text!r}")
    value = int(stripped)
    if not low <= value <= high:
        raise ValueError(f"expected a whole number from {low} to {high}, got {value}")
    return value
