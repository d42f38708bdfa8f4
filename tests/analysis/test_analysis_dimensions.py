"""The analysis names the sweep's dimensions from runmodel's registry: labels of run.json values,
column titles and order, and the capacity lines, which name the CPU envelope (two envelopes
must not print the same label)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from analysis import load
from analysis._dimensions import suffix, with_dimension_columns
from analysis._overview import capacity


def _fit(**dimensions: str) -> dict[str, object]:
    return {"user_class": "http", "mix": "read-heavy", "backend": "memory",
            "service_cpu": "none", "rtt_delay": "none", "payload": "small", **dimensions,
            "valid_points": 4, "valid_levels": 4, "sigma": 0.1, "kappa": 0.0,
            "kappa_lo": math.nan, "peak_users": math.inf, "extrapolated": True,
            "max_rps": math.nan, "measured_max_rps": 500.0, "r_squared": 0.99, "note": ""}


def test_two_envelopes_print_two_capacity_labels() -> None:
    table = pd.DataFrame([_fit(service_cpu="0.25 vCPU"), _fit(service_cpu="0.5 vCPU")])
    lines = capacity(table)
    assert lines[0].startswith("HttpUser / read-heavy / 0.25 vCPU: ")
    assert lines[1].startswith("HttpUser / read-heavy / 0.5 vCPU: ")


def test_the_capacity_label_names_every_dimension_away_from_its_default() -> None:
    fit = _fit(backend="postgres+cache", service_cpu="fargate-256 (0.25 vCPU)",
               rtt_delay="40±5 ms", payload="4k")
    assert suffix(fit) == " / postgres+cache / fargate-256 (0.25 vCPU) / +40±5 ms RTT / 4k payload"
    assert suffix(_fit()) == ""
    assert capacity(pd.DataFrame([_fit()]))[0].startswith("HttpUser / read-heavy: ")


def test_dimension_columns_keep_their_titles_and_order() -> None:
    rows = pd.DataFrame({"backend": ["memory", "postgres"], "service_cpu": ["0.5 vCPU"] * 2,
                         "rtt_delay": ["none", "10 ms"], "payload": ["small", "small"]})
    table = with_dimension_columns(rows, pd.DataFrame({"users": [1, 10]}))
    assert list(table.columns) == ["service CPU", "added RTT", "backend", "users"]


def test_run_json_values_load_as_labels(sweep_copy: Path) -> None:
    run_jsons = sorted(sweep_copy.glob("runs/*/run.json"))
    for path, cpu in zip(run_jsons, ["0.25", "fargate-512"] * len(run_jsons), strict=False):
        run = json.loads(path.read_text())
        run["params"].update(service_cpu=cpu, service_vcpu=0.25 if cpu == "0.25" else 0.5,
                             rtt_delay="40:5", payload="4k", backend="postgres+cache")
        path.write_text(json.dumps(run))
    points = load(sweep_copy).aggregated
    assert set(points["service_cpu"]) == {"0.25 vCPU", "fargate-512 (0.5 vCPU)"}
    assert set(points["rtt_delay"]) == {"40±5 ms"}
    assert set(points["payload"]) == {"4k"} and set(points["backend"]) == {"postgres+cache"}
