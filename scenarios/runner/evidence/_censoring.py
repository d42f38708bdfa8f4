"""The requests still open when the window closed, and the percentiles they make lower bounds.

Each Locust process that runs users writes, at ``test_stopping``, the ages of its requests still
open (``ages_s`` in ``evidence/in-flight-*.json``, scenarios/instrumentation/_in_flight.py).
Their response times are unknown (censored): at least their ages. ``censored`` gathers them
over the processes and applies ``runmodel.censoring``'s rule to the window's percentiles: the
run.json ``requests.censored`` block (results/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runmodel import censoring
from runmodel.percentiles import PERCENTILES


def open_ages(evidence_dir: Path) -> list[float] | None:
    """The ages (s) at the window's end of every request still open, over the processes; None
    when no process wrote its in-flight evidence. A file from before ``ages_s`` was written
    gives its count, each at its median age."""
    ages: list[float] = []
    found = False
    for path in sorted(evidence_dir.glob("in-flight-*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(document, dict):
            continue
        found = True
        listed = document.get("ages_s")
        count = int(document.get("in_flight_at_end") or 0)
        if isinstance(listed, list):
            ages += [float(age) for age in listed]
            count -= len(listed)  # more open than written: the rest are younger than those
            youngest = min((float(age) for age in listed), default=0.0)
            ages += [youngest] * max(0, count)
        elif count:
            median = float((document.get("ages_at_end_s") or {}).get("p50") or 0.0)
            ages += [median] * count
    return ages if found else None


def censored(evidence_dir: Path, completed: int | None,
             percentiles_ms: dict[str, float | None]) -> dict[str, Any] | None:
    """run.json's ``requests.censored`` for a window of ``completed`` requests and its
    percentiles (``{"p50": ms, ...}``); None without in-flight evidence or a count."""
    ages = open_ages(evidence_dir)
    if ages is None or completed is None:
        return None
    fractions = {name: PERCENTILES[name] for name in percentiles_ms}
    return censoring.block(completed, ages, percentiles_ms, fractions)


def shown(requests: dict[str, Any], name: str) -> Any:
    """A run.json ``requests`` percentile (``p50``, ``p95``, ``p99``) as a summary shows it: its
    text as a lower bound ("≥ 1.2 s") when ``requests.censored`` says it is one, else its ms."""
    figure = ((requests.get("censored") or {}).get("percentiles") or {}).get(name) or {}
    return figure["shown"] if figure.get("lower_bound") else requests.get(f"{name}_ms")
