"""The cross-check's tables: Markdown for people, JSON (NaN as null) for machines."""

from __future__ import annotations

import math
from typing import Any

from bench._crosscheck_rounds import TOLERANCE

ENDPOINT = "GET /products/{id}"


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _range(low: float, high: float) -> str:
    return "-" if math.isnan(low) else f"{low:.2f}-{high:.2f}"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "no"


def _runs_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| users | round | tool | class | rps | rps / wrk's | service µs/request | "
             "µs / wrk's | mean ms | mean / wrk's | p50 ms | p50 / wrk's | p95 ms | p99 ms | "
             "generator CPU % | generator CPUs busy % | service CPU % | verdict | counted |",
             "| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for row in rows:
        counted = "-" if row["tool"] == "wrk" else _yes_no(row.get("counted"))
        lines.append(
            f"| {row['users']} | {row['round']} | {row['tool']} | {row['class']} | "
            f"{_number(row['rps'])} | {_number(row.get('rps_vs_wrk', math.nan), 2)} | "
            f"{_number(row.get('service_us_per_request', math.nan))} | "
            f"{_number(row.get('us_vs_wrk', math.nan), 2)} | "
            f"{_number(row['mean_ms'], 2)} | {_number(row.get('mean_vs_wrk', math.nan), 2)} | "
            f"{_number(row['p50_ms'], 2)} | {_number(row.get('p50_vs_wrk', math.nan), 2)} | "
            f"{_number(row['p95_ms'], 2)} | {_number(row['p99_ms'], 2)} | "
            f"{_number(row['generator_cpu_percent'], 0)} | "
            f"{_number(row['generator_cpus_busy_percent'], 0)} | "
            f"{_number(row.get('service_cpu_percent', math.nan), 1)} | {row['verdict']} | "
            f"{counted} |")
    return lines


def summary_table(summary: list[dict[str, Any]]) -> list[str]:
    """Per level and class: the counted runs' median bracketed ratio, its range, the verdict;
    then wrk's own spread per level (the host's drift)."""
    low, high = 1 - TOLERANCE, 1 + TOLERANCE
    lines = ["| users | class | median rps / wrk's | min-max | rounds counted | "
             "median µs / wrk's | median service µs/request | "
             f"within 10% ({low:.2f}..{high:.2f})? |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    drift = []
    for entry in summary:
        if entry["tool"] == "wrk":
            spread = (f"{_number(entry['min_rps'], 0)}-{_number(entry['max_rps'], 0)} rps"
                      if entry["counted"] else "no valid run")
            drift.append(f"{entry['users']} connections: {entry['counted']} of {entry['runs']} "
                         f"runs valid, {spread}, median "
                         f"{_number(entry['median_us_per_request'])} µs/request")
            continue
        lines.append(
            f"| {entry['users']} | {entry['class']} | "
            f"{_number(entry['median_rps_vs_wrk'], 2)} | "
            f"{_range(entry['min_rps_vs_wrk'], entry['max_rps_vs_wrk'])} | "
            f"{entry['counted']} of {entry['runs']} | "
            f"{_number(entry['median_us_vs_wrk'], 2)} | "
            f"{_number(entry['median_us_per_request'])} | "
            f"{_yes_no(entry['within_10_percent'])} |")
    lines += ["", "wrk alone (the host's drift on one service, at the same load): "
              + "; ".join(drift) + "."]
    return lines


def markdown_table(rows: list[dict[str, Any]], summary: list[dict[str, Any]]) -> str:
    """The cross-check in Markdown: the summary per level and class, then every run."""
    lines = [f"Cross-check of `{ENDPOINT}`: Locust (through the sweep runner) against wrk, "
             "same service, same number of connections, each Locust run bracketed by a wrk "
             "run before and after it.",
             "",
             *summary_table(summary),
             "",
             "Every run, in the order they ran (per level: wrk, then rounds of Locust fast, "
             "Locust http, wrk):",
             "",
             *_runs_table(rows),
             "",
             "The host is a shared VM whose speed drifts by ±20% from minute to minute, so a "
             "Locust run is compared with the mean of the two wrk runs just before and after "
             "it on the same service (`/ wrk's` columns), and a level's figure is the median "
             "of those ratios over the rounds; it agrees when within "
             f"{1 - TOLERANCE:.2f}..{1 + TOLERANCE:.2f}. Only Locust runs whose verdict is "
             "`valid` and whose two bracketing wrk runs are `valid` are counted (column "
             "`counted`); the others are shown but not counted. A verdict other than `valid` "
             "means the row describes the load generator or a fault, not the service.",
             "",
             "Service µs/request: the service process tree's CPU time (the scheduler's "
             "runtime of its threads) per request the service completed, a figure that does "
             "not depend on how many requests the generator managed to send, and much less on "
             "the host's speed than rps (a request that costs the service more, e.g. from "
             "bigger headers, shows here). For wrk: the CPU over its run, per request the "
             "service's /metrics counted between scrapes before and after it. For Locust: the "
             "CPU over Locust's measured window (sampled every 100 ms around the sweep runner's "
             "call and read at the window's edges from run.json), per request the service "
             "counted in that window (run.json's server view); the CPU over the whole call "
             "(calibration against /health, ramp, window, stop) is in the JSON "
             "(`call_service_cpu_s`, `call_service_requests`: every route). Service CPU % is "
             "that CPU over the same span, in % of one core. Not measured for `--host`.",
             "",
             "Locust rounds each response time to whole milliseconds below 100 ms (to 10 ms up "
             "to 1 s) for its percentiles, so sub-millisecond percentiles read 0 or 1 ms (no "
             "ratio for 0); its mean is not rounded, and wrk reports microseconds: compare the "
             "means first. wrk has no p95. Generator CPU: Locust's busiest process over the "
             "window (run.json), or wrk's CPU time over its run, in % of one core; generator "
             "CPUs busy: how busy those CPUs were from every process (a full core starves the "
             "tool)."]
    return "\n".join(lines) + "\n"


def json_ready(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    return value
