"""The service's settings: command-line flags, each with a matching environment variable."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
DEFAULT_CAPACITY = 200_000
MAX_WORKERS = 64

@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_level: str = "info"
    access_log: bool = True
    capacity: int = DEFAULT_CAPACITY


# flag destination -> environment variable
ENV_VARS = {
    "host": "HOST",
    "port": "PORT",
    "workers": "WORKERS",
    "log_level": "LOG_LEVEL",
    "access_log": "ACCESS_LOG",
    "capacity": "STORE_CAPACITY",
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
}


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


def capacity_from_env() -> int:
    """The store capacity for an app built inside a uvicorn worker (STORE_CAPACITY)."""
    text = os.environ.get("STORE_CAPACITY", "")
    return parse_capacity(text) if text else DEFAULT_CAPACITY


def _int_in_range(text: str, low: int, high: int) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or not stripped.isascii():
        raise ValueError(f"expected a whole number from {low} to {high}, got {text!r}")
    value = int(stripped)
    if not low <= value <= high:
        raise ValueError(f"expected a whole number from {low} to {high}, got {value}")
    return value
