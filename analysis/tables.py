"""Display tables shared by the command line, the report and the notebooks."""

from __future__ import annotations

import pandas as pd

from analysis._format import number, with_ci
from analysis._locust import AGGREGATED
from analysis.histograms import SOURCE_HDR

BUCKET_LIMIT_MS = 2.0
BUCKET_NOTE = ("Locust records response times in whole-millisecond buckets below 100 ms, so "
               "percentiles under 2 ms read 0 or 1 ms (and a ratio of a 0 ms percentile is "
               "undefined); 'mean ms (exact)' is Locust's total response time / requests, "
               "not bucketed.")
HDR_NOTE = ("Percentiles are read off HDR histograms (microsecond resolution, 3 significant "
            "digits) merged exactly over repeats and processes; the 'Locust' column is "
            "Locust's own whole-millisecond figure, kept as a cross-check.")


def bucketing_note(summary: pd.DataFrame) -> str:
    """``HDR_NOTE`` when every row's percentiles come from HDR; else ``BUCKET_NOTE`` when a
    Locust-histogram percentile of ``summary`` is under 2 ms; else ""."""
    if "latency_source" in summary.columns and len(summary):
        locust_rows = summary[summary["latency_source"] != SOURCE_HDR]
        if locust_rows.empty:
            return HDR_NOTE
        summary = locust_rows
    columns = [c for c in ("pooled_p50_ms", "pooled_p95_ms", "pooled_p99_ms")
               if c in summary.columns]
    small = (summary[columns] < BUCKET_LIMIT_MS).to_numpy().any() if columns else False
    return BUCKET_NOTE if small else ""


def ms(value: object) -> str:
    """A response time in ms to about 3 significant digits (HDR's precision)."""
    try:
        size = abs(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return number(value)
    digits = 3 if size < 1 else 2 if size < 10 else 1 if size < 100 else 0
    return number(value, digits)


def summary_table(summary: pd.DataFrame, endpoint: str = AGGREGATED) -> pd.DataFrame:
    """One line per point of the matrix (``stats.summarise`` rows), figures formatted."""
    rows = summary[summary["endpoint"] == endpoint]
    return _with_backend(rows, pd.DataFrame({
        "class": rows["user_class"], "mix": rows["mix"], "users": rows["users"],
        "n": rows["n"], "verdict (repeats k/n)": rows["statuses"],
        "trusted": rows["trusted"].map({True: "yes", False: "no"}),
        "rps [95% CI, bootstrap]": [with_ci(m, lo, hi) for m, lo, hi in
                                    zip(rows["rps"], rows["rps_lo"], rows["rps_hi"], strict=True)],
        "mean ms (exact)": rows["pooled_mean_ms"].map(lambda v: number(v, 2)),
        "p50 ms": rows["pooled_p50_ms"].map(ms),
        "p95 ms": rows["pooled_p95_ms"].map(ms),
        "p99 ms": rows["pooled_p99_ms"].map(ms),
        "p95 ms [95% CI, order statistic]": [
            f"[{ms(lo)}, {ms(hi)}]" for lo, hi in
            zip(rows["pooled_p95_ms_lo"], rows["pooled_p95_ms_hi"], strict=True)],
        "p95 ms, mean of repeats [95% CI, bootstrap]": [
            with_ci(m, lo, hi, 3) for m, lo, hi in
            zip(rows["p95_ms"], rows["p95_ms_lo"], rows["p95_ms_hi"], strict=True)],
        "p50 / p95 ms (Locust, cross-check)": [
            f"{number(a, 0)} / {number(b, 0)}" for a, b in
            zip(rows["pooled_locust_p50_ms"], rows["pooled_locust_p95_ms"], strict=True)],
        "failures": rows["failures"],
        "generator CPU %": rows["gen_cpu_mean"].map(lambda v: number(v, 0)),
        "service CPU %": rows["service_cpu_mean"].map(lambda v: number(v, 0)),
    }))


def _with_backend(rows: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The table with a first `backend` column when the rows are not all memory-backed, an
    `added RTT` column when some rows ran with an added delay, and a first `service CPU` column
    when some rows ran in a CPU envelope (and a `payload` column when some products were not
    small)."""
    table = table.reset_index(drop=True)
    if "payload" in rows and (rows["payload"] != "small").any():
        table.insert(0, "payload", rows["payload"].to_numpy())
    if "backend" in rows and (rows["backend"] != "memory").any():
        table.insert(0, "backend", rows["backend"].to_numpy())
    if "rtt_delay" in rows and (rows["rtt_delay"] != "none").any():
        table.insert(0, "added RTT", rows["rtt_delay"].to_numpy())
    if "service_cpu" in rows and (rows["service_cpu"] != "none").any():
        table.insert(0, "service CPU", rows["service_cpu"].to_numpy())
    return table


def endpoint_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint of every point: throughput and pooled percentiles."""
    rows = summary[summary["endpoint"] != AGGREGATED]
    return _with_backend(rows, pd.DataFrame({
        "class": rows["user_class"], "mix": rows["mix"], "users": rows["users"],
        "endpoint": rows["endpoint"], "verdict": rows["statuses"],
        "rps": rows["rps"].map(number),
        "mean ms (exact)": rows["pooled_mean_ms"].map(lambda v: number(v, 2)),
        "p50 ms": rows["pooled_p50_ms"].map(ms),
        "p95 ms": rows["pooled_p95_ms"].map(ms),
        "p99 ms": rows["pooled_p99_ms"].map(ms),
        "p50 ms (Locust)": rows["pooled_locust_p50_ms"].map(lambda v: number(v, 0)),
        "failures": rows["failures"],
    }))


def ratio_table(ratios: pd.DataFrame) -> pd.DataFrame:
    """``compare.class_ratio`` formatted: ratios with their 95% CI, n and the verdict on rps."""
    if ratios.empty:
        return ratios
    table = ratios[["mix", "users"]].copy()
    counts = [column for column in ratios.columns if column.startswith("n_")]
    table["n"] = [" / ".join(str(int(row[c])) for c in counts) for _, row in ratios.iterrows()]
    for metric in ("rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"):
        table[metric.removesuffix("_ms") + " ratio"] = [
            with_ci(m, lo, hi, 2) for m, lo, hi in
            zip(ratios[metric], ratios[f"{metric}_lo"], ratios[f"{metric}_hi"], strict=True)]
    table["throughput"] = ratios["rps_difference"].map(
        {"higher": "FastHttpUser higher", "lower": "HttpUser higher"}).fillna(
        ratios["rps_difference"])
    table["note"] = ratios["note"]
    return _with_backend(ratios, table)


def latency_sides_table(points: pd.DataFrame) -> pd.DataFrame:
    """Client-seen (Locust) and server-side (the service's /metrics) latency per final point.

    Empty for sweeps without server-side figures (schema 1, or a target without /metrics).
    """
    rows = points[(points["endpoint"] == AGGREGATED) & points["server_mean_ms"].notna()]
    return pd.DataFrame({
        "point": rows["point_id"], "verdict": rows["status"],
        "client mean ms": rows["mean_ms"].map(lambda v: number(v, 3)),
        "server mean ms": rows["server_mean_ms"].map(lambda v: number(v, 3)),
        "client p50 ms": rows["p50_ms"].map(lambda v: number(v, 0)),
        "server p50 ms": rows["server_p50_ms"].map(lambda v: number(v, 3)),
        "client p99 ms": rows["p99_ms"].map(lambda v: number(v, 0)),
        "server p99 ms": rows["server_p99_ms"].map(lambda v: number(v, 3)),
        "client overhead": rows["client_overhead_share"].map(
            lambda v: "" if pd.isna(v) else f"{v:.0%}" + (" (mostly client)" if v > 0.5 else "")),
        "requests (Locust / service)": [
            f"{int(a)} / {int(b)}" for a, b in zip(rows["requests"], rows["server_requests"],
                                                  strict=True)],
    }).reset_index(drop=True)


def warnings_table(points: pd.DataFrame) -> pd.DataFrame:
    """The points whose verdict carries warnings."""
    rows = points[(points["endpoint"] == AGGREGATED) & (points["warnings"] != "")]
    return pd.DataFrame({"point": rows["point_id"], "verdict": rows["status"],
                         "warnings": rows["warnings"]}).reset_index(drop=True)


def attempts_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Every run of the points that were run more than once, final or not."""
    rows = runs[runs["endpoint"] == AGGREGATED]
    repeated = rows.groupby("point_id")["run_id"].transform("count") > 1
    rows = rows[repeated].sort_values(["point_id", "attempt"])
    return pd.DataFrame({
        "run": rows["run_id"], "attempt": rows["attempt"], "final": rows["final"],
        "processes": rows["processes"], "verdict": rows["status"],
        "rps": rows["rps"].map(number), "p95 ms": rows["p95_ms"].map(ms),
        "generator CPU %": rows["gen_cpu_mean"].map(lambda v: number(v, 0)),
    }).reset_index(drop=True)


def mix_table(ratios: pd.DataFrame) -> pd.DataFrame:
    """``compare.mix_ratio`` rows (with a ``mixes`` label column) formatted."""
    if ratios.empty:
        return ratios
    table = ratios[["mixes", "user_class", "users"]].copy()
    for metric in ("rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"):
        table[metric.removesuffix("_ms") + " ratio"] = [
            with_ci(m, lo, hi, 2) for m, lo, hi in
            zip(ratios[metric], ratios[f"{metric}_lo"], ratios[f"{metric}_hi"], strict=True)]
    return _with_backend(ratios, table)


def capacity_display(capacity: pd.DataFrame) -> pd.DataFrame:
    """``capacity.capacity_table`` formatted."""
    if capacity.empty:
        return capacity
    return _with_backend(capacity, pd.DataFrame({
        "class": capacity["user_class"], "mix": capacity["mix"],
        "valid points": capacity["valid_points"],
        "user counts": capacity["valid_levels"],
        "lambda [95% CI]": [with_ci(m, lo, hi, 1) for m, lo, hi in zip(
            capacity["lambda"], capacity["lambda_lo"], capacity["lambda_hi"], strict=True)],
        "contention sigma [95% CI]": [with_ci(m, lo, hi, 4) for m, lo, hi in zip(
            capacity["sigma"], capacity["sigma_lo"], capacity["sigma_hi"], strict=True)],
        "coherency kappa [95% CI]": [with_ci(m, lo, hi, 6) for m, lo, hi in zip(
            capacity["kappa"], capacity["kappa_lo"], capacity["kappa_hi"], strict=True)],
        "R^2": capacity["r_squared"].map(lambda v: number(v, 3)),
        "residuals (users: measured - fitted rps)": capacity["residuals"],
        "peak": capacity["knee"],
        "max rps (USL, peak inside the measured range only)": capacity["max_rps"].map(number),
        "max rps (measured)": capacity["measured_max_rps"].map(number),
        "SLO": capacity["slo"],
        "highest valid measured rps within SLO": capacity["slo_rps"].map(number),
        "at users": capacity["slo_users"].map(lambda v: "-" if v is None or v != v else int(v)),
        "note": capacity["note"],
    }))


def littles_table(littles: pd.DataFrame) -> pd.DataFrame:
    """``checks.littles_law`` formatted."""
    return pd.DataFrame({
        "point": littles["point_id"], "users": littles["users"],
        "rps": littles["rps"].map(number),
        "mean ms": littles["mean_ms"].map(lambda v: number(v, 2)),
        "think s": littles["think_s"].map(lambda v: number(v, 2)),
        "rps x (R + Z)": littles["predicted_users"].map(lambda v: number(v, 2)),
        "residual": littles["residual"].map(lambda v: "-" if v != v else f"{v:+.0%}"),
        "verdict": littles["status"],
    })
