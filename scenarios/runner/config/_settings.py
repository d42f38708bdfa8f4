"""One setting's value, checked and converted to its ``SweepConfig`` field's type.

A TOML file's values and the flags go through ``normalise``; the matrix's dimensions are
parsed by runmodel's registry (``runmodel.dimensions``), the others here. Every error is a
one-line ``ConfigError`` that names the flag or the file and key (``what``).
"""

from __future__ import annotations

import re
from typing import Any

from runmodel import dimensions
from runmodel.values import DimensionError
from scenarios.runner.config._byo import locust_args
from scenarios.runner.config._sweep_config import ConfigError

__all__ = ["normalise", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$")


def parse_duration(value: Any, what: str) -> float:
    """``"2s"``, ``"500ms"``, ``"1m"`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected a duration such as 2s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(f"{what}: expected a duration such as 2s or 500ms, got {value!r}")
        unit = match.group(2) or "s"
        seconds = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0}[unit]
    if seconds < 0:
        raise ConfigError(f"{what}: must not be negative")
    return seconds


def _as_list(value: Any, what: str) -> list[Any]:
    try:
        return dimensions.parse_list(value, what)
    except DimensionError as exc:
        raise ConfigError(str(exc)) from None


def _as_int(value: Any, what: str, minimum: int) -> int:
    try:
        number = int(value)
        if isinstance(value, bool) or (isinstance(value, float | str) and float(value) != number):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{what}: must be at least {minimum}, got {number}")
    return number


def _as_float(value: Any, what: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: expected a number, got {value!r}") from None


def normalise(key: str, value: Any, what: str) -> Any:
    """Check one setting's value and convert it to the field's type."""
    if key == "duration_s":  # a fixed window's seconds, or auto's WindowDuration
        try:
            window = dimensions.WINDOW.parse(value)
        except DimensionError as exc:
            raise ConfigError(f"{what}: {exc}") from None
        return window if window.auto else window.min_s
    if key == "ramp_s":
        return parse_duration(value, what)
    if key == "user_classes":  # a file's own class names: checked in resolve_config
        return list(dict.fromkeys(str(v) for v in _as_list(value, what)))
    if key == "locust_args":
        try:
            return locust_args(value, what)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if key == "server_histogram":
        return [str(v) for v in _as_list(value, what)]
    if key == "service_pid":
        return _as_int(value, what, 1)
    if key in dimensions.SETTINGS:  # the matrix's dimensions: runmodel's registry parses them
        # (service_cpu may be "auto": sized before the sweep, scenarios/runner/_auto_envelope.py)
        try:
            return dimensions.parse_setting(key, value, what)
        except DimensionError as exc:
            raise ConfigError(str(exc)) from None
    if key == "cpu_period_ms":
        text = str(value).strip()
        milliseconds = parse_duration(text if text[-1:].isalpha() else f"{text}ms", what)
        milliseconds *= 1000
        if not 1 <= milliseconds <= 1000:
            raise ConfigError(f"{what}: the kernel accepts a period from 1ms to 1s")
        return milliseconds
    if key in ("service_cpus", "generator_cpus"):
        return None if value is None else [_as_int(v, what, 0) for v in _as_list(value, what)]
    if key in ("service_workers", "expect_workers"):
        return _as_int(value, what, 1)
    if key in ("seed_products", "min_requests"):
        return _as_int(value, what, 0)
    if key in ("generator_cpu_threshold", "error_threshold"):
        return _as_float(value, what)
    if key in ("fail_fast", "allow_tiny_envelope"):
        if not isinstance(value, bool):
            raise ConfigError(f"{what}: expected true or false, got {value!r}")
        return value
    return None if value is None else str(value)

