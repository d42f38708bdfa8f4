"""Command line: ``python -m analysis summary|report|compare``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from analysis._errors import AnalysisError
from analysis.compare import compare_sweeps
from analysis.loading import load
from analysis.power import power_sentence, power_summary, relative_size
from analysis.stats import summarise
from analysis.tables import summary_table
from analysis.verdict_changes import comparable_cells, verdict_changes

EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2
EXIT_NOTHING_COMPARABLE = 3
EXIT_UNDERPOWERED = 4
EXIT_CODES = ("Exit status: 0 fine (compare: no regression, and its repeats could have detected "
              "one of the threshold's size at 80% power; improvements are reported, not "
              "failed); 1 compare found a regression (a change in the worse direction beyond "
              "the threshold and measurably different after Holm's correction, or a cell "
              "whose verdict got worse, e.g. valid -> sut-errors); 2 bad input (one line on "
              "stderr names the file and the problem); 3 compare found nothing comparable (no "
              "cell with a verdict in both sweeps); 4 compare found no regression but is "
              "underpowered: at the measured noise and its repeats it could not have detected "
              "a regression of the threshold's size (at 80% power).")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Analyse a load-test sweep (results/README.md) or plain Locust --csv output.",
        epilog=EXIT_CODES)
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="a table for a sweep or a Locust CSV prefix")
    summary.add_argument("path", type=Path, help="sweep directory or Locust --csv prefix")
    summary.add_argument("--json", action="store_true", help="machine-readable output")
    report = commands.add_parser("report", help="write SWEEP_DIR/report/index.html")
    report.add_argument("sweep", type=Path, help="sweep directory, e.g. results/latest")
    report.add_argument("--slo-ms", type=float, default=100.0, help="p95 objective (default 100)")
    compare = commands.add_parser("compare", help="regression table of sweep B against A",
                                  description="Compare sweep B against A. " + EXIT_CODES)
    compare.add_argument("before", type=Path, help="the baseline sweep (A)")
    compare.add_argument("after", type=Path, help="the sweep to judge (B)")
    compare.add_argument("--threshold", type=float, default=0.10,
                         help="relative change that counts (default 0.10 = 10%%)")
    compare.add_argument("--json", action="store_true")
    compare.add_argument("--html", type=Path, metavar="OUT",
                         help="also write the comparison report (one self-contained HTML file) "
                              "to OUT; the exit status stays the text compare's")
    args = parser.parse_args(argv)
    try:
        if args.command == "summary":
            return _summary(args.path, args.json)
        if args.command == "report":
            from analysis.report import render  # matplotlib: imported only for the report

            print(render(args.sweep, args.slo_ms))
            return 0
        return _compare(args.before, args.after, args.threshold, args.json, args.html)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: {error.filename or ''}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _summary(path: Path, as_json: bool) -> int:
    sweep = load(path)
    summary = summarise(sweep.points)
    if as_json:
        columns = [c for c in summary.columns if c != "histogram"]
        records = summary[columns].to_dict(orient="records")
        document = {"sweep_id": sweep.sweep_id, "status": sweep.manifest.get("status"),
                    "missing_points": sweep.missing_points, "rows": records}
        print(json.dumps(_jsonable(document), indent=2))
        return 0
    print(f"{sweep.sweep_id} ({sweep.manifest.get('status', '?')}, "
          f"{len(sweep.aggregated)} points)")
    with pd.option_context("display.width", 200, "display.max_columns", None,
                           "display.max_rows", None):
        print(summary_table(summary).to_string(index=False))
    if sweep.missing_points:
        print(f"missing points: {', '.join(sweep.missing_points)}")
    return 0


def _compare(before: Path, after: Path, threshold: float, as_json: bool,
             html: Path | None = None) -> int:
    a, b = load(before), load(after)
    table = compare_sweeps(a.points, b.points, threshold=threshold)
    verdicts = verdict_changes(a.points, b.points)
    regressions = table[table["regression"]]
    improvements = table[table["flagged"] & ~table["regression"]]
    worse = verdicts[verdicts["change"] == "worse"]
    comparable = comparable_cells(a.points, b.points)
    power = power_summary(table, threshold)
    if as_json:
        document = {"metrics": table.to_dict(orient="records"),
                    "verdicts": verdicts.to_dict(orient="records"),
                    "comparable_cells": comparable,
                    "power": power.to_dict(orient="records")}
        print(json.dumps(_jsonable(document), indent=2))
    else:
        _print_compare(a.sweep_id, b.sweep_id, table, verdicts, threshold)
        print(f"{len(regressions)} regression(s) and {len(improvements)} improvement(s) beyond "
              f"{threshold:.0%} and the noise; {len(worse)} cell(s) whose verdict got worse; "
              f"{comparable} comparable cell(s)")
        if not power.empty:
            print(power_sentence(power, threshold))
    status = 0
    if len(regressions) or len(worse):
        status = EXIT_REGRESSION
    elif comparable == 0 or (table.empty and verdicts.empty):
        if not as_json:
            print(f"nothing comparable: no (class, mix, users) cell trusted in both "
                  f"{a.sweep_id} and {b.sweep_id}")
        status = EXIT_NOTHING_COMPARABLE
    elif not power.empty and bool(power["underpowered"].any()):
        status = EXIT_UNDERPOWERED
    if html is not None:
        from analysis import compare_report  # matplotlib: imported only for the page

        written = compare_report.write(a, b, table, status, threshold, html)
        print(f"comparison report: {written}", file=sys.stderr)
    return status


def _print_compare(before: str, after: str, table: pd.DataFrame, verdicts: pd.DataFrame,
                   threshold: float) -> None:
    if not verdicts.empty:
        print(f"verdicts that changed ({before} -> {after}):")
        print(verdicts.to_string(index=False))
    if table.empty:
        return
    label = {(True, True): "REGRESSION", (True, False): "improvement"}
    shown = table.drop(columns=["p", "p_equivalence"]).assign(
        change=table["change"].map(lambda v: f"{v:+.1%}"),
        detectable=table["detectable"].map(relative_size),
        flagged=[label.get((bool(f), bool(r)), "") for f, r in
                 zip(table["flagged"], table["regression"], strict=True)],
    ).drop(columns=["regression"])
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(shown.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())  # numpy scalars
    return value


if __name__ == "__main__":
    sys.exit(main())
