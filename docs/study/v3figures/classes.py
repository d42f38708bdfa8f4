"""FastHttpUser against HttpUser: the closed headline (``closed.*``) and the payloads
(``payload.*``), each class comparison judged by analysis.compare over its table."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from analysis.compare import MARGIN, class_ratio, ratio_interval
from analysis.loading import Sweep

from ._common import Figures, both, counts, finding_code, put, trusted

# explanation (1)'s runs: the generator busy enough for its CPU per request to be measured well
CORE_STATUSES = ("valid", "generator-bound")
CORE_MIN_USERS = 50
METRICS = ("rps", "mean_ms", "p95_ms", "p99_ms")


def compare_classes(figures: Figures, points: pd.DataFrame,
                    key: Callable[[pd.Series], str], suffix: str = "") -> None:
    """``<key>.fast_over_http``: FastHttpUser's requests/s over HttpUser's per cell, with
    ``.lo``/``.hi`` (95% Welch CI on the log ratio with 3+ trusted repeats a side),
    ``.finding_code`` (``_common.finding_code``: judged over the table's cells at once, Holm),
    ``.p_holm``, ``.p_equivalence`` (TOST at ``MARGIN``, Holm) and ``.n_fast``/``.n_http``:
    over each configuration's trusted runs (the untrusted ones dropped and counted, rather than
    the whole configuration as class_ratio alone would; a cell with a class that has none is
    not tested). ``suffix`` ``.all``: the same over every run whatever its verdict (each taken
    as valid): what each generator achieved, its own limit included."""
    points = points.assign(status="valid") if suffix else trusted(points)
    table = class_ratio(points, margin=MARGIN)
    for _, row in table.iterrows():
        name = f"{key(row)}.fast_over_http{suffix}"
        figures[name], figures[f"{name}.lo"], figures[f"{name}.hi"] = (
            float(row["rps"]), float(row["rps_lo"]), float(row["rps_hi"]))
        figures[f"{name}.finding_code"] = finding_code(str(row["rps_difference"]))
        figures[f"{name}.p_holm"] = float(row["rps_p_holm"])
        figures[f"{name}.p_equivalence"] = float(row["rps_p_equivalence"])
        figures[f"{name}.n_fast"], figures[f"{name}.n_http"] = (
            float(row["n_fast"]), float(row["n_http"]))


def _per_request(rows: pd.DataFrame) -> list[float]:
    """Locust's CPU per request, ms: its mean share of a core over the window / requests/s."""
    return [10.0 * cpu / rps for cpu, rps in zip(rows["gen_cpu_mean"], rows["rps"], strict=True)
            if rps > 0 and cpu == cpu]


def closed(sweep: Sweep, figures: Figures) -> None:
    """Per class, mix and users the client-seen figures; per (mix, users) the class ratio;
    per class the generator's CPU per request and requests/s per core (explanation (1))."""
    points = sweep.aggregated
    counts(figures, "closed", points)
    for (user_class, mix, users), group in points.groupby(["user_class", "mix", "users"]):
        name = f"closed.{user_class}.{mix}.u{users}"
        for metric in METRICS:
            both(figures, f"{name}.{metric}", group, metric)
        both(figures, f"{name}.gen_cpu_pct", group, "gen_cpu_mean")
    for user_class, group in points.groupby("user_class"):
        counts(figures, f"closed.{user_class!s}", group)
    for suffix in ("", ".all"):
        compare_classes(figures, sweep.points,
                        lambda row: f"closed.{row['mix']}.u{row['users']}", suffix)
    figures["closed.compare.margin_pct"] = 100.0 * MARGIN
    per_core: dict[str, list[float]] = {}
    for user_class_key, group in points.groupby("user_class"):
        user_class = str(user_class_key)
        busy = group[group["status"].isin(CORE_STATUSES) & (group["users"] >= CORE_MIN_USERS)]
        for suffix, rows in (("", busy), (".all", group)):
            per_request = _per_request(rows)
            put(figures, f"closed.{user_class}.gen_cpu_ms_per_request{suffix}", per_request,
                len(group))
            cores = [1000.0 / ms for ms in per_request if ms > 0]
            put(figures, f"closed.{user_class}.rps_per_generator_core{suffix}", cores, len(group))
            if not suffix:
                per_core[user_class] = cores
    if per_core.get("fast") and per_core.get("http"):
        name = "closed.core.fast_over_http"
        figures[name], figures[f"{name}.lo"], figures[f"{name}.hi"], _ = ratio_interval(
            pd.Series(per_core["fast"]), pd.Series(per_core["http"]))
    for mix, group in points[points["user_class"] == "fast"].groupby("mix"):
        top = trusted(group[group["users"] == group["users"].max()])
        if per_core.get("http") and len(top):  # HttpUser's core against the service's capacity
            name = f"closed.{mix!s}.http_core_over_capacity"
            figures[name], figures[f"{name}.lo"], figures[f"{name}.hi"], _ = ratio_interval(
                pd.Series(per_core["http"]), top["rps"])


def payload(sweep: Sweep, figures: Figures) -> None:
    """Per class and payload the client-seen figures and Locust's CPU per request (ms, over the
    trusted runs: ``.gen_cpu_ms_per_request``); per payload the class ratio; per class
    the large payload's requests/s over the small one's (``payload.<class>.big_over_small``)."""
    points = sweep.aggregated
    counts(figures, "payload", points)
    for (user_class, size), group in points.groupby(["user_class", "payload"]):
        for metric in METRICS:
            both(figures, f"payload.{user_class}.{size}.{metric}", group, metric)
        put(figures, f"payload.{user_class}.{size}.gen_cpu_ms_per_request",
            _per_request(trusted(group)), len(group))
    for suffix in ("", ".all"):
        compare_classes(figures, sweep.points, lambda row: f"payload.{row['payload']}", suffix)
    for user_class, group in points.groupby("user_class"):
        sizes = sorted(set(group["payload"]) - {"small"})
        small = trusted(group[group["payload"] == "small"])["rps"]
        for size in sizes:
            big = trusted(group[group["payload"] == size])["rps"]
            name = f"payload.{user_class!s}.{size!s}_over_small"
            figures[name], figures[f"{name}.lo"], figures[f"{name}.hi"], _ = ratio_interval(
                big, small)
