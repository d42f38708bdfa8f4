"""What every sweep's figures share: a mean with its interval, the trusted runs, run counts."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.compare import HIGHER, INCONCLUSIVE, LOWER, SAME
from analysis.stats import mean_interval
from runmodel.verdicts import is_trusted

Figures = dict[str, float]

# a judged comparison as a number (``<key>.finding_code``): analysis.compare.judge's findings
FINDING_CODES = {SAME: 0.0, HIGHER: 1.0, LOWER: -1.0, INCONCLUSIVE: 2.0}
NOT_TESTABLE = 3.0  # a side has no trusted run (or one repeat and no spread to lean on)


def finding_code(finding: str) -> float:
    """0 equivalent within the margin (TOST, Holm), +1 / -1 the numerator measurably higher /
    lower (Welch on the log ratio, Holm), 2 inconclusive, 3 not testable."""
    return FINDING_CODES.get(finding, NOT_TESTABLE)


def put(figures: Figures, key: str, values: Iterable[Any], runs: int) -> None:
    """``key`` the mean of ``values``; ``.lo``/``.hi`` its interval (analysis.stats.mean_interval:
    a Student-t 95% CI from 3 values, their range from 2), ``.n`` the values, ``.runs`` the runs
    they were taken from (trusted or not)."""
    clean = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    mean, low, high = mean_interval(clean)
    figures[key] = mean
    figures[f"{key}.lo"], figures[f"{key}.hi"] = low, high
    figures[f"{key}.n"], figures[f"{key}.runs"] = float(len(clean)), float(runs)


# the open model's latency may be the client's as much as the service's and still count: the
# capacity search's pass rule (results/README.md, "Capacity under an SLO")
OPEN_USABLE = ("client-dominated",)


def trusted(group: pd.DataFrame, also: tuple[str, ...] = ()) -> pd.DataFrame:
    """The runs whose verdict is trusted (``valid``), and those whose status is in ``also``."""
    return group[[is_trusted(str(s)) or str(s) in also for s in group["status"]]]


def both(figures: Figures, key: str, group: pd.DataFrame, column: str,
         also: tuple[str, ...] = ()) -> None:
    """``key`` over the trusted runs (and those in ``also``), ``key.all`` over every run
    whatever its verdict (a look at untrusted data only: the README quotes the first)."""
    put(figures, key, trusted(group, also)[column], len(group))
    put(figures, f"{key}.all", group[column], len(group))


def counts(figures: Figures, name: str, points: pd.DataFrame) -> None:
    """``<name>.runs``, ``<name>.valid`` and ``<name>.status.<status>``: the sweep's final runs
    by verdict (``points`` holds one Aggregated row per run)."""
    statuses = Counter(str(s) for s in points["status"])
    figures[f"{name}.runs"] = float(len(points))
    figures[f"{name}.valid"] = float(sum(n for s, n in statuses.items() if is_trusted(s)))
    for status, n in statuses.items():
        figures[f"{name}.status.{status}"] = float(n)


def backend_key(label: str) -> str:
    """A backend's label as a key part: memory, postgres, postgres-cache."""
    return str(label).replace("+", "-")


def proxy_blocks(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    """run_id -> the run.json ``rtt_delay`` block (the delay proxy's own figures)."""
    blocks = {}
    for run_json in sweep_dir.glob("runs/*/run.json"):
        run = json.loads(run_json.read_text(encoding="utf-8"))
        if run.get("final") and run.get("rtt_delay"):
            blocks[str(run["run_id"])] = run["rtt_delay"]
    return blocks


def proxy_extremes(sweep_dir: Path, name: str, figures: Figures) -> None:
    """The delay proxy's busiest second (cores) and its largest mean timer lateness (ms)."""
    blocks = list(proxy_blocks(sweep_dir).values())
    busiest = [float(b["cpu_cores_busiest"]) for b in blocks if b.get("cpu_cores_busiest")]
    late = [b["lateness_ms"]["mean"] for b in blocks
            if (b.get("lateness_ms") or {}).get("mean") is not None]
    if busiest:
        figures[f"{name}.proxy.cpu_cores_busiest_max"] = max(busiest)
    if late:
        figures[f"{name}.proxy.lateness_mean_ms_max"] = max(late)
