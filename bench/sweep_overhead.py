"""The sweep runner's own overhead: wall time against the sum of ramps and measured windows.

Runs a small real sweep (6 points: http,fast x 1,10,50 users, ramp 1 s, window 8 s, a fresh local
service per point) as a user would, `python -m scenarios.sweep`, into a temporary folder, and
prints the wall time, the sum of the ramps and windows asked for, the windows Locust really
measured, and the ratio wall / (ramps + windows), which must be at most 1.15.

    .venv/bin/python -m bench.sweep_overhead [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.15
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
        began = time.monotonic()
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
    locust = sum(_seconds(r["started_at"], r["ended_at"]) for r in runs)
    ratio = wall / asked
    print(f"points run                      {len(finals)} ({len(runs)} Locust runs)")
    print(f"wall time of the sweep          {wall:7.2f} s")
    print(f"sum of ramps + windows asked    {asked:7.2f} s")
    print(f"sum of windows measured         {measured:7.2f} s")
    print(f"sum of Locust process lifetimes {locust:7.2f} s")
    print(f"overhead per run                {(wall - asked) / len(runs):7.2f} s")
    statuses = Counter(r["verdict"]["status"] for r in finals)
    print("verdicts                        "
          + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())))
    verdict = "PASS" if ratio <= LIMIT else "FAIL"
    print(f"ratio wall / (ramps + windows)  {ratio:7.3f}  (limit {LIMIT}) {verdict}")
    return 0 if ratio <= LIMIT else 1


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


if __name__ == "__main__":
    sys.exit(main())
