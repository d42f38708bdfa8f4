"""The sweep report: ``SWEEP_DIR/report/index.html`` (self-contained), ``report.md`` and PNGs.

The page (``templates/report.html.j2``) answers first, on one screen: what was run on what and
when, how many points are trusted and why the others are not, FastHttpUser / HttpUser per mix
with its interval, the knee or why there is none, and the throughput and CPU figures (the CPU
says why points are not trusted). Then the other figures, then the tables; the long ones (all
points, untrusted points, Little's law, per endpoint, metadata) are collapsed. No script:
figures are inline PNG, tables are pandas ``Styler`` HTML, collapsing is ``<details>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from analysis import _answer, _html, _overview, attribution, plots, tables
from analysis._format import html_table, markdown_table, number
from analysis._locust import AGGREGATED, TRUSTED_STATUSES
from analysis._overview import comparison as comparison  # public: the first screen's parts
from analysis._overview import untrusted_groups as untrusted_groups
from analysis.capacity import capacity_sentence, capacity_table, hockey_stick_table, load_capacity
from analysis.checks import littles_law, untrusted
from analysis.compare import class_ratio, mix_ratio
from analysis.dimensions import CLASS_NAMES, series_name, suffix
from analysis.loading import Sweep, load
from analysis.stats import summarise

LITTLE_TOLERANCE = 0.10
FIGURE_TITLES = {"throughput": "Throughput", "latency": "Latency", "cpu": "CPU",
                 "ratio": "FastHttpUser / HttpUser", "over_time": "One run over time",
                 "hockey_stick": "Open model: the hockey stick"}


@dataclass
class Report:
    """Everything the report shows, as data (the notebooks use it too)."""

    sweep: Sweep
    summary: pd.DataFrame
    ratios: pd.DataFrame
    mixes: pd.DataFrame
    capacity: pd.DataFrame
    littles: pd.DataFrame
    untrusted: pd.DataFrame
    headline: list[str]
    figures: dict[str, Figure] = field(default_factory=dict)
    mix_order: list[str] = field(default_factory=list)
    searches: list[dict[str, Any]] = field(default_factory=list)  # capacity.json's searches


def build(sweep: Sweep, slo_ms: float = 100.0) -> Report:
    """Compute the report's tables, headline and figures from a loaded sweep."""
    points = sweep.points
    summary = summarise(points)
    # FastHttpUser / HttpUser: the product scenario's question; a sweep of a locustfile of the
    # user's own (its own class names) has no such section
    ratios = class_ratio(points) if product_classes(points) else pd.DataFrame()
    capacity = capacity_table(points, slo_ms=slo_ms)
    order = [str(m) for m in (sweep.manifest.get("matrix") or {}).get("mixes")
             or list(dict.fromkeys(points["mix"]))]
    report = Report(sweep, summary, ratios, _mix_ratios(points, order), capacity,
                    littles_law(points), untrusted(points), [], mix_order=order,
                    searches=load_capacity(sweep.path))
    report.headline = headline(report)
    report.figures = figures(report)
    return report


def figures(report: Report) -> dict[str, Figure]:
    """The report's figures, by name, from the same functions the notebooks call."""
    summary, order = report.summary, report.mix_order
    shown = {
        "throughput": plots.throughput_vs_users(summary, order),
        "latency": plots.latency_vs_users(summary, mix_order=order),
        "cpu": plots.cpu_vs_users(summary, report.sweep.generator_cpu_threshold, order),
    }
    if not report.ratios.empty and report.ratios["rps"].notna().any():
        shown["ratio"] = plots.ratio_vs_users(report.ratios, mix_order=order)
    open_runs = hockey_stick_table(report.sweep.points)
    if not open_runs.empty:  # the open model: latency and throughput vs the offered rate
        shown["hockey_stick"] = plots.hockey_stick(open_runs, report.searches)
    run_id = _over_time_run(report.sweep.points)
    if run_id is not None:
        history_path = report.sweep.run_dir(run_id) / "locust_stats_history.csv"
        if history_path.exists():
            shown["over_time"] = plots.over_time(report.sweep.history(run_id),
                                                 f"Over time: {run_id}")
    return shown


def _mix_ratios(points: pd.DataFrame, mixes: list[str]) -> pd.DataFrame:
    """Every other mix against the sweep's first mix (empty with a single mix)."""
    frames = [mix_ratio(points, other, mixes[0]).assign(mixes=f"{other} / {mixes[0]}")
              for other in mixes[1:]]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
    littles_text = _littles_line(report.littles)
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


def _over_time_run(points: pd.DataFrame) -> str | None:
    rows = points[points["endpoint"] == AGGREGATED]
    if rows.empty:
        return None
    bad = rows[rows["status"] != "valid"]
    chosen = bad if not bad.empty else rows
    return str(chosen.sort_values(["users", "requests"]).iloc[-1]["run_id"])


def write(report: Report, out_dir: Path) -> Path:
    """Write index.html, report.md and the PNGs under ``out_dir``; return index.html's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    images = {name: _html.png(figure) for name, figure in report.figures.items()}
    for name, data in images.items():
        (out_dir / f"{name}.png").write_bytes(data)
    (out_dir / "report.md").write_text(_markdown(report, list(report.figures)))
    index = out_dir / "index.html"
    index.write_text(page(report, images))
    return index


def page(report: Report, images: dict[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page (``images``: PNGs already rendered)."""
    sweep = report.sweep
    aggregated = report.summary[report.summary["endpoint"] == AGGREGATED]
    shown = {name: {**_html.inline_figure(figure, (images or {}).get(name)),
                    "title": FIGURE_TITLES.get(name, name), "alt": name}
             for name, figure in report.figures.items()}
    return _html.render(
        "report.html.j2", title=f"Sweep {sweep.sweep_id}", facts=_overview.facts(sweep),
        trust=_overview.trust(sweep, report.untrusted),
        comparison=_overview.comparison(report.ratios, report.mix_order),
        class_comparison=product_classes(sweep.points),
        capacity=([capacity_sentence(search) for search in report.searches]  # measured
                  or _overview.capacity(report.capacity)),  # else the USL fit's knee
        slo=_slo_lines(report.capacity), littles=_littles_line(report.littles),
        figures=shown, open_tables=_open_tables(report), collapsed=_collapsed(report),
        untrusted_tables=[{**group, "table": html_table(_untrusted_rows(report, group))}
                          for group in _overview.untrusted_groups(report.untrusted)],
        notes=[note for note in (service_side_line(sweep.manifest),
                                 tables.bucketing_note(aggregated)) if note])


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


def _slo_lines(capacity: pd.DataFrame) -> list[str]:
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


def _littles_line(littles: pd.DataFrame) -> str:
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


def _untrusted_rows(report: Report, group: dict[str, Any]) -> pd.DataFrame:
    rows = report.untrusted[report.untrusted["point_id"].isin(group["points"])]
    return pd.DataFrame({"point": rows["point_id"], "verdict": rows["status"],
                         "generator CPU %": rows["gen_cpu_mean"].map(lambda v: number(v, 0)),
                         "requests": rows["requests"], "reasons (the runner's)": rows["reasons"]})


Table = dict[str, Any]


def _table(title: str, frame: pd.DataFrame, note: str = "") -> Table:
    return {"title": title, "rows": len(frame), "html": html_table(frame), "note": note,
            "frame": frame}


def _open_tables(report: Report) -> list[Table]:
    aggregated = report.summary[report.summary["endpoint"] == AGGREGATED]
    shown = [_table("FastHttpUser / HttpUser per mix and users (ratios of the means of trusted "
                    "repeats; each interval says what it is: a 95% CI (Welch t, log scale) "
                    "with 3 or more repeats per class, else the range of the repeats' ratios; "
                    "throughput: different only after Holm's correction over the table, no "
                    "difference only from TOST within ±10%, else inconclusive at n; n = trusted "
                    "repeats FastHttpUser / HttpUser)",
                    tables.ratio_table(report.ratios), tables.bucketing_note(aggregated))]
    shown.append(_table("Capacity (Universal Scalability Law on trusted points) and the SLO",
                        tables.capacity_display(report.capacity)))
    return [table for table in shown if table["rows"]]


def _collapsed(report: Report) -> list[Table]:
    endpoints = report.summary[report.summary["endpoint"] != AGGREGATED]
    aggregated = report.summary[report.summary["endpoint"] == AGGREGATED]
    collapsed = [
        _table("All points (Aggregated; means over repeats of one verdict, percentiles from "
               "merged histograms; intervals over repeats: the range with 2 repeats, a 95% CI "
               "(t) with 3 or more, for percentiles from the spread of the repeats' own)",
               tables.summary_table(report.summary),
               tables.bucketing_note(aggregated)),
        _table("Warnings (doubts that change no verdict)",
               tables.warnings_table(report.sweep.points)),
        _table("Client-seen and server-side latency (Locust vs the service's own /metrics; "
               "'mostly client': more than half the client-seen mean is outside the service)",
               tables.latency_sides_table(report.sweep.points)),
        _table("Latency attributed end to end (ms per request: the client-seen mean = client "
               "floor (calibrated) + added network delay + accept queue + app queue + service "
               "+ the unexplained remainder, shown as such, never spread over the parts)",
               tables.latency_split_table(split := attribution.split_frame(report.sweep)),
               attribution.note(split)),
        _table("Little's law (users = throughput × (response time + think time))",
               tables.littles_table(report.littles)),
        _table("Per endpoint", tables.endpoint_table(report.summary),
               tables.bucketing_note(endpoints)),
        _table("Mix vs mix (ratios of the means, trusted points only)",
               tables.mix_table(report.mixes)),
        _table("Earlier attempts of re-run points (final: false; more generator processes "
               "followed)", tables.attempts_table(report.sweep.runs)),
        _table("Run metadata (manifest.json)", metadata(report.sweep.manifest)),
    ]
    return [table for table in collapsed if table["rows"]]


def metadata(manifest: dict[str, Any]) -> pd.DataFrame:
    """The manifest (without its list of points) as a two-column table of dotted keys."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, inner in enumerate(value):
                walk(f"{prefix}[{index}]", inner)
        elif isinstance(value, list):
            rows.append((prefix, " ".join(map(str, value)) if prefix == "command"
                         else ", ".join(map(str, value))))
        else:
            rows.append((prefix, "" if value is None else str(value)))

    walk("", {key: value for key, value in manifest.items() if key != "points"})
    return pd.DataFrame(rows, columns=["field", "value"])


def _markdown(report: Report, images: list[str]) -> str:
    parts = [f"# Sweep {report.sweep.sweep_id}\n", "## The answer\n"]
    parts += [f"- {line}" for line in report.headline]
    parts.append("\n## Figures\n")
    parts += [f"![{name}]({name}.png)\n" for name in images]
    untrusted_table = report.untrusted.drop(columns=["cause"])
    sections = [*_open_tables(report),
                _table("Points not trustworthy (why: from each point's own verdict reasons)",
                       untrusted_table), *_collapsed(report)]
    for table in sections:
        parts += [f"\n## {table['title']}\n", markdown_table(table["frame"])]
        if table["note"]:
            parts.append(f"_Note: {table['note']}_\n")
    return "\n".join(parts)


def render(path: Path | str, slo_ms: float = 100.0) -> Path:
    """Load a sweep and write its report under ``SWEEP_DIR/report/``; return index.html."""
    sweep = load(path)
    return write(build(sweep, slo_ms), sweep.path / "report")
