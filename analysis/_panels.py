"""Small multiples: one panel per mix, one colour per series, one palette for every figure.

A series is a user class, plus each series dimension (``analysis.dimensions``, from runmodel's
registry: the storage backend, the CPU envelope, the added delay, the payload) that the sweep
varies or sets away from its default ("postgres+cache", "0.25 vCPU"). Its colour comes from
its position among the sweep's series, so it is the same in every figure of a report. Trusted
points are filled markers joined by a line; untrusted points are hollow crosses in the series'
colour, never joined; one legend entry explains the cross.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from analysis._locust import AGGREGATED
from analysis.dimensions import named_dimensions, series_label

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale print.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"]
WIDTH, PANEL_H = 9.4, 2.9  # inches: the report's figure column (about 900 px), a panel's height
MAX_COLUMNS = 3
UNTRUSTED = {"marker": "X", "markersize": 8, "linestyle": "none", "markerfacecolor": "none",
             "markeredgewidth": 1.6}
UNTRUSTED_LABEL = "not trusted (hollow ✕)"


def aggregated(summary: pd.DataFrame) -> pd.DataFrame:
    rows = summary[summary["endpoint"] == AGGREGATED] if "endpoint" in summary else summary
    named = named_dimensions(rows)
    return rows.assign(series=[series_label(row, named) for _, row in rows.iterrows()])


def colours(labels: Iterable[str]) -> dict[str, str]:
    """Series label -> colour; HttpUser before FastHttpUser, then by name."""
    order = sorted(set(labels), key=lambda label: (not label.startswith("HttpUser"), label))
    return {label: PALETTE[index % len(PALETTE)] for index, label in enumerate(order)}


def mixes(rows: pd.DataFrame, order: list[str] | None = None) -> list[str]:
    present = list(dict.fromkeys(rows["mix"])) if len(rows) else []
    first = [mix for mix in (order or []) if mix in present]
    return first + sorted(mix for mix in present if mix not in first)


def grid(panels: int, height: float = PANEL_H,
         sharey: bool = True) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure with ``panels`` axes, at most ``MAX_COLUMNS`` per row.

    Room is left above for the title and below for the legend (``legend``).
    """
    panels = max(panels, 1)
    columns = min(panels, MAX_COLUMNS)
    rows = math.ceil(panels / columns)
    figure = Figure(figsize=(WIDTH, height * rows + 0.9), layout="constrained")
    grid_axes = figure.subplots(rows, columns, sharey=sharey, squeeze=False)
    axes = list(grid_axes.flat)
    for extra in axes[panels:]:
        extra.set_visible(False)
    return figure, axes[:panels]


def users_axis(axes: Axes, users: Iterable[float]) -> None:
    """Ticks at the user levels; a log scale when they span a factor of 20 or more."""
    levels = sorted({float(u) for u in users if u == u and u > 0})
    if not levels:
        return
    if levels[-1] / levels[0] >= 20:
        axes.set_xscale("log")
        axes.set_xlim(levels[0] / 1.4, levels[-1] * 1.4)
    else:
        spread = levels[-1] - levels[0]
        pad = spread * 0.08 if spread else max(1.0, levels[0] * 0.5)
        axes.set_xlim(levels[0] - pad, levels[-1] + pad)
    axes.xaxis.set_major_locator(FixedLocator(levels))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.xaxis.set_minor_formatter(NullFormatter())


def errorbars(axes: Axes, rows: pd.DataFrame, column: str, colour: str, label: str | None,
              **style: object) -> None:
    """Trusted points: filled markers joined by a line, with their interval as bars."""
    rows = rows[rows[column].notna()].sort_values("users")
    if rows.empty:
        return
    low = high = np.zeros(len(rows))
    if f"{column}_lo" in rows and f"{column}_hi" in rows:
        low = (rows[column] - rows[f"{column}_lo"]).fillna(0).clip(lower=0).to_numpy()
        high = (rows[f"{column}_hi"] - rows[column]).fillna(0).clip(lower=0).to_numpy()
    options: dict[str, object] = {"marker": "o", "markersize": 5, "capsize": 3,
                                  "linewidth": 1.8, **style}
    axes.errorbar(rows["users"], rows[column], yerr=[low, high], color=colour, label=label,
                  **options)  # type: ignore[arg-type]


def crosses(axes: Axes, rows: pd.DataFrame, column: str, colour: str) -> bool:
    """Untrusted points as hollow crosses in the series' colour; True when any was drawn."""
    rows = rows[rows[column].notna()]
    if rows.empty:
        return False
    axes.plot(rows["users"], rows[column], color=colour, markeredgecolor=colour,
              **UNTRUSTED)  # type: ignore[arg-type]
    return True


def legend(figure: Figure, handles: list[Line2D], title: str | None = None) -> None:
    """One legend for the whole figure, outside the panels, below them."""
    if handles:
        figure.legend(handles=handles, loc="outside lower center", fontsize=8, frameon=False,
                      title=title, title_fontsize=8,
                      ncols=len(handles) if len(handles) <= 4 else math.ceil(len(handles) / 2))


def series_handle(label: str, colour: str, **style: object) -> Line2D:
    options: dict[str, object] = {"marker": "o", "markersize": 5, "linewidth": 1.8, **style}
    return Line2D([], [], color=colour, label=label, **options)  # type: ignore[arg-type]


def untrusted_handle() -> Line2D:
    return Line2D([], [], color="#555555", markeredgecolor="#555555", label=UNTRUSTED_LABEL,
                  **UNTRUSTED)  # type: ignore[arg-type]


def empty_panel(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", fontsize=8,
              color="#667085", wrap=True)


def finish(axes: Axes, title: str) -> None:
    axes.set_title(title, fontsize=10, loc="left")
    axes.grid(alpha=0.3)
    axes.tick_params(labelsize=8)
    axes.set_ylim(bottom=0)
