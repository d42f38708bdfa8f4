"""Plots: functions take data frames and return matplotlib figures (no file I/O, no pyplot).

Figures are plain ``matplotlib.figure.Figure`` objects (rendered with Agg when saved), so they
need no GUI backend and leave pyplot's global state alone. Each sweep figure is a set of small
multiples (``analysis._panels``): one panel per mix, one colour per user class (and storage
variant), the same colours in every figure, the legend outside the panels. Points that are not
trustworthy (any verdict but ``valid``) are hollow crosses in their series' colour, never
joined to the trusted line; the tables say which verdict each has.

Here: the figures against users (throughput, latency, CPU, two sweeps overlaid) and one run
over time; the class ratio (``ratio_vs_users``) and the open model's hockey stick
(``hockey_stick``) are drawn in ``analysis._plot_ratio`` and ``analysis._plot_hockey_stick``
and importable from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analysis import _panels as panels
from analysis._panels import UNTRUSTED_LABEL as UNTRUSTED_LABEL  # the legend's word, public
from analysis._plot_hockey_stick import hockey_stick as hockey_stick  # public, as before
from analysis._plot_ratio import RATIO_METRICS as RATIO_METRICS
from analysis._plot_ratio import RATIO_TICKS as RATIO_TICKS
from analysis._plot_ratio import ratio_vs_users as ratio_vs_users
from analysis.histograms import SOURCE_HDR

SIZE = (7.5, 4.2)
MAX_SERIES = 6  # lines per panel
PERCENTILE_STYLES = {"p50": ":", "p90": "-.", "p95": "--", "p99": "-"}


def _bars(rows: pd.DataFrame) -> str:
    """What the throughput bars are, from the trusted rows' repeat counts."""
    counts = set(rows.loc[rows["trusted"], "n"].astype(int)) if "n" in rows else set()
    if counts and min(counts) >= 3:
        return "95% CI (t)"
    if counts and max(counts) < 3:
        return "range of the repeats" if max(counts) == 2 else "none (one repeat)"
    return "95% CI (t) with 3+ repeats, else the repeats' range"


def _percentile_column(rows: pd.DataFrame, name: str) -> str:
    pooled = f"pooled_{name}_ms"
    return pooled if pooled in rows else f"{name}_ms"


def throughput_vs_users(summary: pd.DataFrame, mix_order: list[str] | None = None) -> Figure:
    """Mean throughput (requests/s) against users, a panel per mix; bars: the repeats' range
    with fewer than 3 repeats, else the 95% CI (t)."""
    rows = panels.aggregated(summary)
    colour = panels.colours(rows["series"])
    mixes = panels.mixes(rows, mix_order)
    figure, axes_list = panels.grid(len(mixes))
    marked = False
    for axes, mix in zip(axes_list, mixes, strict=True):
        in_mix = rows[rows["mix"] == mix]
        for label, series in in_mix.groupby("series", sort=True):
            panels.errorbars(axes, series[series["trusted"]], "rps", colour[str(label)], None)
            marked |= panels.crosses(axes, series[~series["trusted"]], "rps",
                                     colour[str(label)])
        panels.users_axis(axes, in_mix["users"])
        panels.finish(axes, f"mix {mix}")
        axes.set_xlabel("users")
    axes_list[0].set_ylabel("throughput (requests/s)")
    handles = [panels.series_handle(label, c) for label, c in colour.items()]
    panels.legend(figure, handles + ([panels.untrusted_handle()] if marked else []))
    figure.suptitle(f"Throughput vs users (mean over trusted repeats; bars: {_bars(rows)})",
                    fontsize=11, x=0.01, ha="left")
    return figure


def latency_vs_users(summary: pd.DataFrame, names: tuple[str, ...] = ("p50", "p95", "p99"),
                     mix_order: list[str] | None = None) -> Figure:
    """Latency percentiles (merged histograms of the repeats) against users: a panel per mix.

    Colour is the series, line style the percentile; with more series than ``MAX_SERIES`` /
    ``len(names)`` only p95 is drawn, so that no panel has more than about six lines. Where the
    sweep recorded the service's own view (``server_<pNN>_ms`` columns), it is drawn dotted
    beside the client's.
    """
    rows = panels.aggregated(summary)
    colour = panels.colours(rows["series"])
    sides = 2 if any(f"server_{name}_ms" in rows and rows[f"server_{name}_ms"].notna().any()
                     for name in names) else 1  # client-seen, and server-side when recorded
    if len(colour) * len(names) * sides > MAX_SERIES and "p95" in names:
        names = ("p95",)  # many series (e.g. storage backends): one percentile keeps it legible
    mixes = panels.mixes(rows, mix_order)
    figure, axes_list = panels.grid(len(mixes))
    marked = server = False
    for axes, mix in zip(axes_list, mixes, strict=True):
        in_mix = rows[rows["mix"] == mix]
        for label, series in in_mix.groupby("series", sort=True):
            trusted, untrusted = series[series["trusted"]].sort_values("users"), series[
                ~series["trusted"]]
            for name in names:
                column = _percentile_column(series, name)
                axes.plot(trusted["users"], trusted[column], color=colour[str(label)],
                          linestyle=PERCENTILE_STYLES.get(name, "-"), marker="o", markersize=4,
                          linewidth=1.6)
                marked |= panels.crosses(axes, untrusted, column, colour[str(label)])
                if f"server_{name}_ms" in trusted and trusted[f"server_{name}_ms"].notna().any():
                    server = True
                    axes.plot(trusted["users"], trusted[f"server_{name}_ms"],
                              color=colour[str(label)], linestyle=(0, (1, 3)), linewidth=1)
        panels.users_axis(axes, in_mix["users"])
        panels.finish(axes, f"mix {mix}")
        axes.set_xlabel("users")
    sources = set(rows["latency_source"]) if "latency_source" in rows else set()
    resolution = "HDR, µs" if sources == {SOURCE_HDR} else "Locust's ms buckets"
    axes_list[0].set_ylabel(f"response time (ms, client-seen; {resolution})")
    handles = [panels.series_handle(label, c) for label, c in colour.items()]
    handles += [Line2D([], [], color="#444444", label=name,
                       linestyle=PERCENTILE_STYLES.get(name, "-"))  # type: ignore[arg-type]
                for name in names]
    if server:
        handles.append(Line2D([], [], color="#444444", linestyle=(0, (1, 3)),
                              label="server-side"))
    panels.legend(figure, handles + ([panels.untrusted_handle()] if marked else []))
    figure.suptitle(f"Latency ({', '.join(names)}) vs users (merged histograms of the trusted "
                    "repeats)", fontsize=11, x=0.01, ha="left")
    return figure


def cpu_vs_users(summary: pd.DataFrame, threshold: float = 90.0,
                 mix_order: list[str] | None = None) -> Figure:
    """Mean CPU of the busiest Locust process and of the service against users, a panel per mix.

    ``threshold`` is the sweep's generator-bound threshold (``Sweep.generator_cpu_threshold``).
    """
    rows = panels.aggregated(summary)
    colour = panels.colours(rows["series"])
    mixes = panels.mixes(rows, mix_order)
    figure, axes_list = panels.grid(len(mixes))
    marked = False
    for index, (axes, mix) in enumerate(zip(axes_list, mixes, strict=True)):
        in_mix = rows[rows["mix"] == mix]
        for label, series in in_mix.groupby("series", sort=True):
            c = colour[str(label)]
            mean = series.groupby("users", as_index=False)[
                ["gen_cpu_mean", "service_cpu_mean"]].mean()
            axes.plot(mean["users"], mean["gen_cpu_mean"], color=c, linewidth=1.6)
            trusted = series[series["trusted"]]
            axes.plot(trusted["users"], trusted["gen_cpu_mean"], color=c, marker="o",
                      markersize=5, linestyle="none")
            marked |= panels.crosses(axes, series[~series["trusted"]], "gen_cpu_mean", c)
            if mean["service_cpu_mean"].notna().any():
                axes.plot(mean["users"], mean["service_cpu_mean"], color=c, linestyle="--",
                          marker="s", markersize=4, linewidth=1.2)
        axes.axhline(threshold, color="#B42318", linewidth=1, linestyle=":",
                     label=f"generator-bound threshold ({threshold:g}%)" if index == 0 else None)
        panels.users_axis(axes, in_mix["users"])
        panels.finish(axes, f"mix {mix}")
        axes.set_ylim(0, max(105.0, float(np.nanmax([*rows["gen_cpu_mean"], 0])) * 1.05))
        axes.set_xlabel("users")
    axes_list[0].set_ylabel("CPU (% of one core)")
    handles = [panels.series_handle(label, c) for label, c in colour.items()]
    handles += [Line2D([], [], color="#444444", label="busiest Locust process"),
                Line2D([], [], color="#444444", linestyle="--", marker="s", markersize=4,
                       label="service"),
                Line2D([], [], color="#B42318", linestyle=":",
                       label=f"generator-bound threshold ({threshold:g}%)")]
    panels.legend(figure, handles + ([panels.untrusted_handle()] if marked else []))
    figure.suptitle("CPU of the load generator and the service", fontsize=11, x=0.01,
                    ha="left")
    return figure


def over_time(history: pd.DataFrame, title: str) -> Figure:
    """Throughput and latency second by second for one run; the measured window is shaded.

    The ramp (before the stats reset) is drawn in grey; no rate is drawn for the interval
    across the reset (``Sweep.history`` leaves it NaN), since the running total restarts there.
    """
    figure = Figure(figsize=(10.5, 5.2), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    elapsed = history["elapsed_s"]
    ramp = history["phase"] == "ramp" if "phase" in history else elapsed < 0
    top.plot(elapsed.where(~ramp), history["rps"].where(~ramp), marker=".",
             color=panels.PALETTE[0], label="requests/s (per interval)")
    if ramp.any():
        top.plot(elapsed[ramp], history["rps"][ramp], marker=".", color="grey", linestyle="--",
                 label="ramp (users spawning)")
    twin = top.twinx()
    twin.step(elapsed, history["User Count"], where="post", color="grey", alpha=0.6)
    twin.set_ylabel("users (grey steps)")
    for name, style in (("50%", ":"), ("95%", "--"), ("99%", "-")):
        bottom.plot(elapsed, history[name], linestyle=style, marker=".",
                    color=panels.PALETTE[1], label=f"p{name[:-1]}")
    window = history[history["in_window"]]
    for axes in (top, bottom):
        if len(window):
            axes.axvspan(window["elapsed_s"].min(), window["elapsed_s"].max(),
                         color=panels.PALETTE[2], alpha=0.12, label="measured window")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.07, 1), frameon=False)
    top.set(ylabel="requests/s")
    top.set_title(title, fontsize=10, loc="left")
    if "phase" in history and (history["phase"] == "reset").any():
        top.annotate("no rate across the stats reset", xy=(0.99, 0.03), xycoords="axes fraction",
                     ha="right", fontsize=7, color="grey")
    bottom.set(xlabel="seconds since start", ylabel="response time (ms, last ~10 s)")
    return figure


def overlay(before: pd.DataFrame, after: pd.DataFrame, column: str, ylabel: str, title: str,
            names: tuple[str, str] = ("A (before)", "B (after)"),
            mix_order: list[str] | None = None) -> Figure:
    """Two sweeps' summaries on the same axes: a panel per mix, a colour per series.

    ``before`` (A) is dashed with hollow markers, ``after`` (B) solid and filled; untrusted
    points of either are hollow crosses. ``column`` is a summary column, e.g. ``rps``.
    """
    rows_a, rows_b = panels.aggregated(before), panels.aggregated(after)
    colour = panels.colours([*rows_a["series"], *rows_b["series"]])
    mixes = panels.mixes(pd.concat([rows_a, rows_b]), mix_order)
    figure, axes_list = panels.grid(len(mixes))
    marked = False
    styles: tuple[dict[str, object], dict[str, object]] = (
        {"linestyle": "--", "markerfacecolor": "white", "alpha": 0.8}, {"linestyle": "-"})
    for axes, mix in zip(axes_list, mixes, strict=True):
        levels: list[float] = []
        for rows, style in zip((rows_a, rows_b), styles, strict=True):
            in_mix = rows[rows["mix"] == mix]
            levels += list(in_mix["users"])
            for label, series in in_mix.groupby("series", sort=True):
                c = colour[str(label)]
                column_here = column
                if column.startswith("p"):
                    column_here = _percentile_column(series, column.removesuffix("_ms"))
                panels.errorbars(axes, series[series["trusted"]], column_here, c, None, **style)
                marked |= panels.crosses(axes, series[~series["trusted"]], column_here, c)
        panels.users_axis(axes, levels)
        panels.finish(axes, f"mix {mix}")
        axes.set_xlabel("users")
    axes_list[0].set_ylabel(ylabel)
    handles = [panels.series_handle(label, c) for label, c in colour.items()]
    handles += [Line2D([], [], color="#444444", linestyle="--", marker="o",
                       markerfacecolor="white", label=names[0]),
                Line2D([], [], color="#444444", marker="o", label=names[1])]
    panels.legend(figure, handles + ([panels.untrusted_handle()] if marked else []))
    figure.suptitle(title, fontsize=11, x=0.01, ha="left")
    return figure
