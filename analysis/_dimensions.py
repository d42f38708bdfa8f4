"""The sweep's dimensions as the analysis shows them, from the registry in runmodel.

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
# matrix dimensions beyond class, mix and users, in the point ids' order
DIMENSIONS = series_dimensions()
DEFAULTS = {name: default_label(name) for name in DIMENSIONS}


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
                   for name in DIMENSIONS if _set(row.get(name), name))


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
    for name in DIMENSIONS:
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
    shown = [name for name in point_keys() if name in DIMENSIONS and name in rows
             and (rows[name] != DEFAULTS[name]).any()]
    for name in reversed(shown):
        table.insert(0, title(name), rows[name].to_numpy())
    return table
