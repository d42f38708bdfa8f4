"""The sweep report: ``SWEEP_DIR/report/index.html`` (self-contained), ``report.md`` and PNGs.

It leads with the answer (which user class, by how much, at which concurrency, where the knee
is, which points are not trustworthy and why), then the tables and plots, then the metadata.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from analysis import _answer, plots, tables
from analysis._format import html_table, markdown_table, number
from analysis._locust import AGGREGATED
from analysis.capacity import capacity_table
from analysis.checks import littles_law, untrusted
from analysis.compare import class_ratio, mix_ratio
from analysis.loading import Sweep, load
from analysis.stats import summarise

LITTLE_TOLERANCE = 0.10
CLASS_NAMES = {"fast": "FastHttpUser", "http": "HttpUser"}


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


def build(sweep: Sweep, slo_ms: float = 100.0) -> Report:
    """Compute the report's tables, headline and figures from a loaded sweep."""
    points = sweep.points
    summary = summarise(points)
    ratios = class_ratio(points)
    capacity = capacity_table(points, slo_ms=slo_ms)
    order = (sweep.manifest.get("matrix") or {}).get("mixes") or list(dict.fromkeys(points["mix"]))
    report = Report(sweep, summary, ratios, _mix_ratios(points, order), capacity,
                    littles_law(points),
                    untrusted(points), [])
    report.headline = headline(report)
    report.figures = {
        "throughput": plots.throughput_vs_users(summary),
        "latency": plots.latency_vs_users(summary),
        "cpu": plots.cpu_vs_users(summary, sweep.generator_cpu_threshold),
    }
    if not ratios.empty and ratios["rps"].notna().any():
        report.figures["ratio"] = plots.ratio_vs_users(ratios)
    run_id = _over_time_run(points)
    if run_id is not None:
        history_path = sweep.run_dir(run_id) / "locust_stats_history.csv"
        if history_path.exists():
            report.figures["over_time"] = plots.over_time(sweep.history(run_id),
                                                          f"Over time: {run_id}")
    return report


def _mix_ratios(points: pd.DataFrame, mixes: list[str]) -> pd.DataFrame:
    """Every other mix against the sweep's first mix (empty with a single mix)."""
    frames = [mix_ratio(points, other, mixes[0]).assign(mixes=f"{other} / {mixes[0]}")
              for other in mixes[1:]]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def headline(report: Report) -> list[str]:
    """The answer first, as sentences."""
    sweep, lines = report.sweep, []
    total = len(sweep.manifest.get("points", [])) or len(sweep.aggregated)
    status = sweep.manifest.get("status", "?")
    finished = len(sweep.aggregated)
    if status != "complete" or sweep.missing_points:
        missing = ", ".join(sweep.missing_points[:6]) + (" …" if len(sweep.missing_points) > 6
                                                         else "")
        lines.append(f"Partial sweep (status {status!r}): {finished} of {total} points finished"
                     + (f"; missing: {missing}." if missing else "."))
    lines.extend(_answer.class_answer(report.ratios))
    for fit in report.capacity.to_dict(orient="records"):
        label = f"{CLASS_NAMES.get(str(fit['user_class']), fit['user_class'])} / {fit['mix']}"
        if not math.isnan(float(fit['sigma'])):
            lines.append(f"Knee ({label}, USL fit on {fit['valid_points']} valid points at "
                         f"{fit['valid_levels']} user counts, R^2={number(fit['r_squared'], 3)}, "
                         f"sigma={number(fit['sigma'], 4)}, "
                         f"kappa={number(fit['kappa'], 6)}): {fit['knee']}.")
        else:
            lines.append(f"Knee ({label}): not estimated ({fit['note']}); highest measured "
                         f"throughput {number(fit['measured_max_rps'])} requests/s.")
        lines.append(_answer.slo_answer(fit, label))
    littles = report.littles.dropna(subset=["residual"])
    off = littles[littles["residual"].abs() > LITTLE_TOLERANCE]
    if len(littles):
        text = (f"Little's law: {len(off)} of {len(littles)} points miss users = throughput x "
                f"(response time + think time) by more than {LITTLE_TOLERANCE:.0%}")
        if len(off):
            worst = off.assign(size=off["residual"].abs()).sort_values("size").iloc[-1]
            text += (f" (largest {abs(worst['residual']):.0%}, at {worst['point_id']}): users "
                     "spent that time in the load generator, not waiting for the service.")
        lines.append(text if len(off) else text + ".")
    bad = report.untrusted
    if bad.empty:
        lines.append(f"All {finished} finished points are valid.")
    else:
        parts = "; ".join(_answer.untrusted_parts(bad))
        lines.append(f"{len(bad)} of {finished} points are not trustworthy and are kept out of "
                     f"the means, ratios and fits: {parts}.")
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
    images: dict[str, bytes] = {}
    for name, figure in report.figures.items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90)
        images[name] = buffer.getvalue()
        (out_dir / f"{name}.png").write_bytes(images[name])
    sections = _sections(report)
    (out_dir / "report.md").write_text(_markdown(report, sections, list(images)))
    index = out_dir / "index.html"
    index.write_text(_html(report, sections, images))
    return index


Section = tuple[str, pd.DataFrame, str]


def _sections(report: Report) -> list[Section]:
    """(title, table, note) in the report's order; the note is "" or a paragraph."""
    aggregated = report.summary[report.summary["endpoint"] == AGGREGATED]
    endpoints = report.summary[report.summary["endpoint"] != AGGREGATED]
    untrusted_table = report.untrusted.drop(columns=["cause"]).rename(
        columns={"gen_cpu_mean": "generator CPU %"})
    sections: list[tuple[str, pd.DataFrame] | Section] = [
        ("Points (Aggregated; means over valid repeats, percentiles from merged histograms)",
         tables.summary_table(report.summary), tables.bucketing_note(aggregated)),
        ("FastHttpUser / HttpUser (n = valid repeats FastHttpUser / HttpUser; 'throughput' "
         "says whether the rps ratio is a measurable difference)",
         tables.ratio_table(report.ratios), tables.bucketing_note(aggregated)),
        ("Mix vs mix (ratios of the means, valid points only)",
         tables.mix_table(report.mixes)),
        ("Capacity (Universal Scalability Law, valid points only)",
         tables.capacity_display(report.capacity)),
        ("Points not trustworthy (why: from each point's own verdict reasons)",
         untrusted_table),
        ("Warnings (doubts that change no verdict)", tables.warnings_table(report.sweep.points)),
        ("Little's law check (users = throughput x (response time + think time))",
         tables.littles_table(report.littles)),
        ("Per endpoint", tables.endpoint_table(report.summary), tables.bucketing_note(endpoints)),
        ("Earlier attempts of re-run points (final: false; more generator processes followed)",
         tables.attempts_table(report.sweep.runs)),
    ]
    return [section if len(section) == 3 else (*section, "") for section in sections]


def _metadata(report: Report) -> str:
    manifest = {key: value for key, value in report.sweep.manifest.items() if key != "points"}
    return json.dumps(manifest, indent=2, default=str)


def _markdown(report: Report, sections: list[Section], images: list[str]) -> str:
    parts = [f"# Sweep {report.sweep.sweep_id}\n", "## The answer\n"]
    parts += [f"- {line}" for line in report.headline]
    for title, frame, note in sections:
        parts += [f"\n## {title}\n", markdown_table(frame)]
        if note:
            parts.append(f"_Note: {note}_\n")
    parts.append("\n## Plots\n")
    parts += [f"![{name}]({name}.png)\n" for name in images]
    parts += ["\n## Run metadata\n", "```json", _metadata(report), "```\n"]
    return "\n".join(parts)


STYLE = """body{font-family:sans-serif;margin:2em;max-width:78em;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}
.answer li{margin:.3em 0}.note{font-size:12px;color:#555}
img{max-width:100%}pre{background:#f6f6f6;padding:1em;font-size:11px}"""


def _html(report: Report, sections: list[Section], images: dict[str, bytes]) -> str:
    title = html.escape(f"Sweep {report.sweep.sweep_id}")
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>",
             f"<style>{STYLE}</style></head><body><h1>{title}</h1>",
             "<h2>The answer</h2><ul class='answer'>"]
    parts += [f"<li>{html.escape(line)}</li>" for line in report.headline]
    parts.append("</ul>")
    for heading, frame, note in sections:
        parts += [f"<h2>{html.escape(heading)}</h2>", html_table(frame)]
        if note:
            parts.append(f"<p class='note'>Note: {html.escape(note)}</p>")
    parts.append("<h2>Plots</h2>")
    for name, data in images.items():
        encoded = base64.b64encode(data).decode("ascii")
        parts.append(f"<p><img alt='{name}' src='data:image/png;base64,{encoded}'></p>")
    parts += ["<h2>Run metadata</h2>", f"<pre>{html.escape(_metadata(report))}</pre>",
              "</body></html>"]
    return "\n".join(parts)


def render(path: Path | str, slo_ms: float = 100.0) -> Path:
    """Load a sweep and write its report under ``SWEEP_DIR/report/``; return index.html."""
    sweep = load(path)
    return write(build(sweep, slo_ms), sweep.path / "report")
