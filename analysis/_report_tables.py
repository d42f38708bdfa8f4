"""The report's tables (``analysis.report``): the open ones (the class ratio, capacity) and the
collapsed ones (all points, warnings, latency sides and attribution, Little's law, endpoints, mix
vs mix, earlier attempts, the run's metadata), each with its title and note."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis import attribution, tables
from analysis._format import html_table, number
from analysis._locust import AGGREGATED

if TYPE_CHECKING:
    from analysis.report import Report

Table = dict[str, Any]


def titled(title: str, frame: pd.DataFrame, note: str = "") -> Table:
    """A table of the report: its title, row count, HTML, note and the frame itself."""
    return {"title": title, "rows": len(frame), "html": html_table(frame), "note": note,
            "frame": frame}


def open_tables(report: Report) -> list[Table]:
    """The tables shown open: the class ratio and the capacity (those with rows)."""
    aggregated = report.summary[report.summary["endpoint"] == AGGREGATED]
    shown = [titled("FastHttpUser / HttpUser per mix and users (ratios of the means of trusted "
                    "repeats; each interval says what it is: a 95% CI (Welch t, log scale) "
                    "with 3 or more repeats per class, else the range of the repeats' ratios; "
                    "throughput: different only after Holm's correction over the table, no "
                    "difference only from TOST within ±10%, else inconclusive at n; n = trusted "
                    "repeats FastHttpUser / HttpUser)",
                    tables.ratio_table(report.ratios), tables.bucketing_note(aggregated))]
    shown.append(titled("Capacity (Universal Scalability Law on trusted points) and the SLO",
                        tables.capacity_display(report.capacity)))
    return [table for table in shown if table["rows"]]


def collapsed(report: Report) -> list[Table]:
    """The tables collapsed in ``<details>`` (those with rows)."""
    endpoints = report.summary[report.summary["endpoint"] != AGGREGATED]
    aggregated = report.summary[report.summary["endpoint"] == AGGREGATED]
    collapsed = [
        titled("All points (Aggregated; means over repeats of one verdict, percentiles from "
               "merged histograms; intervals over repeats: the range with 2 repeats, a 95% CI "
               "(t) with 3 or more, for percentiles from the spread of the repeats' own)",
               tables.summary_table(report.summary),
               tables.bucketing_note(aggregated)),
        titled("Warnings (doubts that change no verdict)",
               tables.warnings_table(report.sweep.points)),
        titled("Client-seen and server-side latency (Locust vs the service's own /metrics; "
               "'mostly client': more than half the client-seen mean is outside the service)",
               tables.latency_sides_table(report.sweep.points)),
        titled("Latency attributed end to end (ms per request: the client-seen mean = client "
               "floor (calibrated) + added network delay + accept queue + app queue + service "
               "+ the unexplained remainder, shown as such, never spread over the parts)",
               tables.latency_split_table(split := attribution.split_frame(report.sweep)),
               attribution.note(split)),
        titled("Little's law (users = throughput × (response time + think time))",
               tables.littles_table(report.littles)),
        titled("Per endpoint", tables.endpoint_table(report.summary),
               tables.bucketing_note(endpoints)),
        titled("Mix vs mix (ratios of the means, trusted points only)",
               tables.mix_table(report.mixes)),
        titled("Earlier attempts of re-run points (final: false; more generator processes "
               "followed)", tables.attempts_table(report.sweep.runs)),
        titled("Run metadata (manifest.json)", metadata(report.sweep.manifest)),
    ]
    return [table for table in collapsed if table["rows"]]


def untrusted_rows(report: Report, group: dict[str, Any]) -> pd.DataFrame:
    """The untrusted points of one cause (a group of ``_overview.untrusted_groups``)."""
    rows = report.untrusted[report.untrusted["point_id"].isin(group["points"])]
    return pd.DataFrame({"point": rows["point_id"], "verdict": rows["status"],
                         "generator CPU %": rows["gen_cpu_mean"].map(lambda v: number(v, 0)),
                         "requests": rows["requests"], "reasons (the runner's)": rows["reasons"]})


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
