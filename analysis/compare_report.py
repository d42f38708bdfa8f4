"""The comparison report: sweep B against sweep A on one self-contained page.

``python -m analysis compare A B --html OUT`` writes it beside the text table, with the same
exit status. It shows A and B on the same axes (a panel per mix, A dashed and hollow, B solid),
every (class, mix, users) cell's change per metric with a labelled interval of B / A - 1 (a
95% CI with 3 or more repeats on both sides, else the range of the repeats' ratios), what each
row shows (regression, no difference within the threshold, or inconclusive at n = …), the
smallest regression the repeats could have detected, and which cells' verdicts changed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from analysis import _html, _overview, plots
from analysis._format import html_table, number
from analysis._locust import AGGREGATED, TRUSTED_STATUSES
from analysis.compare import ratio_interval
from analysis.dimensions import class_name, named_dimensions
from analysis.loading import Sweep
from analysis.power import power_sentence, power_summary
from analysis.stats import summarise

# What the text compare's exit status means (``python -m analysis compare --help``).
EXIT_MEANINGS = {0: "no regression beyond the threshold and the noise, no verdict got worse",
                 1: "a regression beyond the threshold and the noise, or a verdict that got "
                    "worse",
                 3: "nothing comparable: no cell with trusted points in both sweeps",
                 4: "underpowered: no regression found, but at the measured noise and these "
                    "repeats a regression of the threshold's size could have gone unseen "
                    "(80% power)"}
METRIC_NAMES = {"rps": "throughput (requests/s)", "mean_ms": "mean (ms)", "p50_ms": "p50 (ms)",
                "p95_ms": "p95 (ms)", "p99_ms": "p99 (ms)"}


def deltas(before: Sweep, after: Sweep, table: pd.DataFrame) -> pd.DataFrame:
    """``compare_sweeps``' rows with B / A - 1 and its interval (``ratio_interval``: what it is
    in ``change_interval``) added."""
    if table.empty:
        return table.assign(change_lo=[], change_hi=[], change_interval=[])
    keys = _overview.config_keys(before.points)
    a, b = _trusted(before.points), _trusted(after.points)
    low, high, labels = [], [], []
    for _, row in table.iterrows():
        cell = {key: row[key] for key in keys if key in row}
        in_a = a.loc[(a[list(cell)] == pd.Series(cell)).all(axis=1), row["metric"]]
        in_b = b.loc[(b[list(cell)] == pd.Series(cell)).all(axis=1), row["metric"]]
        _, lo, hi, label = ratio_interval(in_b, in_a)
        low.append(lo - 1)
        high.append(hi - 1)
        labels.append(label)
    return table.assign(change_lo=low, change_hi=high, change_interval=labels)


def _trusted(points: pd.DataFrame) -> pd.DataFrame:
    return points[(points["endpoint"] == AGGREGATED) & points["status"].isin(TRUSTED_STATUSES)]


def _percent(value: float) -> str:
    """A relative change: "+12.3%", or "×21" from +100% up (B at 21 times A)."""
    if value != value:
        return "-"
    return f"{value:+.1%}" if value < 1 else f"×{1 + value:.3g}"


def delta_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Display form: one line per cell and metric, the change with its interval."""
    return pd.DataFrame({
        "class": rows["user_class"].map(class_name), "mix": rows["mix"], "users": rows["users"],
        **{name: rows[name] for name in named_dimensions(rows)},
        "metric": rows["metric"].map(lambda m: METRIC_NAMES.get(str(m), str(m))),
        "A": rows["before"].map(lambda v: number(v, 2)),
        "B": rows["after"].map(lambda v: number(v, 2)),
        "change B/A - 1 (interval)": [
            _percent(c) + (f" ({label})" if lo != lo else
                           f" ({label}: {_percent(lo)} to {_percent(hi)})")
            for c, lo, hi, label in zip(rows["change"], rows["change_lo"], rows["change_hi"],
                                        rows["change_interval"], strict=True)],
        "n A / B": [f"{a} / {b}" for a, b in zip(rows["n_before"], rows["n_after"],
                                                  strict=True)],
        "noise": rows["noise"],
        "finding": rows["finding"],
        "detectable at 80% power": rows["detectable"].map(
            lambda v: "-" if v != v else f"{v:.0%}" if v < 1 else f"×{1 + v:,.3g}"),
        "direction": [str(d) if f else "" for d, f in zip(rows["direction"], rows["flagged"],
                                                          strict=True)],
    }).reset_index(drop=True)


def verdicts(before: Sweep, after: Sweep) -> pd.DataFrame:
    """Per configuration in either sweep: its verdicts in A and B with k/n trusted repeats."""
    keys = _overview.config_keys(before.aggregated)
    sides = []
    for name, sweep in (("A", before), ("B", after)):
        points = sweep.aggregated
        grouped = points.groupby(keys, sort=True)
        sides.append(pd.DataFrame({
            f"verdict {name}": grouped["status"].agg(lambda s: " / ".join(sorted(set(s)))),
            f"k {name}": grouped["status"].agg(lambda s: int(s.isin(TRUSTED_STATUSES).sum())),
            f"n {name}": grouped["status"].size()}))
    both = sides[0].join(sides[1], how="outer").reset_index()
    both["changed"] = (both["verdict A"] != both["verdict B"]) | (both["k A"] != both["k B"])
    return both


def verdict_table(both: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Display form and a row class per row: worse (fewer trusted) red, better green."""
    def trusted(k: object, n: object) -> str:
        return "-" if n != n else f"{int(k)}/{int(n)}"  # type: ignore[call-overload]

    frame = pd.DataFrame({
        "class": both["user_class"].map(class_name), "mix": both["mix"], "users": both["users"],
        **{name: both[name] for name in named_dimensions(both)},
        "verdict A": both["verdict A"].fillna("(not run)"),
        "trusted A": [trusted(k, n) for k, n in zip(both["k A"], both["n A"], strict=True)],
        "verdict B": both["verdict B"].fillna("(not run)"),
        "trusted B": [trusted(k, n) for k, n in zip(both["k B"], both["n B"], strict=True)],
    })
    classes = []
    for _, row in both.iterrows():
        share_a = row["k A"] / row["n A"] if row["n A"] == row["n A"] else math.nan
        share_b = row["k B"] / row["n B"] if row["n B"] == row["n B"] else math.nan
        if not row["changed"]:
            classes.append("")
        elif share_b < share_a:
            classes.append("regression")
        elif share_b > share_a:
            classes.append("improvement")
        else:
            classes.append("changed")
    return frame, classes


def figures(before: Sweep, after: Sweep) -> dict[str, Figure]:
    """A and B on the same axes: throughput and p95, a panel per mix (the notebook's too)."""
    order = [str(m) for m in (before.manifest.get("matrix") or {}).get("mixes") or []]
    summary_a, summary_b = summarise(before.points), summarise(after.points)
    return {
        "throughput": plots.overlay(summary_a, summary_b, "rps", "throughput (requests/s)",
                                    "Throughput vs users: A dashed and hollow, B solid",
                                    mix_order=order),
        "p95": plots.overlay(summary_a, summary_b, "p95_ms", "p95 response time (ms)",
                             "p95 latency vs users: A dashed and hollow, B solid",
                             mix_order=order),
    }


def page(before: Sweep, after: Sweep, table: pd.DataFrame, status: int,
         threshold: float) -> str:
    """The comparison as one self-contained HTML page."""
    rows = deltas(before, after, table)
    flagged = rows[rows["flagged"]] if len(rows) else rows
    regressions = int((flagged["direction"] == "regression").sum()) if len(rows) else 0
    both = verdicts(before, after)
    verdict_frame, verdict_classes = verdict_table(both)
    changed = [i for i, c in enumerate(verdict_classes) if c]
    shown = {name: {**_html.inline_figure(figure), "title": name, "alt": name}
             for name, figure in figures(before, after).items()}
    direction_rows = [str(d) if f else "" for d, f in zip(rows.get("direction", []),
                                                            rows.get("flagged", []),
                                                            strict=True)]
    return _html.render(
        "compare.html.j2", title=f"Compare {after.sweep_id} (B) against {before.sweep_id} (A)",
        a=_side(before), b=_side(after), status=status,
        meaning=EXIT_MEANINGS.get(status, "see python -m analysis compare --help"),
        threshold=f"{threshold:.0%}",
        power=power_sentence(power_summary(table, threshold), threshold) if len(table) else "",
        cells=len(rows.groupby(["user_class", "mix", "users"]))
        if len(rows) else 0, flagged=len(flagged), regressions=regressions,
        improvements=len(flagged) - regressions, verdict_changes=len(changed),
        verdict_worse=verdict_classes.count("regression"), figures=shown,
        changes=html_table(delta_table(flagged)) if len(flagged) else "",
        top=_top_changes(flagged),
        all_changes=html_table(delta_table(rows), row_classes=direction_rows)
        if len(rows) else "", all_rows=len(rows),
        verdict_changes_table=html_table(verdict_frame.iloc[changed],
                                         [verdict_classes[i] for i in changed]),
        verdict_all=html_table(verdict_frame, verdict_classes), verdict_rows=len(both))


def _top_changes(flagged: pd.DataFrame, count: int = 6) -> list[dict[str, str]]:
    """The largest flagged changes as short lines for the first screen."""
    if flagged.empty:
        return []
    largest = flagged.assign(size=flagged["change"].abs()).sort_values("size", ascending=False)
    lines = []
    for _, row in largest.head(count).iterrows():
        interval = ("" if row["change_lo"] != row["change_lo"] else
                    f" ({row['change_interval']}: {_percent(row['change_lo'])} to "
                    f"{_percent(row['change_hi'])})")
        metric = METRIC_NAMES.get(str(row["metric"]), str(row["metric"]))
        lines.append({"direction": str(row["direction"]),
                      "text": f"{class_name(row['user_class'])} / {row['mix']} / "
                              f"{row['users']} users, {metric}: {_percent(row['change'])}"
                              f"{interval}"})
    return lines


def _side(sweep: Sweep) -> dict[str, Any]:
    facts = _overview.facts(sweep)
    points = sweep.aggregated
    trusted = int(points["status"].isin(TRUSTED_STATUSES).sum())
    return {"id": sweep.sweep_id, **facts, "trusted": f"{trusted} of {len(points)}"}


def write(before: Sweep, after: Sweep, table: pd.DataFrame, status: int, threshold: float,
          out: Path) -> Path:
    """Write the page to ``out`` (a file; its folder is created) and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(before, after, table, status, threshold))
    return out
