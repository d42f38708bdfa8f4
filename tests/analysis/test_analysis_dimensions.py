"""The analysis names the sweep's dimensions from runmodel's registry: labels of run.json values,
column titles and order, and the capacity lines, which name the CPU envelope (two envelopes
must not print the same label)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd

from analysis import load
from analysis.dimensions import label_of, series_name, suffix, with_dimension_columns
from analysis.report import build, page


def _fit(**dimensions: str) -> dict[str, object]:
    return {"user_class": "http", "mix": "read-heavy", "backend": "memory",
            "service_cpu": "none", "rtt_delay": "none", "payload": "small", **dimensions,
            "valid_points": 4, "valid_levels": 4, "sigma": 0.1, "kappa": 0.0,
            "kappa_lo": math.nan, "peak_users": math.inf, "extrapolated": True,
            "max_rps": math.nan, "measured_max_rps": 500.0, "r_squared": 0.99, "note": "",
            "slo": "p95 < 100 ms", "slo_rps": math.nan, "slo_users": None, "knee": ""}


def test_two_envelopes_print_two_capacity_labels(sweep_dir: Path) -> None:
    """The page's capacity lines (the first screen) name the envelope: before runmodel's
    registry they named backend, delay and payload only, so two envelopes read the same."""
    report = build(load(sweep_dir))
    fitted = {key: value for key, value in _fit().items() if key != "service_cpu"}
    row = report.capacity.iloc[0].to_dict()  # every column the page shows, from a real sweep
    report.capacity = pd.DataFrame([{**row, **fitted, "service_cpu": envelope}
                                    for envelope in ("0.25 vCPU", "0.5 vCPU")])
    html = page(report)
    assert "HttpUser / read-heavy / 0.25 vCPU: no peak" in html
    assert "HttpUser / read-heavy / 0.5 vCPU: no peak" in html
    assert series_name(_fit(service_cpu="0.25 vCPU")) != series_name(_fit(service_cpu="0.5 vCPU"))


def test_the_capacity_label_names_every_dimension_away_from_its_default() -> None:
    fit = _fit(backend="postgres+cache", service_cpu="fargate-256 (0.25 vCPU)",
               rtt_delay="40±5 ms", payload="4k")
    assert suffix(fit) == " / postgres+cache / fargate-256 (0.25 vCPU) / +40±5 ms RTT / 4k payload"
    assert suffix(_fit()) == ""
    assert series_name(_fit()) == "HttpUser / read-heavy"


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


REGISTERED_TLS = '''
import sys
from runmodel import dimensions
from runmodel.dimensions import Dimension, Setting

tls = Dimension(  # a hypothetical next dimension: the service behind TLS or not
    "tls", "TLS", "series", default="off", tag=lambda v: "" if v in (None, "off") else "tls-",
    phrase="TLS {}", id_rank=5, settings=(Setting("--tls", "tls", "tls", str, ["off"], "LIST",
                                                  "off, on"),))
dimensions.DIMENSIONS = (*dimensions.DIMENSIONS, tls)
dimensions._BY_NAME["tls"] = tls

from analysis import load, summarise
from analysis.dimensions import series_name
from analysis.tables import summary_table

sweep = load(sys.argv[1])
points = sweep.aggregated
print(sorted(set(points["tls"])))
table = summary_table(summarise(sweep.points))
print(list(table.columns)[:3], len(table))
print(sorted({series_name(row) for _, row in points.iterrows()}))
'''


def test_a_new_dimension_is_one_registry_entry_for_the_analysis(sweep_copy: Path) -> None:
    """A dimension registered in runmodel (and nothing else) loads, groups configurations, gets
    its column titled by the registry and names its series: no analysis module names it."""
    for path in sorted(sweep_copy.glob("runs/http-*/run.json")):
        run = json.loads(path.read_text())
        run["params"]["tls"] = "on"
        path.write_text(json.dumps(run))
    done = subprocess.run([sys.executable, "-c", REGISTERED_TLS, str(sweep_copy)],
                          capture_output=True, text=True, timeout=120, check=False,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    values, columns, names = done.stdout.splitlines()
    assert values == "['off', 'on']"
    assert columns == "['TLS', 'class', 'mix'] 4"
    assert names == "['FastHttpUser / read-heavy', 'HttpUser / read-heavy / TLS on']"


def test_the_arrival_rate_loads_by_the_registry(sweep_copy: Path) -> None:
    """The open model's entry: an open run's rate is its label; a closed run reads as the
    entry's default."""
    for path in sorted(sweep_copy.glob("runs/http-*/run.json")):
        run = json.loads(path.read_text())
        run["params"]["arrival_rate"] = 200
        path.write_text(json.dumps(run))
    points = load(sweep_copy).aggregated
    assert set(points["arrival_rate"]) == {label_of("arrival_rate", 200),
                                           label_of("arrival_rate", None)}
    assert len(set(points["arrival_rate"])) == 2
