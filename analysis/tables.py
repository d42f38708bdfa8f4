"""Display tables shared by the command line, the report and the notebooks."""

from __future__ import annotations

import math

import pandas as pd

from analysis._format import number, with_ci
from analysis._locust import AGGREGATED
from analysis.dimensions import with_dimension_columns
from analysis.histograms import SOURCE_HDR
from runmodel.censoring import affected
from runmodel.percentiles import PERCENTILES

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


def labelled(mean: float, low: float, high: float, label: str, digits: int = 1) -> str:
    """A figure with its interval and what the interval is: "1,234.0 (range of 2: 1,200.0–
    1,260.0)", "1,234.0 (95% CI (t, n=5): ...)", "1,234.0 (n=1, no interval)"."""
    if mean != mean:
        return "-"
    if low != low or high != high:
        return f"{number(mean, digits)} ({label or 'no interval'})"
    return f"{number(mean, digits)} ({label}: {number(low, digits)}–{number(high, digits)})"


def ms(value: object) -> str:
    """A response time in ms to about 3 significant digits (HDR's precision)."""
    try:
        size = abs(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return number(value)
    digits = 3 if size < 1 else 2 if size < 10 else 1 if size < 100 else 0
    return number(value, digits)


def bounded_ms(rows: pd.DataFrame, column: str, fraction: float,
               counts: str = "requests") -> list[str]:
    """A percentile column as ``ms`` text, "≥ 1,234" where the requests still open at the
    windows' ends (``censored_open``) make it only a lower bound (runmodel.censoring)."""
    return [(mark if value == value else "") + ms(value) for mark, value in
            zip(_bound_marks(rows, fraction, counts), rows[column], strict=True)]


def _bound_marks(rows: pd.DataFrame, fraction: float, counts: str = "requests") -> list[str]:
    """"≥ " for the rows whose ``fraction`` percentile open requests bound, else "": those
    already older than it (``censored_older_pNN``; over repeats, each against its own run's)."""
    names = [name for name, share in PERCENTILES.items() if share == fraction]
    column = f"censored_older_{names[0]}" if names else ""
    older = rows[column] if column in rows else [math.nan] * len(rows)
    return ["≥ " if k == k and affected(n, k, fraction) else ""
            for n, k in zip(rows[counts], older, strict=True)]


def summary_table(summary: pd.DataFrame, endpoint: str = AGGREGATED) -> pd.DataFrame:
    """One line per point of the matrix (``stats.summarise`` rows), figures formatted."""
    rows = summary[summary["endpoint"] == endpoint]
    return _with_backend(rows, pd.DataFrame({
        "class": rows["user_class"], "mix": rows["mix"], "users": rows["users"],
        "n": rows["n"], "verdict (repeats k/n)": rows["statuses"],
        "trusted": rows["trusted"].map({True: "yes", False: "no"}),
        "rps (interval over repeats)": [
            labelled(m, lo, hi, label) for m, lo, hi, label in
            zip(rows["rps"], rows["rps_lo"], rows["rps_hi"], rows["interval"], strict=True)],
        "mean ms (exact)": rows["pooled_mean_ms"].map(lambda v: number(v, 2)),
        "p50 ms": bounded_ms(rows, "pooled_p50_ms", 0.50),  # "≥": open requests bound it
        "p95 ms": bounded_ms(rows, "pooled_p95_ms", 0.95),
        "p99 ms": bounded_ms(rows, "pooled_p99_ms", 0.99),
        "p95 ms interval (over repeats)": [
            f"{label}: {ms(lo)}–{ms(hi)}" if lo == lo else label for lo, hi, label in
            zip(rows["pooled_p95_ms_lo"], rows["pooled_p95_ms_hi"],
                rows["percentile_interval"], strict=True)],
        "p95 ms, mean of repeats (interval)": [
            bound + labelled(m, lo, hi, label, 3) for bound, m, lo, hi, label in
            zip(_bound_marks(rows, 0.95), rows["p95_ms"], rows["p95_ms_lo"], rows["p95_ms_hi"],
                rows["interval"], strict=True)],
        "p50 / p95 ms (Locust, cross-check)": [
            f"{b50}{number(a, 0)} / {b95}{number(b, 0)}" for b50, a, b95, b in
            zip(_bound_marks(rows, 0.50), rows["pooled_locust_p50_ms"], _bound_marks(rows, 0.95),
                rows["pooled_locust_p95_ms"], strict=True)],
        "failures": rows["failures"],
        "generator CPU %": rows["gen_cpu_mean"].map(lambda v: number(v, 0)),
        "service CPU %": rows["service_cpu_mean"].map(lambda v: number(v, 0)),
    }))


def _with_backend(rows: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The table with a first column per dimension some rows set away from its default
    (`service CPU`, `added RTT`, `backend`, `payload`: the registry's titles and order)."""
    return with_dimension_columns(rows, table)


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
    """``compare.class_ratio`` formatted: ratios with their labelled intervals, n and the
    finding on throughput (Holm-corrected difference, TOST equivalence, or inconclusive)."""
    if ratios.empty:
        return ratios
    table = ratios[["mix", "users"]].copy()
    counts = [column for column in ratios.columns if column.startswith("n_")]
    table["n"] = [" / ".join(str(int(row[c])) for c in counts) for _, row in ratios.iterrows()]
    for metric in ("rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"):
        table[metric.removesuffix("_ms") + " ratio"] = _ratios(ratios, metric)
    table["throughput"] = ratios["rps_finding"]
    table["Holm p"] = ratios["rps_p_holm"].map(lambda v: "-" if v != v else f"{v:.3g}")
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
        "client p50 ms": bounded_ms(rows, "p50_ms", 0.50),
        "server p50 ms": rows["server_p50_ms"].map(lambda v: number(v, 3)),
        "client p99 ms": bounded_ms(rows, "p99_ms", 0.99),
        "server p99 ms": rows["server_p99_ms"].map(lambda v: number(v, 3)),
        "client overhead": rows["client_overhead_share"].map(
            lambda v: "" if pd.isna(v) else f"{v:.0%}" + (" (mostly client)" if v > 0.5 else "")),
        "requests (Locust / service)": [  # the service's count of Locust's edges, if read
            f"{int(a)} / {int(c if c == c else b)}" for a, b, c in zip(
                rows["requests"], rows["server_requests"],
                rows["server_window_requests"] if "server_window_requests" in rows
                else rows["server_requests"], strict=True)],
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
        table[metric.removesuffix("_ms") + " ratio"] = _ratios(ratios, metric)
    return _with_backend(ratios, table)


def _short(label: str) -> str:
    """A ratio interval's label for a table cell (the table's title gives the method, its
    ``n`` column the repeats): "95% CI (Welch t)" or "range of repeat ratios"."""
    if label.startswith("95% CI"):
        return "95% CI (Welch t)"
    return label.split(" (n=")[0]


def _ratios(ratios: pd.DataFrame, metric: str) -> list[str]:
    return [labelled(m, lo, hi, _short(str(label)), 2) for m, lo, hi, label in
            zip(ratios[metric], ratios[f"{metric}_lo"], ratios[f"{metric}_hi"],
                ratios[f"{metric}_interval"], strict=True)]


def capacity_display(capacity: pd.DataFrame) -> pd.DataFrame:
    """``capacity.capacity_table`` formatted."""
    if capacity.empty:
        return capacity
    return _with_backend(capacity, pd.DataFrame({
        "class": capacity["user_class"], "mix": capacity["mix"],
        "valid points": capacity["valid_points"],
        "user counts": capacity["valid_levels"],
        "lambda [95% CI, fit]": [with_ci(m, lo, hi, 1) for m, lo, hi in zip(
            capacity["lambda"], capacity["lambda_lo"], capacity["lambda_hi"], strict=True)],
        "contention sigma [95% CI, fit]": [with_ci(m, lo, hi, 4) for m, lo, hi in zip(
            capacity["sigma"], capacity["sigma_lo"], capacity["sigma_hi"], strict=True)],
        "coherency kappa [95% CI, fit]": [with_ci(m, lo, hi, 6) for m, lo, hi in zip(
            capacity["kappa"], capacity["kappa_lo"], capacity["kappa_hi"], strict=True)],
        "R^2": capacity["r_squared"].map(lambda v: number(v, 3)),
        "residuals (users: measured - fitted rps)": capacity["residuals"],
        "peak": capacity["knee"],
        "max rps (USL, established peak only)": capacity["max_rps"].map(number),
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


def latency_split_table(split: pd.DataFrame) -> pd.DataFrame:
    """``attribution.split_frame`` formatted: per point, the client-seen mean in ms and its
    parts (client floor, added delay, accept queue, app queue, service), then the remainder
    nothing measured explains, with its share; "-" marks a part not measured."""
    if split.empty:
        return pd.DataFrame()

    def part(value: float) -> str:
        return "-" if value != value else ms(value)  # NaN: not measured

    return pd.DataFrame({
        "point": split["point_id"], "verdict": split["status"],
        "client-seen mean ms": split["client_mean_ms"].map(part),
        "client floor": split["client_ms"].map(part),
        "added delay": split["network_delay_ms"].map(part),
        "accept queue": split["accept_queue_ms"].map(part),
        "app queue": split["app_queue_ms"].map(part),
        "service": split["service_ms"].map(part),
        "unexplained ms (share)": [
            "-" if rest != rest else f"{ms(rest)} ({share:.0%})" for rest, share in
            zip(split["unexplained_ms"], split["unexplained_share"], strict=True)],
        "not measured": split["missing"],
    }).reset_index(drop=True)
