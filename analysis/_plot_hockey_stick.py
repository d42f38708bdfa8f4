"""The open model's hockey stick (``analysis.plots.hockey_stick``): latency from the intended
start and achieved throughput against the offered arrival rate, with a capacity search's
bracket."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analysis import _panels as panels
from analysis.dimensions import named_dimensions, series_label


def hockey_stick(runs: pd.DataFrame, searches: list[dict[str, object]] | None = None) -> Figure:
    """The open model's hockey stick (``capacity.hockey_stick_table``): against the offered
    arrival rate, the latency from the intended start (p50, p95, p99) and the service time
    (p99, from the actual send) on the left, the achieved throughput on the right (the diagonal
    is "achieved = offered"). A line joins each rate's median run; runs that are not valid are
    hollow crosses. A capacity search's bracket is shaded, labelled as the bracket it is."""
    rows = panels.aggregated(runs)
    named = tuple(n for n in named_dimensions(rows) if n != "arrival_rate")
    rows = rows.assign(series=[series_label(row, named) for _, row in rows.iterrows()])
    colour = panels.colours(rows["series"])
    figure, (latency, throughput) = panels.grid(2, sharey=False)
    marked = False
    lines = {"intended p50": ("open_intended_p50_ms", ":"),
             "intended p95": ("open_intended_p95_ms", "--"),
             "intended p99": ("open_intended_p99_ms", "-"),
             "service-time p99": ("open_service_p99_ms", (0, (1, 3)))}
    for label, series in rows.groupby("series", sort=True):
        tint = colour[str(label)]
        trusted = series[series["status"].isin(("valid", "client-dominated"))]
        medians = trusted.groupby("offered").median(numeric_only=True).reset_index()
        for column, style in lines.values():
            latency.plot(medians["offered"], medians[column], color=tint, linestyle=style,
                         marker="o", markersize=3, linewidth=1.4)
        throughput.plot(medians["offered"], medians["rps"], color=tint, marker="o",
                        markersize=4, linewidth=1.6)
        bad = series[~series.index.isin(trusted.index)]
        if not bad.empty:
            marked = True
            for axes, column in ((latency, "open_intended_p99_ms"), (throughput, "rps")):
                axes.plot(bad["offered"], bad[column], color=tint, markeredgecolor=tint,
                          **panels.UNTRUSTED)  # type: ignore[arg-type]
    top = float(rows["offered"].max()) if len(rows) else 1.0
    throughput.plot([0, top], [0, top], color="#999999", linewidth=0.8, linestyle="--")
    shaded = False
    for search in searches or []:
        interval = search.get("interval") or {}
        assert isinstance(interval, dict)
        low, high = interval.get("low"), interval.get("high")
        if low is not None and high is not None:
            shaded = True
            for axes in (latency, throughput):
                axes.axvspan(float(low), float(high), color="#CC79A7", alpha=0.25, linewidth=0)
    panels.finish(latency, "latency vs offered load")
    latency.set_yscale("log")
    drawn = rows[[column for column, _ in lines.values()]].to_numpy(dtype=float).ravel()
    drawn = drawn[np.isfinite(drawn) & (drawn > 0)]
    if drawn.size:  # finish() pins the bottom at 0, which a log scale cannot show
        latency.set_ylim(float(drawn.min()) / 1.5, float(drawn.max()) * 1.5)
    latency.set_ylabel("ms (log scale)")
    panels.finish(throughput, "achieved vs offered throughput")
    throughput.set_ylabel("requests/s")
    for axes in (latency, throughput):
        axes.set_xlabel("offered arrivals/s")
    handles = [panels.series_handle(label, c) for label, c in colour.items()]
    handles += [Line2D([], [], color="#444444", linestyle=style, label=name)  # type: ignore
                for name, (_, style) in lines.items()]
    if shaded:
        handles.append(Line2D([], [], color="#CC79A7", alpha=0.5, linewidth=6,
                              label="capacity search bracket"))
    panels.legend(figure, handles + ([panels.untrusted_handle()] if marked else []))
    figure.suptitle("Hockey stick: latency from the intended start and achieved throughput vs "
                    "offered load (median run per rate)", fontsize=11, x=0.01, ha="left")
    return figure
