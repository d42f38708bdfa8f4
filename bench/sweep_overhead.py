"""The sweep runner's own overhead: wall time against the sum of ramps and measured windows.

Runs a small real sweep (6 points: http,fast x 1,10,50 users, ramp 1 s, window 8 s, a fresh local
service per point) as a user would, `python -m scenarios.sweep`, into a temporary folder, and
prints the wall time, the sum of the ramps and windows asked for, the windows Locust really
measured, the settles as run (a Locust process opens its window only once its ramp has settled:
``window.settle.settle_s`` in run.json, which may take longer than the ramp asked), where the
rest went (start-up and calibration before the first point, Locust's processes beyond their
settle and window, the gaps between points, the end), and two ratios:

- wall / (ramps + windows asked): what the sweep costs against what was asked for;
- wall / (ramps as run + windows), a ramp as run being the longer of the ramp asked and the
  settle: the runner's own overhead, which must be at most 1.10. The settle is load the
  measurement needs, not the runner's; it is shown apart so that neither hides the other.

    .venv/bin/python -m bench.sweep_overhead [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.10
RAMP_S, DURATION_S = 1.0, 8.0
MATRIX = ["--user-classes", "http,fast", "--users", "1,10,50", "--mixes", "read-heavy",
          "--ramp", f"{RAMP_S:g}s", "--duration", f"{DURATION_S:g}s", "--processes", "1",
          "--repeats", "1"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the sweep here instead of a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        out = args.keep or Path(tmp)
        command = [sys.executable, "-m", "scenarios.sweep", "--out", str(out), *MATRIX]
        began, began_epoch = time.monotonic(), time.time()
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        wall = time.monotonic() - began
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            print(f"sweep failed with exit status {done.returncode}", file=sys.stderr)
            return 2
        sweep = (out / "latest").resolve()
        runs = [json.loads(p.read_text()) for p in sweep.glob("runs/*/run.json")]
    finals = [r for r in runs if r["final"]]
    asked = sum(r["params"]["ramp_s"] + r["params"]["duration_s"] for r in runs)
    measured = sum(r["window"]["seconds"] or 0.0 for r in runs)
    settles = [_settle_s(r) for r in runs]
    ramps_run = sum(max(r["params"]["ramp_s"], settle or 0.0)
                    for r, settle in zip(runs, settles, strict=True))
    run_load = ramps_run + sum(r["params"]["duration_s"] for r in runs)
    locust = sum(_seconds(r["started_at"], r["ended_at"]) for r in runs)
    starts = sorted(_epoch(r["started_at"]) for r in runs)
    ends = sorted(_epoch(r["ended_at"]) for r in runs)
    gaps = sum(start - end for start, end in zip(starts[1:], ends[:-1], strict=True))
    ratio, runner_ratio = wall / asked, wall / run_load
    load = os.getloadavg()
    print(f"load average at the end         {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"points run                      {len(finals)} ({len(runs)} Locust runs)")
    print(f"wall time of the sweep          {wall:7.2f} s")
    print(f"sum of ramps + windows asked    {asked:7.2f} s")
    print(f"sum of windows measured         {measured:7.2f} s")
    print(f"sum of settles as run           {sum(s or 0.0 for s in settles):7.2f} s  ("
          + " ".join("-" if s is None else f"{s:.2f}" for s in settles) + ")")
    print(f"sum of ramps as run + windows   {run_load:7.2f} s")
    print(f"sum of Locust process lifetimes {locust:7.2f} s")
    print(f"  before the first point        {starts[0] - began_epoch:7.2f} s  (start-up, the "
          f"first service, calibration)")
    print(f"  Locust beyond ramp + window   {locust - run_load:7.2f} s  (start, stop, reports)")
    print(f"  between the points            {gaps:7.2f} s")
    print(f"  after the last point          {wall - (ends[-1] - began_epoch):7.2f} s")
    print(f"overhead per run                {(wall - run_load) / len(runs):7.2f} s  (against "
          f"ramps as run + windows; {(wall - asked) / len(runs):.2f} s against those asked)")
    statuses = Counter(r["verdict"]["status"] for r in finals)
    print("verdicts                        "
          + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())))
    verdict = "PASS" if runner_ratio <= LIMIT else "FAIL"
    print(f"ratio wall / (ramps + windows asked)   {ratio:7.3f}")
    print(f"ratio wall / (ramps as run + windows)  {runner_ratio:7.3f}  (limit {LIMIT}) {verdict}")
    return 0 if runner_ratio <= LIMIT else 1


def _settle_s(run: dict[str, Any]) -> float | None:
    """The settle as run (s from spawning complete to the window's opening), if recorded."""
    window = run.get("window") or {}
    settle = window.get("settle") if isinstance(window, dict) else None
    value = settle.get("settle_s") if isinstance(settle, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


if __name__ == "__main__":
    sys.exit(main())
