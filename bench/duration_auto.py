"""``--duration auto`` on a steady point stops within twice the minimum window (issue 20).

Runs a real sweep of one steady point, repeated (FastHttpUser, 10 users paced at 50 requests/s
each: 500 requests/s, far below what this machine's service and generator can do), with
``--duration auto:MIN:MAX``, as a user would (``python -m scenarios.sweep``), and prints for
each run the settle, the window as chosen, why it stopped, the throughput's 95% batch-means
interval (half-width, relative) and the ratio chosen / minimum window. It passes when every
run stopped by convergence (not at MAX) within ``LIMIT`` (2) times the minimum window.

    .venv/bin/python -m bench.duration_auto [--repeats 3] [--min 10] [--max 40] [--keep DIR]

On a shared machine, run it under the team's lock: ``flock /tmp/loadbench-load.lock make
bench-duration-auto``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
LIMIT = 2.0
POINT = ["--user-classes", "fast", "--users", "10", "--pacing", "rate:50", "--mixes",
         "read-heavy", "--ramp", "1s", "--processes", "1", "--seed-products", "200"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min", type=float, default=10.0, help="the minimum window, s")
    parser.add_argument("--max", type=float, default=40.0, help="the longest window, s")
    parser.add_argument("--keep", type=Path, help="write the sweep here instead of a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="duration-auto-bench-") as tmp:
        out = args.keep or Path(tmp)
        command = [sys.executable, "-m", "scenarios.sweep", "--out", str(out), *POINT,
                   "--duration", f"auto:{args.min:g}s:{args.max:g}s",
                   "--repeats", str(args.repeats)]
        began = time.monotonic()
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=120 + args.repeats * (args.max + 30))
        wall = time.monotonic() - began
        if done.returncode not in (0, 1):
            print(done.stderr[-3000:], file=sys.stderr)
            print(f"sweep failed with exit status {done.returncode}", file=sys.stderr)
            return 2
        sweep = (out / "latest").resolve()
        runs = sorted((json.loads(p.read_text()) for p in sweep.glob("runs/*/run.json")),
                      key=lambda r: r["started_at"])
    return report(runs, args.min, wall)


def report(runs: list[dict[str, Any]], min_s: float, wall: float) -> int:
    """Print one line per run and the verdict; 0 when every run passed, else 1."""
    print(f"--duration auto on a steady point (fast, 10 users x rate:50 = 500 req/s), minimum "
          f"window {min_s:g}s, limit {LIMIT:g}x; sweep wall {wall:.1f}s")
    print(f"{'run':<34} {'settle s':>8} {'window s':>8} {'stopped by':>10} {'rps':>8} "
          f"{'±rps':>7} {'±rel':>6} {'ratio':>6}  status")
    failures = 0
    for run in runs:
        window = run["window"]
        duration = window.get("duration") or {}
        settle = window.get("settle") or {}
        interval = duration.get("interval") or {}
        chosen = duration.get("seconds")
        ratio = chosen / min_s if chosen is not None else None
        passed = (duration.get("stopped_by") == "converged" and ratio is not None
                  and ratio <= LIMIT)
        failures += not passed
        print(f"{run['run_id']:<34} {settle.get('settle_s', float('nan')):>8.2f} "
              f"{chosen if chosen is not None else float('nan'):>8.2f} "
              f"{duration.get('stopped_by', '-'):>10} "
              f"{interval.get('mean_rps', float('nan')):>8.1f} "
              f"{interval.get('half_width_rps', float('nan')):>7.1f} "
              f"{interval.get('relative_half_width', float('nan')):>6.3f} "
              f"{ratio if ratio is not None else float('nan'):>6.2f}  "
              f"{run['verdict']['status']}")
    if not runs:
        print("no run recorded")
        return 1
    label = (runs[0]["window"].get("duration") or {}).get("interval", {}).get("interval", "")
    print(f"interval: {label}; target ±5% of the mean")
    print(f"{'PASS' if not failures else 'FAIL'}: {len(runs) - failures} of {len(runs)} runs "
          f"converged within {LIMIT:g}x the minimum window")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
