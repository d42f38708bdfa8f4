"""The open model: latency from the intended start against offered load per backend
(``open.*``), the backends compared (``open.<class>.<mix>.a<rate>.<a>_over_<b>.*``) and the
capacities under an SLO (``capacity.<slo>.<backend>.*``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.capacity import load_capacity
from analysis.compare import MARGIN, judge
from analysis.inference import LogTest, log_welch
from analysis.loading import Sweep

from ._common import OPEN_USABLE, Figures, backend_key, both, counts, finding_code, trusted

QUANTILES = ("p50", "p95", "p99")
# the backend comparisons: a cache in front of PostgreSQL against PostgreSQL alone, and
# PostgreSQL against the memory store; each on the intended-start p95 and the achieved rate
PAIRS = (("postgres-cache", "postgres"), ("postgres", "memory"))
PAIR_METRICS = (("p95", "open_intended_p95_ms"), ("rps", "rps"))


def open_model(sweep: Sweep, figures: Figures, name: str = "open") -> None:
    """Per class, mix, backend and arrival rate, over the runs ``valid`` or ``client-dominated``
    (the capacity search's rule: an SLO the client's time is part of is met by the service
    too): achieved requests/s (``.rps``), the latency from each arrival's intended start
    (``.intended_p50_ms``/``p95``/``p99``), the service time's p95 (``.service_p95_ms``) and
    the share of arrivals dropped (``.dropped_pct``); run counts as ``<name>.runs``/``.valid``/
    ``.status.<status>``; then ``compare_backends``."""
    points = sweep.aggregated.assign(
        backend_key=lambda frame: [backend_key(b) for b in frame["backend"]],
        dropped_pct=lambda frame: 100.0 * frame["open_dropped"] / frame["open_intended"])
    counts(figures, name, points)
    keys = ["user_class", "mix", "backend_key", "arrival_rate"]
    for (user_class, mix, backend, rate), group in points.groupby(keys):
        key = f"open.{user_class}.{mix}.{backend}.a{float(str(rate)):g}"
        both(figures, f"{key}.rps", group, "rps", OPEN_USABLE)
        for q in QUANTILES:
            both(figures, f"{key}.intended_{q}_ms", group, f"open_intended_{q}_ms", OPEN_USABLE)
        both(figures, f"{key}.service_p95_ms", group, "open_service_p95_ms", OPEN_USABLE)
        both(figures, f"{key}.dropped_pct", group, "dropped_pct", OPEN_USABLE)
    compare_backends(figures, points)


def compare_backends(figures: Figures, points: pd.DataFrame) -> None:
    """``open.<class>.<mix>.a<rate>.<a>_over_<b>.<p95|rps>``: backend a's mean over backend b's
    over their runs ``valid`` or ``client-dominated``, with ``.lo``/``.hi`` (Welch on the log
    ratio) and ``.finding_code`` (analysis.compare.judge over every such comparison of the
    class at once: Holm; equivalence by TOST at ``MARGIN``)."""
    for user_class, rows in points.groupby("user_class"):
        found: list[tuple[str, LogTest | None]] = []
        for (mix, rate), cell in rows.groupby(["mix", "arrival_rate"]):
            for a, b in PAIRS:
                top = trusted(cell[cell["backend_key"] == a], OPEN_USABLE)
                bottom = trusted(cell[cell["backend_key"] == b], OPEN_USABLE)
                if not len(top) or not len(bottom):
                    continue
                for metric, column in PAIR_METRICS:
                    key = f"open.{user_class}.{mix}.a{float(str(rate)):g}.{a}_over_{b}.{metric}"
                    found.append((key, log_welch(top[column], bottom[column], MARGIN)))
        if not found:
            continue
        findings, p_holm, _ = judge([test for _, test in found], MARGIN)
        for (key, test), finding, p in zip(found, findings, p_holm, strict=True):
            if test is None:
                figures[f"{key}.finding_code"] = finding_code(finding)
                continue
            figures[key], figures[f"{key}.lo"], figures[f"{key}.hi"] = (
                test.ratio, test.low, test.high)
            figures[f"{key}.finding_code"] = finding_code(finding)
            figures[f"{key}.p_holm"] = float(p)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def capacity(sweep: Sweep, figures: Figures, name: str) -> None:
    """``capacity.<slo>.<backend>.rate``: the highest arrival rate at which every run passed;
    ``.lo``/``.hi`` the search's bracket (the rate that passed, the lowest that failed: not a
    confidence interval); ``.runs`` the search's runs, ``.resolved`` 1 when the bracket reached
    the asked resolution, ``.stopped_budget`` 1 when the run budget stopped it; the sweep's
    run counts as ``<name>.runs``/``.valid``."""
    slo = name.removeprefix("capacity-")
    counts(figures, f"capacity.{slo}", sweep.aggregated)
    for search in load_capacity(Path(sweep.path)):
        where = search.get("configuration") or {}
        backend = backend_key(_backend_label(where))
        key = f"capacity.{slo}.{backend}"
        interval = search.get("interval") or {}
        figures[f"{key}.rate"] = _number(search.get("capacity_rps"))
        figures[f"{key}.lo"] = _number(interval.get("low"))
        figures[f"{key}.hi"] = _number(interval.get("high"))
        figures[f"{key}.runs"] = float(search.get("runs") or 0)
        figures[f"{key}.resolved"] = float(bool(search.get("resolved")))
        figures[f"{key}.stopped_budget"] = float(search.get("stopped") == "budget")
        figures[f"{key}.disagreeing"] = float(len(search.get("disagreeing_rates") or []))


def _backend_label(configuration: dict[str, Any]) -> str:
    from analysis.dimensions import label_of

    try:
        return str(label_of("backend", configuration.get("backend")))
    except KeyError:
        return str(configuration.get("backend"))
