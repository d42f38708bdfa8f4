"""The window's opening (the settle rule) and its length (``--duration auto``), runner side.

A local run asks its Locust process to open and close the window itself
(scenarios/instrumentation/_auto_window.py): :func:`window_request` is the ``LOADBENCH_WINDOW``
environment it passes, and :func:`run_time_bound` the ``-t`` that still bounds Locust if that
logic never runs. After the run, :func:`read_settle` reads the process's
``evidence/settle-local-<pid>.json`` into run.json's ``window.settle`` and ``window.duration``
(results/README.md), and :func:`settle_warning` says when the window opened at the settle bound
before the ramp had settled, or when an auto window reached its maximum before its interval
was within ±5%.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from scenarios.instrumentation import SETTLE_MAX_S, SLICE_S, WINDOW_ENV

SLACK_S = 5.0  # -t beyond the longest the window logic can take


def settle_bound(min_window_s: float) -> float:
    """The longest wait for a settled ramp: half the minimum window, within 2 s and
    ``SETTLE_MAX_S`` (5 s)."""
    return max(2.0, min(SETTLE_MAX_S, min_window_s / 2))


def settle_slice(cpu_period_s: float | None) -> float:
    """The settle rule's slice: ``SLICE_S``, or under a CPU quota the smallest whole number of
    its periods that is at least that long. A quota'd service answers in bursts, one per
    period, so a slice of 2.5 periods (0.25 s at Fargate's 100 ms) holds 2 or 3 bursts and
    its counts never agree within 10% however steady the load: the window would always open
    at its bound, unsettled."""
    if not cpu_period_s or cpu_period_s <= 0:
        return SLICE_S
    return round(math.ceil(SLICE_S / cpu_period_s - 1e-9) * cpu_period_s, 6)


def window_request(min_s: float, max_s: float | None, users: int | None,
                   service_port: int | None,
                   cpu_period_s: float | None = None) -> dict[str, str]:
    """The environment that asks a local Locust process to settle, open and close the window:
    ``users`` must all have had a response (None: an open model's pool), ``service_port`` is
    the local service's (its accept queue must be empty), ``max_s`` None is a fixed window,
    ``cpu_period_s`` the service's CPU quota period (None: no quota; see :func:`settle_slice`)."""
    spec = {"min_s": min_s, "max_s": max_s, "settle_max_s": settle_bound(min_s),
            "users": users, "service_port": service_port,
            "slice_s": settle_slice(cpu_period_s)}
    return {WINDOW_ENV: json.dumps(spec)}


def run_time_bound(ramp_s: float, min_s: float, max_s: float | None) -> int:
    """Locust's ``-t``: the ramp, the settle bound, the longest window and some slack."""
    return math.ceil(ramp_s + settle_bound(min_s) + (max_s or min_s) + SLACK_S)


def read_settle(evidence_dir: Path) -> dict[str, Any] | None:
    """The Locust process's settle evidence (``settle`` and ``duration``), or None."""
    for path in sorted(evidence_dir.glob("settle-*-*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, dict):
            return document
    return None


def settle_warning(document: dict[str, Any] | None, auto_asked: bool = False) -> list[str]:
    """The doubts the settle evidence raises (none when it settled and, if auto, converged);
    ``auto_asked``: --duration auto was asked, which a run without the evidence (a master and
    its workers) did not apply."""
    if not document:
        return (["--duration auto applies to a single Locust process: this run kept Locust's "
                 "own window (reset when spawning completed, the minimum window)"]
                if auto_asked else [])
    warnings = []
    settle = document.get("settle") or {}
    if settle.get("opened_by") == "bound":
        missing = []
        if not (settle.get("throughput") or {}).get("settled"):
            missing.append("the per-slice throughput had not settled "
                           f"(slices {settle.get('slices')})")
        if settle.get("users") is not None and (settle.get("users_answered") or 0) < int(
                settle["users"]):
            missing.append(f"{settle.get('users_answered')} of {settle['users']} users had "
                           "had a response")
        if settle.get("accept_queue"):
            missing.append(f"{settle['accept_queue']} connections waited to be accepted")
        warnings.append(f"the window opened at its settle bound ({settle.get('settle_max_s')}s "
                        f"after spawning) before the ramp settled: {'; '.join(missing)}")
    duration = document.get("duration") or {}
    if duration.get("rule") == "auto" and duration.get("stopped_by") == "max":
        interval = duration.get("interval") or {}
        width = interval.get("relative_half_width")
        warnings.append(
            f"--duration auto reached its maximum ({duration.get('max_s')}s) with the "
            f"throughput's {interval.get('interval', 'interval')} at "
            + (f"±{width:.1%}" if width is not None else "no interval")
            + f", not within ±{duration.get('target', 0.05):.0%}")
    return warnings


def window_blocks(document: dict[str, Any] | None) -> dict[str, Any]:
    """run.json's ``window.settle`` and ``window.duration`` from the evidence (none: empty)."""
    if not document:
        return {}
    return {key: document[key] for key in ("settle", "duration") if document.get(key)}
