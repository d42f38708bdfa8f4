"""The report's answer as sentences (``analysis.report.headline``): partial sweeps, measured
capacities, FastHttpUser / HttpUser, the service's missing side, knees and SLOs, Little's law,
starved points and the untrusted ones."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis import _answer, _overview
from analysis._format import number
from analysis._locust import TRUSTED_STATUSES
from analysis.capacity import capacity_sentence
from analysis.dimensions import CLASS_NAMES, series_name, suffix

if TYPE_CHECKING:
    from analysis.report import Report

LITTLE_TOLERANCE = 0.10


def headline(report: Report) -> list[str]:
    """The answer as sentences (report.md and the notebooks; the page shows it as cards)."""
    sweep, lines = report.sweep, []
    total = len(sweep.manifest.get("points", [])) or len(sweep.aggregated)
    status = sweep.manifest.get("status", "?")
    finished = len(sweep.aggregated)
    if status != "complete" or sweep.missing_points:
        missing = ", ".join(sweep.missing_points[:6]) + (" …" if len(sweep.missing_points) > 6
                                                         else "")
        lines.append(f"Partial sweep (status {status!r}): {finished} of {total} points finished"
                     + (f"; missing: {missing}." if missing else "."))
    lines.extend(capacity_sentence(search) for search in report.searches)
    if product_classes(sweep.points):
        lines.extend(_answer.class_answer(report.ratios))
    service_side = service_side_line(sweep.manifest)
    if service_side:
        lines.append(service_side)
    for fit in report.capacity.to_dict(orient="records"):
        label = series_name(fit)  # "HttpUser / read-heavy / postgres / 0.25 vCPU ..."
        if not math.isnan(float(fit['sigma'])):
            lines.append(f"Knee ({label}, USL fit on {fit['valid_points']} valid points at "
                         f"{fit['valid_levels']} user counts, R^2={number(fit['r_squared'], 3)}, "
                         f"sigma={number(fit['sigma'], 4)}, "
                         f"kappa={number(fit['kappa'], 6)}): {fit['knee']}.")
        lines.append(_answer.slo_answer(fit, label))
    lines += [line for line in _overview.capacity(report.capacity)
              if "not estimated" in line.lower()]
    littles_text = littles_line(report.littles)
    if littles_text:
        lines.append(littles_text)
    lines.extend(_censored(sweep.aggregated))
    bad = report.untrusted
    if bad.empty:
        lines.append(f"All {finished} finished points are valid.")
    else:
        parts = "; ".join(f"{g['count']} {g['status']}, because {g['why']}"
                          for g in _overview.untrusted_groups(bad))
        lines.append(f"{len(bad)} of {finished} points are not trustworthy and are kept out of "
                     f"the means, ratios and fits: {parts} (the points are listed in the "
                     "untrusted-points table).")
    return lines


def _censored(aggregated: pd.DataFrame) -> list[str]:
    """A sentence on trusted points whose service left requests unanswered for most of the
    window: their latency figures describe the answered requests only."""
    if "oldest_in_flight_s" not in aggregated:
        return []
    rows = aggregated[aggregated["status"].isin(TRUSTED_STATUSES)]
    starved = rows[rows["oldest_in_flight_s"] > 0.5 * rows["window_s"]]
    if starved.empty:
        return []
    users = ", ".join(str(u) for u in sorted(set(starved["users"].astype(int))))
    oldest = float(starved["oldest_in_flight_s"].max())
    count = f"{len(starved)} trusted point" + ("s" if len(starved) != 1 else "")
    return [f"At {count} ({users} users) the service left some requests "
            f"unanswered for more than half the window (oldest {oldest:.1f} s, counted by the "
            "generator): their throughput is the service's, but their latency percentiles "
            "describe only the requests it answered."]


def product_classes(points: pd.DataFrame) -> bool:
    """True when the sweep ran the product's user classes (``http``, ``fast``), whose
    comparison the report answers; False for a locustfile of the user's own."""
    return "user_class" in points and bool({"http", "fast"} & set(points["user_class"]))


def service_side_line(manifest: Mapping[str, Any]) -> str | None:
    """For a sweep of the user's own locustfile against a service it did not start: what of
    the service's side is missing (docs/byo/README.md), or None."""
    config = manifest.get("config") or {}
    locustfile = str(config.get("locustfile") or "").replace("\\", "/")
    if not locustfile or locustfile.endswith("scenarios/locustfile.py"):
        return None
    lacking = [] if config.get("server_metrics") else [
        "its own latency (no --server-metrics)"]
    if not (config.get("service_pid") or config.get("service_cgroup")):
        lacking.append("its CPU (no --service-pid or --service-cgroup)")
    if not lacking:
        return None
    return (f"The service's side was not measured: {' and '.join(lacking)}; the verdicts rest "
            "on the generator's evidence alone.")


def _backend_suffix(fit: Mapping[Any, Any]) -> str:
    """`` / postgres / 0.25 vCPU / +10 ms RTT / 4k payload``: the dimensions away from their
    defaults (``analysis.dimensions.suffix``)."""
    return suffix(fit)


def slo_lines(capacity: pd.DataFrame) -> list[str]:
    """The best measured trusted throughput within the SLO, over every class and mix."""
    within = capacity[capacity["slo_rps"].notna()] if len(capacity) else capacity
    if within.empty:
        return []
    best = within.sort_values("slo_rps").iloc[-1]
    users, name = int(best["slo_users"]), CLASS_NAMES.get(str(best["user_class"]),
                                                          str(best["user_class"]))
    return [f"{number(best['slo_rps'], 0)} requests/s ({name} / {best['mix']}"
            f"{_backend_suffix(best.to_dict())}, {users} "
            f"user{'' if users == 1 else 's'}, {best['slo']})"]


def littles_line(littles: pd.DataFrame) -> str:
    """Little's law over the points, as one sentence (the headline and the page's panel)."""
    known = littles.dropna(subset=["residual"])
    if known.empty:
        return ""
    # where the generator counted its requests in flight, its count decides (analysis.checks)
    effective = known["measured_residual"].fillna(known["residual"])
    off = known.assign(effective=effective)[effective.abs() > LITTLE_TOLERANCE]
    counted = int(known["measured_residual"].notna().sum())
    censored = int(((known["residual"].abs() > LITTLE_TOLERANCE)
                    & (known["measured_residual"].abs() <= LITTLE_TOLERANCE)).sum())
    text = (f"Little's law: {len(off)} of {len(known)} points miss users = throughput x "
            f"(response time + think time) by more than {LITTLE_TOLERANCE:.0%}")
    if counted:
        text += (f" (at {counted}, the generator's own count of requests in flight stands for "
                 "throughput x response time"
                 + (f"; by Locust's completed requests alone {censored} more miss it: requests "
                    "the service left unanswered at the window's end, or answered after it"
                    if censored else "") + ")")
    if off.empty:
        return text + "."
    worst = off.assign(size=off["effective"].abs()).sort_values("size").iloc[-1]
    return text + (f" (largest {abs(worst['effective']):.0%}, at {worst['point_id']}): users "
                   "spent that time in the load generator, not waiting for the service.")
