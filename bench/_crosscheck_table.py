"""The cross-check's table: Markdown for people, JSON (NaN as null) for machines."""

from __future__ import annotations

import math
from typing import Any

ENDPOINT = "GET /products/{id}"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The cross-check as a Markdown table, one row per level and tool (and class)."""
    def number(value: float, digits: int = 1) -> str:
        return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"

    lines = [f"Cross-check of `{ENDPOINT}`: Locust (through the sweep runner) against wrk, "
             "same service, same number of connections.",
             "",
             "| users | tool | class | rps | rps / wrk's | mean ms | p50 ms | p95 ms | p99 ms | "
             "mean / wrk's | p50 / wrk's | generator CPU % | generator CPUs busy % | "
             "service CPU % | verdict |",
             "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: | --- |"]
    for row in rows:
        lines.append(
            f"| {row['users']} | {row['tool']} | {row['class']} | {number(row['rps'])} | "
            f"{number(row.get('rps_vs_wrk', math.nan), 2)} | "
            f"{number(row['mean_ms'], 2)} | {number(row['p50_ms'], 2)} | "
            f"{number(row['p95_ms'], 2)} | {number(row['p99_ms'], 2)} | "
            f"{number(row['mean_vs_wrk'], 2)} | {number(row['p50_vs_wrk'], 2)} | "
            f"{number(row['generator_cpu_percent'], 0)} | "
            f"{number(row['generator_cpus_busy_percent'], 0)} | "
            f"{number(row['service_cpu_percent'], 0)} | {row['verdict']} |")
    lines += ["",
              "Locust rounds each response time to whole milliseconds below 100 ms (to 10 ms up to "
              "1 s) for its percentiles, so sub-millisecond percentiles read 0 or 1 ms (no ratio "
              "for 0); its mean is not rounded, and wrk reports microseconds: compare the means "
              "first. wrk has no p95. Generator CPU: Locust's busiest process over the window "
              "(run.json), "
              "or wrk's CPU time over its run, in % of one core; generator CPUs busy: how busy "
              "those CPUs were from every process (a full core starves the tool). Service CPU is "
              "measured during wrk only (the sweep records none for a `--host` target). "
              "A verdict other than `valid` means the row describes the load generator or a "
              "fault, not the service."]
    return "\n".join(lines) + "\n"


def json_ready(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    return value
