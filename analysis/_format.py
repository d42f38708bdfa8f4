from __future__ import annotations

import html
import math

import pandas as pd


def number(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    try:
        number_ = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number_):
        return "-"
    if math.isinf(number_):
        return "∞"
    return f"{number_:,.{digits}f}"


def with_ci(mean: float, low: float, high: float, digits: int = 1) -> str:
    if math.isnan(mean):
        return "-"
    if math.isnan(low) or math.isnan(high):
        return f"{number(mean, digits)} (no CI, n=1)"
    return f"{number(mean, digits)} [{number(low, digits)}, {number(high, digits)}]"


def markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(none)_\n"
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


def html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(none)</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
