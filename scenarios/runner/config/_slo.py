"""Service-level objectives such as ``p95<200ms,errors<1%,rps>1000``, checked per point.

Any percentile works: ``p75``, ``p90``, ``p99.9`` (``pNN`` or ``pNN.N``, 0 < NN <= 100). It is
read off the point's merged histogram (the row's ``percentile`` function, see
``_locust_output.aggregated_figures``); a row without one (Locust's CSV row) has only the
columns Locust writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TERM = re.compile(
    r"^\s*(p\d+(?:\.\d+)?|errors|rps)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$"
)


@dataclass(frozen=True)
class Objective:
    metric: str  # "p95" (milliseconds), "errors" (ratio) or "rps"
    op: str
    value: float
    text: str

    def holds(self, measured: float) -> bool:
        return {"<": measured < self.value, "<=": measured <= self.value,
                ">": measured > self.value, ">=": measured >= self.value}[self.op]


def parse_slo(spec: str) -> list[Objective]:
    """Parse the --slo flag; ValueError with a one-line message on a bad term."""
    objectives = []
    for term in filter(None, (t.strip() for t in spec.split(","))):
        match = _TERM.match(term)
        if not match:
            raise ValueError(f"bad objective {term!r}: expected e.g. p95<200ms, errors<1%, rps>100")
        metric, op, number, unit = match.groups()
        value = float(number)
        if metric.startswith("p"):
            if not 0 < float(metric[1:]) <= 100:
                raise ValueError(f"bad objective {term!r}: a percentile is above 0 and at most 100")
            if unit == "%":
                raise ValueError(f"bad objective {term!r}: a percentile takes ms or s")
            value *= 1000.0 if unit == "s" else 1.0
        elif metric == "errors":
            if unit in ("ms", "s"):
                raise ValueError(f"bad objective {term!r}: errors take a % or a ratio")
            value = value / 100.0 if unit == "%" else value
        elif unit:
            raise ValueError(f"bad objective {term!r}: rps takes a plain number")
        objectives.append(Objective(metric, op, value, term))
    if not objectives:
        raise ValueError("no objective given")
    return objectives


def measured(metric: str, row: dict[str, Any]) -> float | None:
    try:
        if metric == "rps":
            return float(row["Requests/s"])
        if metric == "errors":
            total = float(row["Request Count"])
            return float(row["Failure Count"]) / total if total else 0.0
        percentile = row.get("percentile")
        if callable(percentile):
            found = percentile(float(metric[1:]) / 100.0)
            return None if found is None else float(found)
        column = f"{metric[1:]}%"
        value = row.get(column)
        return None if value in (None, "", "N/A") else float(value)
    except (KeyError, TypeError, ValueError):
        return None


def violations(objectives: list[Objective], row: dict[str, Any] | None) -> list[str]:
    """One line per objective the point misses (or cannot show it meets)."""
    found = []
    for objective in objectives:
        value = measured(objective.metric, row) if row else None
        if value is None:
            found.append(f"{objective.text}: no figure in the stats")
        elif not objective.holds(value):
            shown = f"{value:.2%}" if objective.metric == "errors" else f"{value:g}"
            found.append(f"{objective.text}: measured {shown}")
    return found
