"""Benchmarks of the analysis (``make bench-analysis``), measured side by side in one run.

1. Loading a 1,000,000-row Locust stats history with ``analysis.load_history`` against a plain
   ``pandas.read_csv`` of the same file (target: at most 2x). The file replicates the rows of a
   real Locust history CSV from the small sweep under tests/data/.
2. The report of a 48-point sweep (target: under 15 s), synthesised by copying the real run
   directories of tests/data/sweep under new point ids.
Everything is written to a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# This script is named like the package it measures: keep its own folder off the import path.
import pandas as pd

from analysis import load_history

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "tests" / "data" / "sweep"


def big_history(source: Path, rows: int, out: Path) -> Path:
    header, *lines = source.read_text().splitlines()
    lines = [line for line in lines if line]
    repeats = -(-rows // len(lines))
    with out.open("w") as handle:
        handle.write(header + "\n")
        body = "\n".join(lines) + "\n"
        for _ in range(repeats - 1):
            handle.write(body)
        handle.write("\n".join(lines[: rows - (repeats - 1) * len(lines)]) + "\n")
    return out


def best_and_median(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def bench_history(scratch: Path, rows: int, rounds: int) -> float:
    source = next(SOURCE.glob("runs/*/locust_stats_history.csv"))
    path = big_history(source, rows, scratch / "big_stats_history.csv")
    plain_rows = len(pd.read_csv(path))
    ours_rows = len(load_history(path))
    assert plain_rows == ours_rows == rows, (plain_rows, ours_rows, rows)
    plain: list[float] = []
    ours: list[float] = []
    for _ in range(rounds):  # alternate, so that machine noise hits both alike
        plain.append(best_and_median(lambda: pd.read_csv(path), 1)[0])
        ours.append(best_and_median(lambda: load_history(path), 1)[0])
    ratio = statistics.median(ours) / statistics.median(plain)
    size_mb = path.stat().st_size / 1e6
    print(f"history load: {rows:,} rows, {size_mb:.0f} MB, {rounds} alternating rounds")
    print(f"  pandas.read_csv        median {statistics.median(plain):6.2f} s  "
          f"best {min(plain):6.2f} s")
    print(f"  analysis.load_history  median {statistics.median(ours):6.2f} s  "
          f"best {min(ours):6.2f} s")
    print(f"  ratio (median)  {ratio:.2f}x   target <= 2.00x   "
          f"{'OK' if ratio <= 2 else 'MISSED'}")
    return ratio


def synthesise_sweep(out: Path, users: list[int], mixes: list[str], repeats: int) -> Path:
    manifest = json.loads((SOURCE / "manifest.json").read_text())
    sources: dict[str, list[Path]] = {}
    for run_json in sorted(SOURCE.glob("runs/*/run.json")):
        run = json.loads(run_json.read_text())
        if run.get("final"):
            sources.setdefault(run["params"]["user_class"], []).append(run_json.parent)
    sweep = out / "20261125T000000Z-bench48"
    points = []
    for user_class in ("http", "fast"):
        for mix in mixes:
            for index, count in enumerate(users):
                for repeat in range(1, repeats + 1):
                    point_id = f"{user_class}-{mix}-u{count:04d}-r{repeat}"
                    run_id = f"{point_id}-p1"
                    origin = sources[user_class][(index + repeat) % len(sources[user_class])]
                    target = sweep / "runs" / run_id
                    shutil.copytree(origin, target)
                    run = json.loads((target / "run.json").read_text())
                    run.update(point_id=point_id, run_id=run_id)
                    run["params"].update(users=count, mix=mix, repeat=repeat)
                    (target / "run.json").write_text(json.dumps(run))
                    points.append(point_id)
    manifest.update(sweep_id=sweep.name, points=points)
    manifest["matrix"].update(mixes=mixes, users=users, repeats=repeats)
    (sweep / "manifest.json").write_text(json.dumps(manifest))
    return sweep


def bench_report(scratch: Path) -> float:
    sweep = synthesise_sweep(scratch, [1, 5, 10, 25, 50, 100], ["read-heavy", "balanced"], 2)
    count = len(json.loads((sweep / "manifest.json").read_text())["points"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "analysis", "report", str(sweep)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"report failed: {result.stderr.strip()}")
    index = Path(result.stdout.strip().splitlines()[-1])
    print(f"report: {count} points, python -m analysis report (whole process, cold imports)")
    print(f"  {seconds:6.2f} s   target < 15 s   {'OK' if seconds < 15 else 'MISSED'}   "
          f"index.html {index.stat().st_size / 1e6:.1f} MB")
    print(f"  CPU time of the report process {cpu:.2f} s (wall time above includes waiting for "
          f"a CPU on a busy machine; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs)")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (SOURCE / "manifest.json").exists():
        print(f"{SOURCE}: missing; run tests/data/regenerate.sh", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as scratch:
        ratio = bench_history(Path(scratch), args.rows, args.rounds)
        seconds = bench_report(Path(scratch))
    return 0 if ratio <= 2 and seconds < 15 else 1


if __name__ == "__main__":
    sys.exit(main())
