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
from analysis.stats import summarise
from analysis.tables import summary_table

EXIT_CHANGED = 1
EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Analyse a load-test sweep (results/README.md) or plain Locust --csv output.",
        epilog="Exit status: 0 fine, 1 compare found a change beyond the threshold and the "
               "noise, 2 bad input (one line on stderr names the file and the problem).")
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="a table for a sweep or a Locust CSV prefix")
    summary.add_argument("path", type=Path, help="sweep directory or Locust --csv prefix")
    summary.add_argument("--json", action="store_true", help="machine-readable output")
    report = commands.add_parser("report", help="write SWEEP_DIR/report/index.html")
    report.add_argument("sweep", type=Path, help="sweep directory, e.g. results/latest")
    report.add_argument("--slo-ms", type=float, default=100.0, help="p95 objective (default 100)")
    compare = commands.add_parser("compare", help="regression table of sweep B against A")
    compare.add_argument("before", type=Path, help="the baseline sweep (A)")
    compare.add_argument("after", type=Path, help="the sweep to judge (B)")
    compare.add_argument("--threshold", type=float, default=0.10,
                         help="relative change that counts (default 0.10 = 10%%)")
    compare.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "summary":
            return _summary(args.path, args.json)
        if args.command == "report":
            from analysis.report import render  # matplotlib: imported only for the report

            print(render(args.sweep, args.slo_ms))
            return 0
        return _compare(args.before, args.after, args.threshold, args.json)
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


def _compare(before: Path, after: Path, threshold: float, as_json: bool) -> int:
    a, b = load(before), load(after)
    table = compare_sweeps(a.points, b.points, threshold=threshold)
    flagged = table[table["flagged"]]
    if as_json:
        print(json.dumps(_jsonable(table.to_dict(orient="records")), indent=2))
    elif table.empty:
        print(f"no (class, mix, users) cell with valid points in both {a.sweep_id} and "
              f"{b.sweep_id}")
    else:
        shown = table.assign(change=table["change"].map(lambda v: f"{v:+.1%}"),
                             flagged=table["flagged"].map({True: "CHANGED", False: ""}))
        with pd.option_context("display.width", 200, "display.max_rows", None):
            print(shown.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
        print(f"{len(flagged)} change(s) beyond {threshold:.0%} and the noise "
              f"({int((flagged['direction'] == 'regression').sum())} regression(s))")
    return EXIT_CHANGED if len(flagged) else 0


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
