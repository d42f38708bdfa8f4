"""The sweep's dimensions as the analysis shows them, from the registry in runmodel.

Public (tests and notebooks may use it): ``label_of``, ``class_name``, ``title``, ``suffix``,
``series_name``, ``series_label``, ``named_dimensions``, ``with_dimension_columns``.

The analysis keeps each dimension's *label* in its column (``service_cpu``: "0.25 vCPU",
``rtt_delay``: "10 ms"); loading turns run.json's values into labels (``label_of``), and the
tables, figures and sentences name them by the registry's titles and phrases. A series
dimension left at its default everywhere in a sweep is not named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from runmodel.dimensions import (
    USER_CLASS_NAMES,
    by_name,
    default_label,
    point_keys,
    series_dimensions,
)

CLASS_NAMES = USER_CLASS_NAMES
# matrix dimensions beyond class, mix and users that name a series, in the point ids' order
DIMENSIONS = series_dimensions()
# every point key beyond class, mix and users, in the point keys' order: the series dimensions
# and any alternative of users (an arrival rate); each run has a label in each (its default's
# when it predates the dimension), so configurations group on them
EXTRA_KEYS = tuple(name for name in point_keys() if name not in ("user_class", "mix", "users"))
DEFAULTS = {name: default_label(name) for name in EXTRA_KEYS}
# what names a series, a configuration or a column when away from its default: the series
# dimensions in the ids' order, then any other point key (an alternative of users)
NAMED = (*DIMENSIONS, *(name for name in EXTRA_KEYS if name not in DIMENSIONS))


def label_of(name: str, value: Any) -> str:
    """The label of a run.json value (None, from a run older than the dimension: the
    default's)."""
    dimension = by_name(name)
    return dimension.label(dimension.default if value is None else value)


def class_name(user_class: object) -> str:
    """``http`` -> ``HttpUser`` (the registry's label of a user class)."""
    return by_name("user_class").label(user_class)


def title(name: str) -> str:
    """A dimension's column title: ``service CPU``, ``added RTT``."""
    return by_name(name).title


def _set(value: object, name: str) -> bool:
    return value is not None and value == value and str(value) not in ("", DEFAULTS[name])


def suffix(row: pd.Series | Mapping[Any, Any], separator: str = " / ") -> str:
    """The series dimensions of ``row`` away from their defaults, each as its phrase, in the
    ids' order: `` / postgres / 0.25 vCPU / +10 ms RTT / 4k payload`` ("" at the defaults)."""
    return "".join(separator + by_name(name).phrase.format(row.get(name))
                   for name in NAMED if _set(row.get(name), name))


def series_name(row: pd.Series | Mapping[Any, Any]) -> str:
    """A configuration series in sentences: ``HttpUser / read-heavy``, then every dimension away
    from its default (``/ postgres / 0.25 vCPU / +10 ms RTT / 4k payload``): two series of a
    sweep never share a name."""
    return f"{class_name(row['user_class'])} / {row['mix']}{suffix(row)}"


def series_label(row: pd.Series | Mapping[str, object], named: tuple[str, ...] = ()) -> str:
    """``HttpUser``, or ``HttpUser, postgres+cache`` for each dimension in ``named``."""
    parts = [class_name(row["user_class"])]
    for name in named:
        value = row.get(name)
        if value is not None and value == value and str(value) != "":
            parts.append(str(value))
    return ", ".join(parts)


def named_dimensions(rows: pd.DataFrame) -> tuple[str, ...]:
    """The dimensions a sweep varies, or sets to something other than the default."""
    named = []
    for name in NAMED:
        if name in rows and len(rows):
            values = set(rows[name].dropna().astype(str))
            if len(values) > 1 or values - {DEFAULTS.get(name, "")}:
                named.append(name)
    return tuple(named)


def with_dimension_columns(rows: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a first column per series dimension that some of ``rows`` set away from
    its default, titled by the registry, in the point keys' order (``service CPU``, ``added
    RTT``, ``backend``, ``payload``)."""
    table = table.reset_index(drop=True)
    shown = [name for name in EXTRA_KEYS if name in rows and (rows[name] != DEFAULTS[name]).any()]
    for name in reversed(shown):
        table.insert(0, title(name), rows[name].to_numpy())
    return table
