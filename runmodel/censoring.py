"""Requests still open when the window closes: which percentiles they could change.

A window's percentiles are read over the requests that completed inside it. A request still
open at its end is *censored*: its response time is unknown, only that it is at least its age.
In a steady state the requests open at the end are matched by those carried into the window at
its start (sent before it, completed in it), so an open request that is still young says
nothing about the window's figures. One already older than a percentile's value is surely
slower than it: had it completed, the completed requests above that value would no longer be a
``1 - p`` share of all, and the percentile's rank would move up by ``p x older``, through a tail
of ``completed x (1 - p)`` requests. When that shift is at least ``SHIFT_SHARE`` of the tail, the
figure is not a value but a lower bound, and it is shown as one (``≥ 1.2 s``). The usual case is
a service that stalls or queues at the window's end: requests open for longer than the p99.
The ``open`` count and the ages are recorded whatever the rule says.

Standard library only (runmodel); the runner writes the verdict into run.json's
``requests.censored`` and the analysis applies the same rule to repeats pooled.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SHIFT_SHARE", "affected", "block", "lower_bound_text", "shift_share"]

# A percentile is a lower bound when the open requests, all slower than it, would move its rank
# through at least this share of the requests above it.
SHIFT_SHARE = 0.1


def shift_share(completed: float, open_: float, fraction: float) -> float:
    """How far ``open_`` requests, all slower, would move the ``fraction`` percentile of
    ``completed`` requests: its rank's shift (``fraction x open_``) over the tail above it
    (``completed x (1 - fraction)``); inf when that tail is empty, 0 when nothing is open."""
    if open_ <= 0:
        return 0.0
    tail = completed * (1.0 - fraction)
    return float("inf") if tail <= 0 else fraction * open_ / tail


def affected(completed: float, older: float, fraction: float) -> bool:
    """True when the ``fraction`` percentile of ``completed`` requests is only a lower bound
    because ``older`` requests, open at the window's end, were already older than it
    (``SHIFT_SHARE``)."""
    return shift_share(completed, older, fraction) >= SHIFT_SHARE


def lower_bound_text(value_ms: float) -> str:
    """A percentile shown as a lower bound: "≥ 1.2 s" from 1 s up, else "≥ 850 ms" (about 3
    significant digits)."""
    if value_ms >= 1000.0:
        return f"≥ {value_ms / 1000.0:.3g} s"
    return f"≥ {value_ms:.3g} ms" if value_ms >= 1.0 else f"≥ {value_ms:.3f} ms"


def block(completed: int, ages_s: list[float], percentiles_ms: dict[str, float | None],
          fractions: dict[str, float]) -> dict[str, Any]:
    """run.json's ``requests.censored``: the requests open at the end (``open``, their ages),
    and per percentile name (``p50``, ...) whether it is a lower bound, with its text.

    ``ages_s``: the open requests' ages at the window's end; ``percentiles_ms`` the window's
    figures over the ``completed`` requests; ``fractions`` the names' fractions. ``open_older``
    counts the open requests already older than the figure: those are surely slower, and they
    decide the bound.
    """
    ages = sorted(ages_s)
    figures: dict[str, Any] = {}
    bounds: list[str] = []
    for name, value in percentiles_ms.items():
        fraction = fractions[name]
        older = sum(1 for age in ages if value is not None and age * 1000.0 >= value)
        share = shift_share(completed, older, fraction)
        bound = value is not None and share >= SHIFT_SHARE
        figures[name] = {"value_ms": value, "lower_bound": bound,
                         "shift_share": round(share, 4) if share != float("inf") else None,
                         "open_older": older,
                         "shown": lower_bound_text(value) if bound and value is not None
                         else None}
        if bound:
            bounds.append(name)
    return {"open": len(ages), "completed": completed,
            "ages_s": {"max": round(ages[-1], 3), "p50": round(ages[len(ages) // 2], 3)}
            if ages else None,
            "rule": (f"lower bound when p x (open requests older than the figure) >= "
                     f"{SHIFT_SHARE:g} x completed x (1 - p)"),
            "lower_bounds": bounds, "percentiles": figures}
