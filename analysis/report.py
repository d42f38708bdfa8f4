"""The sweep report: ``SWEEP_DIR/report/index.html`` (self-contained), ``report.md`` and PNGs.

The page (``templates/report.html.j2``) answers first, on one screen: what was run on what and
when, how many points are trusted and why the others are not, FastHttpUser / HttpUser per mix
with its interval, the knee or why there is none, and the throughput and CPU figures (the CPU
says why points are not trusted). Then the other figures, then the tables; the long ones (all
points, untrusted points, Little's law, per endpoint, metadata) are collapsed. No script:
figures are inline PNG, tables are pandas ``Styler`` HTML, collapsing is ``<details>``.

The answer's sentences are written in ``analysis._headline``, the tables chosen in
``analysis._report_tables``; ``headline`` and ``metadata`` are importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from analysis import _html, _overview, plots, tables
from analysis._format import html_table, markdown_table
from analysis._headline import LITTLE_TOLERANCE as LITTLE_TOLERANCE  # public, as before
from analysis._headline import headline as headline
from analysis._headline import littles_line, slo_lines
from analysis._headline import product_classes as product_classes
from analysis._headline import service_side_line as service_side_line
from analysis._locust import AGGREGATED
from analysis._overview import comparison as comparison  # public: the first screen's parts
from analysis._overview import untrusted_groups as untrusted_groups
from analysis._report_tables import Table as Table
from analysis._report_tables import collapsed, open_tables, titled, untrusted_rows
from analysis._report_tables import metadata as metadata
from analysis.capacity import capacity_sentence, capacity_table, hockey_stick_table, load_capacity
from analysis.checks import littles_law, untrusted
from analysis.compare import class_ratio, mix_ratio
from analysis.loading import Sweep, load
from analysis.stats import summarise

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
        slo=slo_lines(report.capacity), littles=littles_line(report.littles),
        figures=shown, open_tables=open_tables(report), collapsed=collapsed(report),
        untrusted_tables=[{**group, "table": html_table(untrusted_rows(report, group))}
                          for group in _overview.untrusted_groups(report.untrusted)],
        notes=[note for note in (service_side_line(sweep.manifest),
                                 tables.bucketing_note(aggregated)) if note])


def _markdown(report: Report, images: list[str]) -> str:
    parts = [f"# Sweep {report.sweep.sweep_id}\n", "## The answer\n"]
    parts += [f"- {line}" for line in report.headline]
    parts.append("\n## Figures\n")
    parts += [f"![{name}]({name}.png)\n" for name in images]
    untrusted_table = report.untrusted.drop(columns=["cause"])
    sections = [*open_tables(report),
                titled("Points not trustworthy (why: from each point's own verdict reasons)",
                       untrusted_table), *collapsed(report)]
    for table in sections:
        parts += [f"\n## {table['title']}\n", markdown_table(table["frame"])]
        if table["note"]:
            parts.append(f"_Note: {table['note']}_\n")
    return "\n".join(parts)


def render(path: Path | str, slo_ms: float = 100.0) -> Path:
    """Load a sweep and write its report under ``SWEEP_DIR/report/``; return index.html."""
    sweep = load(path)
    return write(build(sweep, slo_ms), sweep.path / "report")
