"""Pacing specs: how long a simulated user waits between tasks.

This module imports nothing from Locust, so the sweep runner can validate ``--pacing`` and
record it in ``run.json`` (``params.pacing``, see ``results/README.md``) before Locust starts.

| spec | ``params.pacing`` | meaning |
| --- | --- | --- |
| ``none`` | ``{"kind": "none"}`` | no wait: each user sends its next request at once |
| ``constant:S`` | ``{"kind": "constant", "seconds": S}`` | wait S seconds after each task |
| ``between:MIN:MAX`` | ``{"kind": "between", "min_s": MIN, "max_s": MAX}`` | uniform wait |
| ``rate:RPS`` | ``{"kind": "rate", "per_user_rps": RPS, "poisson": false}`` | Locust's
  ``constant_throughput``: at most RPS tasks per second per user |
| ``poisson:RPS`` | ``{"kind": "rate", "per_user_rps": RPS, "poisson": true}`` | Poisson
  arrivals at RPS per user, scheduled against the user's clock |
| ``locust-default`` | ``{"kind": "locust-default"}`` | Locust's own ``User.wait_time``
  (``constant(0)`` in Locust 2.47) |
"""

from __future__ import annotations

import math
from typing import Any

PACING_KINDS: tuple[str, ...] = ("none", "constant", "between", "rate", "poisson", "locust-default")

DEFAULT_PACING = "none"


class PacingError(ValueError):
    """A pacing spec that cannot be used."""


def _number(spec: str, text: str, what: str, *, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PacingError(f"bad pacing {spec!r}: {what} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "a positive number" if positive else "a number of seconds, zero or more"
        raise PacingError(f"bad pacing {spec!r}: {what} must be {need}, got {text!r}")
    return value


def parse_pacing(spec: str) -> dict[str, Any]:
    """Parse a pacing spec such as ``between:0.5:2`` into its ``params.pacing`` dict.

    Raises PacingError with a one-line message naming the spec and the problem.
    """
    text = spec.strip().lower()
    kind, _, rest = text.partition(":")
    args = rest.split(":") if rest else []
    expected = {"none": 0, "locust-default": 0, "constant": 1, "between": 2, "rate": 1,
                "poisson": 1}
    if kind not in expected:
        raise PacingError(
            f"bad pacing {spec!r}: expected one of none, constant:S, between:MIN:MAX, rate:RPS, "
            "poisson:RPS, locust-default"
        )
    if len(args) != expected[kind]:
        shapes = {"none": "none", "locust-default": "locust-default", "constant": "constant:S",
                  "between": "between:MIN:MAX", "rate": "rate:RPS", "poisson": "poisson:RPS"}
        raise PacingError(f"bad pacing {spec!r}: expected {shapes[kind]}")
    if kind in ("none", "locust-default"):
        return {"kind": kind}
    if kind == "constant":
        return {"kind": "constant", "seconds": _number(spec, args[0], "seconds", positive=False)}
    if kind == "between":
        low = _number(spec, args[0], "MIN", positive=False)
        high = _number(spec, args[1], "MAX", positive=False)
        if low > high:
            raise PacingError(f"bad pacing {spec!r}: MIN {low:g} is greater than MAX {high:g}")
        return {"kind": "between", "min_s": low, "max_s": high}
    rps = _number(spec, args[0], "RPS", positive=True)
    return {"kind": "rate", "per_user_rps": rps, "poisson": kind == "poisson"}


def format_pacing(pacing: dict[str, Any]) -> str:
    """The spec string for a ``params.pacing`` dict: the inverse of parse_pacing."""
    kind = pacing["kind"]
    if kind == "constant":
        return f"constant:{pacing['seconds']:g}"
    if kind == "between":
        return f"between:{pacing['min_s']:g}:{pacing['max_s']:g}"
    if kind == "rate":
        prefix = "poisson" if pacing.get("poisson") else "rate"
        return f"{prefix}:{pacing['per_user_rps']:g}"
    if kind in ("none", "locust-default"):
        return str(kind)
    raise PacingError(f"unknown pacing kind {kind!r}")
