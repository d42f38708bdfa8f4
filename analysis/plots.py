"""Plots: functions take data frames and return matplotlib figures (no file I/O, no pyplot).

Figures are plain ``matplotlib.figure.Figure`` objects (rendered with Agg when saved), so they
need no GUI backend and leave pyplot's global state alone.

Points that are not trustworthy (any verdict but ``valid``: generator-bound, errors, too few
samples) are drawn as hollow X markers in their series' colour, labelled with the verdict and
never joined to the valid line; one legend entry explains the marker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from analysis._locust import AGGREGATED

SIZE = (7.5, 4.2)
UNTRUSTED_LABEL = "x: not trustworthy (verdict beside it; colour = its series)"
UNTRUSTED_MARK = {"marker": "X", "markersize": 9, "linestyle": "none",
                  "markerfacecolor": "none", "markeredgewidth": 1.8}


def _series(summary: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame, pd.DataFrame]]:
    """Per (user class, mix): label, colour, trusted rows, untrusted rows (Aggregated only)."""
    rows = summary[summary["endpoint"] == AGGREGATED]
    out = []
    groups = rows.groupby(["user_class", "mix"], sort=True)
    for index, ((user_class, mix), group) in enumerate(groups):
        group = group.sort_values("users")
        out.append((f"{user_class} / {mix}", f"C{index}", group[group["trusted"]],
                    group[~group["trusted"]]))
    return out


def _mark_untrusted(axes: Axes, frame: pd.DataFrame, column: str, color: str,
                    annotate: bool = True) -> bool:
    """Hollow X markers in the series' colour; True when anything was drawn."""
    frame = frame[frame[column].notna()]
    if frame.empty:
        return False
    axes.plot(frame["users"], frame[column], color=color,
              markeredgecolor=color, **UNTRUSTED_MARK)  # type: ignore[arg-type]
    if annotate:
        for _, row in frame.iterrows():
            axes.annotate(str(row["statuses"]), (row["users"], row[column]), fontsize=7,
                          color=color, xytext=(4, 4), textcoords="offset points")
    return True


def _untrusted_legend_entry(axes: Axes) -> None:
    axes.plot([], [], color="#555555", markeredgecolor="#555555", label=UNTRUSTED_LABEL,
              **UNTRUSTED_MARK)  # type: ignore[arg-type]


def _errorbar(axes: Axes, frame: pd.DataFrame, column: str, label: str, **style: object) -> None:
    low = (frame[column] - frame[f"{column}_lo"]).fillna(0).clip(lower=0)
    high = (frame[f"{column}_hi"] - frame[column]).fillna(0).clip(lower=0)
    axes.errorbar(frame["users"], frame[column], yerr=[low, high], capsize=3, marker="o",
                  label=label, **style)  # type: ignore[arg-type]


def throughput_vs_users(summary: pd.DataFrame) -> Figure:
    """Mean throughput (requests/s, 95% CI bars) against users, per user class and mix."""
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    marked = False
    for label, color, trusted, untrusted in _series(summary):
        if not trusted.empty:
            _errorbar(axes, trusted, "rps", label, color=color)
        elif not untrusted.empty:
            axes.plot([], [], marker="o", color=color, label=label)
        marked |= _mark_untrusted(axes, untrusted, "rps", color)
    if marked:
        _untrusted_legend_entry(axes)
    axes.set(xlabel="users", ylabel="throughput (requests/s)", title="Throughput vs users")
    _finish(axes)
    return figure


def latency_vs_users(summary: pd.DataFrame,
                     names: tuple[str, ...] = ("p50", "p95", "p99")) -> Figure:
    """Latency percentiles (from the merged histograms of the repeats) against users."""
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    styles = {"p50": "-", "p90": "-.", "p95": "--", "p99": ":"}
    marked = False
    for label, color, trusted, untrusted in _series(summary):
        for name in names:
            column = f"pooled_{name}_ms"
            if not trusted.empty:
                axes.plot(trusted["users"], trusted[column], marker="o", color=color,
                          linestyle=styles.get(name, "-"), label=f"{label} {name}")
            elif name == names[0] and not untrusted.empty:
                axes.plot([], [], marker="o", color=color, label=label)
            marked |= _mark_untrusted(axes, untrusted, column, color,
                                      annotate=name == names[-1])
    if marked:
        _untrusted_legend_entry(axes)
    axes.set(xlabel="users", ylabel="response time (ms)", title="Latency percentiles vs users")
    _finish(axes)
    return figure


RATIO_TICKS = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0)


def ratio_vs_users(ratios: pd.DataFrame, numerator: str = "FastHttpUser",
                   denominator: str = "HttpUser") -> Figure:
    """The class ratio (``compare.class_ratio``) of throughput, mean and percentiles, with CIs.

    Only ratios that exist are drawn (a percentile that rounds to 0 ms has none), and only drawn
    series are in the legend; the x ticks are the user levels, the y ticks plain ratios.
    """
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    markers = {"rps": "o", "mean_ms": "D", "p50_ms": "s", "p95_ms": "^", "p99_ms": "v"}
    drawn: list[float] = []
    for index, (mix, group) in enumerate(ratios.groupby("mix", sort=True)):
        group = group.sort_values("users")
        for metric, marker in markers.items():
            if metric not in group.columns:
                continue
            shown = group[group[metric].notna() & (group[metric] > 0)]
            if shown.empty:
                continue
            low = (shown[metric] - shown[f"{metric}_lo"]).fillna(0).clip(lower=0)
            high = (shown[f"{metric}_hi"] - shown[metric]).fillna(0).clip(lower=0)
            axes.errorbar(shown["users"], shown[metric], yerr=[low, high], capsize=3,
                          marker=marker, color=f"C{index}",
                          linestyle="-" if metric == "rps" else ":",
                          label=f"{mix}: {metric.removesuffix('_ms')}")
            drawn += [*(shown[metric] - low), *(shown[metric] + high)]
    axes.axhline(1.0, color="grey", linewidth=1)
    axes.set_yscale("log")
    users = sorted(set(ratios["users"])) if len(ratios) else []
    _ratio_axes(axes, users, drawn)
    defined = set(ratios.loc[ratios["rps"].notna(), "users"]) if len(ratios) else set()
    for level in users:
        if level not in defined:
            axes.annotate("no valid pair", (level, 0.02), xycoords=("data", "axes fraction"),
                          ha="center", fontsize=7, color="grey")
    axes.set(xlabel="users", ylabel=f"{numerator} / {denominator} (log scale)",
             title=f"{numerator} / {denominator}: throughput >1 and latency <1 favour "
                   f"{numerator}")
    axes.grid(alpha=0.3, which="major")
    if axes.get_legend_handles_labels()[1]:
        axes.legend(fontsize=7)
    else:
        axes.text(0.5, 0.5, "no ratio defined (no cell with valid points of both classes)",
                  transform=axes.transAxes, ha="center", fontsize=9)
    figure.tight_layout()
    return figure


def _ratio_axes(axes: Axes, users: list[int], drawn: list[float]) -> None:
    values = [v for v in drawn if v > 0 and np.isfinite(v)] + [1.0]
    low, high = min(values) / 1.15, max(values) * 1.15
    axes.set_ylim(low, high)
    ticks = [tick for tick in RATIO_TICKS if low <= tick <= high]
    axes.yaxis.set_major_locator(FixedLocator(ticks))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    if users:
        axes.set_xticks(users)
        axes.set_xticklabels([str(u) for u in users])
        spread = max(users) - min(users)
        pad = spread * 0.06 if spread else max(1.0, min(users) * 0.5)
        axes.set_xlim(min(users) - pad, max(users) + pad)


def over_time(history: pd.DataFrame, title: str) -> Figure:
    """Throughput and latency second by second for one run; the measured window is shaded.

    The ramp (before the stats reset) is drawn in grey; no rate is drawn for the interval
    across the reset (``Sweep.history`` leaves it NaN), since the running total restarts there.
    """
    figure = Figure(figsize=(SIZE[0], SIZE[1] * 1.4))
    top, bottom = figure.subplots(2, 1, sharex=True)
    elapsed = history["elapsed_s"]
    ramp = history["phase"] == "ramp" if "phase" in history else elapsed < 0
    top.plot(elapsed.where(~ramp), history["rps"].where(~ramp), marker=".", color="C0",
             label="requests/s (per interval)")
    if ramp.any():
        top.plot(elapsed[ramp], history["rps"][ramp], marker=".", color="grey", linestyle="--",
                 label="ramp: users spawning, before the stats reset")
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
        axes.legend(fontsize=7, loc="best")
    top.set(ylabel="requests/s", title=title)
    if "phase" in history and (history["phase"] == "reset").any():
        top.annotate("no rate across the stats reset", xy=(0.99, 0.03), xycoords="axes fraction",
                     ha="right", fontsize=7, color="grey")
    bottom.set(xlabel="seconds since start", ylabel="response time (ms, last ~10 s)")
    figure.tight_layout()
    return figure


def cpu_vs_users(summary: pd.DataFrame, threshold: float = 90.0) -> Figure:
    """Mean CPU of the busiest Locust process and of the service against users.

    ``threshold`` is the sweep's generator-bound threshold (``Sweep.generator_cpu_threshold``).
    """
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    marked = False
    for label, color, trusted, untrusted in _series(summary):
        group = pd.concat([trusted, untrusted]).groupby("users", as_index=False)[
            ["gen_cpu_mean", "service_cpu_mean"]].mean()
        axes.plot(group["users"], group["gen_cpu_mean"], marker="o", color=color,
                  label=f"{label}: generator")
        if not np.all(np.isnan(group["service_cpu_mean"])):
            axes.plot(group["users"], group["service_cpu_mean"], marker="s", linestyle="--",
                      color=color, label=f"{label}: service")
        marked |= _mark_untrusted(axes, untrusted, "gen_cpu_mean", color, annotate=False)
    if marked:
        _untrusted_legend_entry(axes)
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
