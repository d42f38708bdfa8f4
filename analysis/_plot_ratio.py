"""The class-ratio figure (``analysis.plots.ratio_vs_users``): FastHttpUser / HttpUser of
throughput, mean and percentiles against users, a panel per mix, on a log scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from analysis import _panels as panels

RATIO_TICKS = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0)
RATIO_METRICS = {"rps": ("throughput", "o", panels.PALETTE[2], "-"),
                 "mean_ms": ("mean", "D", panels.PALETTE[5], ":"),
                 "p50_ms": ("p50", "s", panels.PALETTE[4], ":"),
                 "p95_ms": ("p95", "^", panels.PALETTE[3], ":"),
                 "p99_ms": ("p99", "v", panels.PALETTE[7], ":")}


def ratio_vs_users(ratios: pd.DataFrame, numerator: str = "FastHttpUser",
                   denominator: str = "HttpUser", mix_order: list[str] | None = None) -> Figure:
    """The class ratio (``compare.class_ratio``) of throughput, mean and percentiles, with CIs.

    A panel per mix. Only ratios that exist are drawn (a percentile that rounds to 0 ms has
    none), and only drawn metrics are in the legend; the y axis is logarithmic with plain ticks.
    """
    mixes = panels.mixes(ratios, mix_order) if len(ratios) else [""]
    figure, axes_list = panels.grid(len(mixes), sharey=True)
    drawn: list[float] = []
    shown: dict[str, Line2D] = {}
    for axes, mix in zip(axes_list, mixes, strict=True):
        group = ratios[ratios["mix"] == mix].sort_values("users") if len(ratios) else ratios
        for metric, (name, marker, colour, style) in RATIO_METRICS.items():
            if metric not in group.columns:
                continue
            rows = group[group[metric].notna() & (group[metric] > 0)]
            if rows.empty:
                continue
            low = (rows[metric] - rows[f"{metric}_lo"]).fillna(0).clip(lower=0)
            high = (rows[f"{metric}_hi"] - rows[metric]).fillna(0).clip(lower=0)
            axes.errorbar(rows["users"], rows[metric], yerr=[low, high], capsize=3,
                          marker=marker, color=colour, linestyle=style, label=name,
                          linewidth=1.8 if metric == "rps" else 1.2)
            drawn += [*(rows[metric] - low), *(rows[metric] + high)]
            shown[name] = Line2D([], [], color=colour, marker=marker, label=name,
                                 linestyle=style)  # type: ignore[arg-type]
        axes.axhline(1.0, color="grey", linewidth=1)
        users = sorted(set(group["users"])) if len(group) else []
        defined = set(group.loc[group["rps"].notna(), "users"]) if len(group) else set()
        for level in users:
            if level not in defined:
                axes.annotate("no trusted pair", (level, 0.03),
                              xycoords=("data", "axes fraction"), ha="center", fontsize=7,
                              color="grey", rotation=90, va="bottom")
        axes.set_yscale("log")
        panels.users_axis(axes, users)
        axes.set_title(f"mix {mix}", fontsize=10, loc="left")
        axes.grid(alpha=0.3, which="major")
        axes.tick_params(labelsize=8)
        axes.set_xlabel("users")
    _ratio_ticks(axes_list[0], drawn)
    axes_list[0].set_ylabel(f"{numerator} / {denominator} (log scale)")
    if shown:
        panels.legend(figure, list(shown.values()))
    else:
        panels.empty_panel(axes_list[0], "no ratio defined (no cell with trusted points of "
                                         "both classes)")
    labels = sorted({str(v) for v in ratios.get("rps_interval", pd.Series(dtype=str)).dropna()
                     if str(v)})
    bars = "95% CI (Welch t)" if labels and all("CI" in v for v in labels) else (
        "range of the repeats' ratios" if labels and not any("CI" in v for v in labels) else
        "95% CI (Welch t) with 3+ repeats per class, else range of the repeats' ratios")
    figure.suptitle(f"{numerator} / {denominator}: throughput > 1 and latency < 1 favour "
                    f"{numerator} (bars: {bars})", fontsize=11, x=0.01, ha="left")
    return figure


def _ratio_ticks(axes: Axes, drawn: list[float]) -> None:
    values = [v for v in drawn if v > 0 and np.isfinite(v)] + [1.0]
    low, high = min(values) / 1.15, max(values) * 1.15
    axes.set_ylim(low, high)
    ticks = [tick for tick in RATIO_TICKS if low <= tick <= high]
    axes.yaxis.set_major_locator(FixedLocator(ticks))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
