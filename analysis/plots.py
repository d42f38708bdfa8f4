"""Plots: functions take data frames and return matplotlib figures (no file I/O, no pyplot).

Figures are plain ``matplotlib.figure.Figure`` objects (rendered with Agg when saved), so they
need no GUI backend and leave pyplot's global state alone.

Points that are not trustworthy (any verdict but ``valid``: generator-bound, errors, too few
samples) are drawn as red crosses labelled with the verdict, never joined to the valid line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis._locust import AGGREGATED

SIZE = (7.5, 4.2)
UNTRUSTED_STYLE = {"marker": "x", "color": "#d62728", "markersize": 9, "linestyle": "none",
                   "markeredgewidth": 2}


def _series(summary: pd.DataFrame) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    rows = summary[summary["endpoint"] == AGGREGATED]
    out = []
    for (user_class, mix), group in rows.groupby(["user_class", "mix"], sort=True):
        group = group.sort_values("users")
        out.append((f"{user_class} / {mix}", group[group["trusted"]], group[~group["trusted"]]))
    return out


def _mark_untrusted(axes: Axes, frame: pd.DataFrame, column: str, labelled: list[bool],
                    annotate: bool = True) -> None:
    if frame.empty:
        return
    label = None if labelled[0] else "not trustworthy (see verdicts)"
    labelled[0] = True
    axes.plot(frame["users"], frame[column], label=label, **UNTRUSTED_STYLE)  # type: ignore[arg-type]
    if not annotate:
        return
    for _, row in frame.iterrows():
        axes.annotate(str(row["statuses"]), (row["users"], row[column]), fontsize=7,
                      color="#d62728", xytext=(4, 4), textcoords="offset points")


def _errorbar(axes: Axes, frame: pd.DataFrame, column: str, label: str, **style: object) -> None:
    low = (frame[column] - frame[f"{column}_lo"]).fillna(0).clip(lower=0)
    high = (frame[f"{column}_hi"] - frame[column]).fillna(0).clip(lower=0)
    axes.errorbar(frame["users"], frame[column], yerr=[low, high], capsize=3, marker="o",
                  label=label, **style)  # type: ignore[arg-type]


def throughput_vs_users(summary: pd.DataFrame) -> Figure:
    """Mean throughput (requests/s, 95% CI bars) against users, per user class and mix."""
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    labelled = [False]
    for label, trusted, untrusted in _series(summary):
        if not trusted.empty:
            _errorbar(axes, trusted, "rps", label)
        _mark_untrusted(axes, untrusted, "rps", labelled)
    axes.set(xlabel="users", ylabel="throughput (requests/s)", title="Throughput vs users")
    _finish(axes)
    return figure


def latency_vs_users(summary: pd.DataFrame,
                     names: tuple[str, ...] = ("p50", "p95", "p99")) -> Figure:
    """Latency percentiles (from the merged histograms of the repeats) against users."""
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    styles = {"p50": "-", "p90": "-.", "p95": "--", "p99": ":"}
    labelled = [False]
    for index, (label, trusted, untrusted) in enumerate(_series(summary)):
        color = f"C{index}"
        for name in names:
            column = f"pooled_{name}_ms"
            if not trusted.empty:
                axes.plot(trusted["users"], trusted[column], marker="o", color=color,
                          linestyle=styles.get(name, "-"), label=f"{label} {name}")
            _mark_untrusted(axes, untrusted, column, labelled, annotate=name == names[-1])
    axes.set(xlabel="users", ylabel="response time (ms)", title="Latency percentiles vs users")
    _finish(axes)
    return figure


def ratio_vs_users(ratios: pd.DataFrame, numerator: str = "FastHttpUser",
                   denominator: str = "HttpUser") -> Figure:
    """The class ratio (``compare.class_ratio``) of throughput and percentiles, with CI bars."""
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    for mix, group in ratios.groupby("mix", sort=True):
        group = group.sort_values("users")
        for metric, marker in (("rps", "o"), ("p50_ms", "s"), ("p95_ms", "^"), ("p99_ms", "v")):
            low = (group[metric] - group[f"{metric}_lo"]).fillna(0).clip(lower=0)
            high = (group[f"{metric}_hi"] - group[metric]).fillna(0).clip(lower=0)
            axes.errorbar(group["users"], group[metric], yerr=[low, high], capsize=3,
                          marker=marker, label=f"{mix}: {metric.removesuffix('_ms')}")
    axes.axhline(1.0, color="grey", linewidth=1)
    axes.set_yscale("log")
    axes.set(xlabel="users", ylabel=f"{numerator} / {denominator} (log scale)",
             title=f"{numerator} / {denominator}: throughput >1 and latency <1 favour "
                   f"{numerator}")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=7)
    figure.tight_layout()
    return figure


def over_time(history: pd.DataFrame, title: str) -> Figure:
    """Throughput and latency second by second for one run; the measured window is shaded."""
    figure = Figure(figsize=(SIZE[0], SIZE[1] * 1.4))
    top, bottom = figure.subplots(2, 1, sharex=True)
    elapsed = history["elapsed_s"]
    top.plot(elapsed, history["rps"], marker=".", label="requests/s (per interval)")
    twin = top.twinx()
    twin.step(elapsed, history["User Count"], where="post", color="grey", alpha=0.6,
              label="users")
    twin.set_ylabel("users")
    for name, style in (("50%", "-"), ("95%", "--"), ("99%", ":")):
        bottom.plot(elapsed, history[name], linestyle=style, marker=".", label=f"p{name[:-1]}")
    window = history[history["in_window"]]
    for axes in (top, bottom):
        if len(window):
            axes.axvspan(window["elapsed_s"].min(), window["elapsed_s"].max(), color="C2",
                         alpha=0.12, label="measured window")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="upper left")
    top.set(ylabel="requests/s", title=title)
    bottom.set(xlabel="seconds since start", ylabel="response time (ms, last ~10 s)")
    figure.tight_layout()
    return figure


def cpu_vs_users(summary: pd.DataFrame, threshold: float = 90.0) -> Figure:
    """Mean CPU of the busiest Locust process and of the service against users."""
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    rows = summary[summary["endpoint"] == AGGREGATED]
    _mark_untrusted(axes, rows[~rows["trusted"]], "gen_cpu_mean", [False])
    for index, ((user_class, mix), group) in enumerate(rows.groupby(["user_class", "mix"])):
        group = group.groupby("users", as_index=False)[["gen_cpu_mean", "service_cpu_mean"]].mean()
        color = f"C{index}"
        axes.plot(group["users"], group["gen_cpu_mean"], marker="o", color=color,
                  label=f"{user_class} / {mix}: generator")
        if not np.all(np.isnan(group["service_cpu_mean"])):
            axes.plot(group["users"], group["service_cpu_mean"], marker="s", linestyle="--",
                      color=color, label=f"{user_class} / {mix}: service")
    axes.axhline(threshold, color="#d62728", linewidth=1, linestyle=":",
                 label=f"generator-bound threshold ({threshold:g}%)")
    axes.set(xlabel="users", ylabel="CPU (% of one core)", title="CPU of generator and service")
    _finish(axes)
    return figure


def _finish(axes: Axes) -> None:
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    axes.set_ylim(bottom=0)
    axes.figure.tight_layout()  # type: ignore[union-attr]
