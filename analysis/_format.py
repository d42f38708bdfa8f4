"""Numbers as text, and tables as Markdown or as HTML through pandas' ``Styler``."""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from runmodel import verdicts


def _badge(status: str) -> str:
    """A verdict's badge colour class in the report's stylesheet, from the shared vocabulary."""
    if verdicts.grade(status) == 0:
        return "ok"
    if verdicts.grade(status) == 2 or status == verdicts.INTERRUPTED:
        return "bad"
    return "muted" if status in verdicts.READER_STATUSES else "warn"


# Every verdict's badge, then the comparison's words.
BADGES = {**{status: _badge(status) for status in verdicts.ORDER},
          "regression": "bad", "improvement": "ok", "CHANGED": "bad"}
BADGE_COLUMNS = ("verdict", "direction")  # and every column whose name starts with "verdict"
BADGE_WORDS = re.compile(r"(?<![\w-])(" + "|".join(
    re.escape(word) for word in sorted(BADGES, key=len, reverse=True)) + r")(?![\w-])")
# A cell that reads as a number: "1,234.5", "-3%", "+12.0% [+3.1%, +20.4%]", "2.10 (no CI, n=1)".
# "≥ 1,234": a percentile that open requests make a lower bound (runmodel.censoring).
NUMERIC = re.compile(r"^\s*(≥\s*)?[-+−]?(\d[\d,]*(\.\d+)?|∞|-)\s*(%|x|×)?"
                     r"(\s*\[.*\]|\s*\(.*\))?\s*$")


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


def badge(value: object) -> str:
    """Text with every verdict in it as a coloured badge (HTML), the rest escaped.

    "valid 1/2, generator-bound 1/2" keeps its counts; "valid → sut-errors" gets two badges.
    """
    text = str(value)
    if not text or text == "nan":
        return ""
    out, last = [], 0
    for found in BADGE_WORDS.finditer(text):
        out.append(html.escape(text[last:found.start()]))
        out.append(f"<span class='badge {BADGES[found.group(0)]}'>"
                   f"{html.escape(found.group(0))}</span>")
        last = found.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _numeric(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    values = [str(v) for v in column if str(v) not in ("", "nan", "None")]
    return bool(values) and all(NUMERIC.match(v) for v in values)


def html_table(frame: pd.DataFrame, row_classes: list[str] | None = None,
               caption: str | None = None) -> str:
    """``frame`` as an HTML table via ``Styler``: verdict badges, numbers right-aligned.

    Numeric columns (numbers, or text that reads as a number with its interval) get the class
    ``num``; verdict columns (``BADGE_COLUMNS``) become badges; ``row_classes`` (one CSS class
    per row, "" for none) marks rows, e.g. a verdict that changed. Everything else is escaped.
    """
    if frame.empty:
        return "<p class='none'>(none)</p>"
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    numeric = [c for c in frame.columns if _numeric(frame[c])]
    classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for column in numeric:
        classes[column] = "num"
    for column in frame.columns:  # long text wraps; everything else stays on one line
        if column not in numeric and frame[column].astype(str).str.len().max() > 40:
            classes[column] = "wrap"
    if row_classes is not None:
        for index, name in enumerate(row_classes):
            if name:
                classes.iloc[index] = classes.iloc[index] + f" {name}"
    badges: list[Any] = [c for c in frame.columns
                         if c in BADGE_COLUMNS or c.startswith("verdict")]
    styler = (Styler(frame, cell_ids=False).hide(axis="index").set_td_classes(classes)
              .format(escape="html", na_rep="-", precision=1, thousands=",")
              .format(badge, subset=badges))
    if numeric:
        indexes = [frame.columns.get_loc(column) for column in numeric]
        styler = styler.set_table_styles([{"selector": f"th.col{index}",
                                           "props": "text-align: right"} for index in indexes])
    if caption:
        styler = styler.set_caption(caption)
    body = styler.to_html(doctype_html=False)
    return f"<div class='tablewrap'>{body}</div>"
