"""Live: ``--find-capacity`` on the envelope service lands within 15% of where a sweep crosses
the SLO.

One capacity search (FastHttpUser, read-heavy, a 0.05 vCPU envelope with a 5 ms period, so that
a throttled request waits at most ~5 ms for the next slice, p95 < 100 ms on the latency
from the intended start; 4 s windows, 10% resolution, the deciding rates run once, at most 7
runs), then a plain sweep at the capacity ÷ 1.15 and × 1.15: the SLO holds (nothing dropped)
at the first and fails at the second, so the sweep's SLO crossing lies within 15% of the
capacity found. Each run is a full point (a fresh service, 0.5 s ramp, 4 s window: the shortest
the verdict accepts) and each sweep has its preflight, so this costs about a minute of wall
time; the margins are the claim's. The SLO is on p95: on 2026-12-04 this envelope's p99 varied
from run to run by 4x at the same rate below saturation (38 ms at 300/s, 145 ms at 261/s, both
valid), so a p99 crossing moved by more than 15% between runs; the p95 crossed between 300 and
375/s in every run (scenarios/README.md, "Capacity under an SLO").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.load

REPO = Path(__file__).resolve().parents[2]
COMMON = ("--user-classes", "fast", "--mixes", "read-heavy", "--service-cpu", "0.05",
          "--cpu-period", "5ms", "--allow-tiny-envelope", "--duration", "4s", "--ramp", "0.5s",
          "--seed-products", "100", "--slo", "p95<100ms")
MARGIN = 1.15


def sweep(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    result = subprocess.run([sys.executable, "-m", "scenarios.sweep", *COMMON, "--out",
                             str(out), *args], cwd=REPO, capture_output=True, text=True,
                            timeout=240)
    made = [path for path in out.iterdir() if path.is_dir() and path.name != "latest"]
    assert len(made) == 1, result.stderr[-3000:]
    return result, made[0]


def intended(run: dict[str, Any]) -> tuple[float, float]:
    figures = run["open_model"]
    return float(figures["intended_p95_ms"]), float(figures["dropped_share"])


def test_capacity_search_lands_within_15_percent_of_the_slo_crossing(tmp_path: Path) -> None:
    result, found = sweep(tmp_path / "search", "--find-capacity", "--arrival-rate", "300",
                          "--capacity-resolution", "10%", "--capacity-repeats", "1",
                          "--capacity-max-runs", "7")
    document = json.loads((found / "capacity.json").read_text())
    search = document["searches"][0]
    print(json.dumps({k: v for k, v in search.items() if k != "trials"}, indent=1))
    for trial in search["trials"]:
        print(trial["rate"], trial["phase"], trial["passed"], trial["failed_on"],
              trial["figures"]["intended_p99_ms"], trial["figures"]["achieved_rps"])
    low, high = search["interval"]["low"], search["interval"]["high"]
    contended = [t["run_id"] for t in search["trials"]
                 if "other processes took" in " ".join(t["reasons"])]
    # the search's answer is decided by a busy neighbour when it did not resolve, or when the
    # lowest failing rate failed neither the SLO nor on drops (only the generator's verdict)
    neighbour = not search["resolved"] or not {"slo", "dropped"} & set(
        search["failing_rate_failed_on"])
    if neighbour and contended:  # as test_verdict_e2e: name the foreign CPU
        pytest.skip(f"other jobs kept this machine's CPUs busy during {', '.join(contended)} "
                    f"(verdict generator-bound, contention): the search stopped "
                    f"{search['stopped']} and says nothing about the service")
    assert search["interval"]["kind"] == "bracket" and low is not None and high is not None, \
        result.stderr[-3000:]
    assert low < high and (high - low) <= 0.10 * low + 1e-9 and search["resolved"]
    manifest = json.loads((found / "manifest.json").read_text())
    assert manifest["capacity"]["file"] == "capacity.json"
    assert len(manifest["points"]) == search["runs"] == len(search["trials"])
    for run_id in search["deciding_runs"]:
        assert (found / "runs" / run_id / "run.json").is_file()
    assert f"capacity {low:g}/s" in result.stderr

    below, above = round(low / MARGIN), round(low * MARGIN)
    _check, dense = sweep(tmp_path / "dense", "--arrival-rate", f"{below},{above}",
                          "--repeats", "1")
    runs = {json.loads(p.read_text())["params"]["arrival_rate"]: json.loads(p.read_text())
            for p in dense.glob("runs/*/run.json")}
    p95_below, dropped_below = intended(runs[float(below)])
    p95_above, dropped_above = intended(runs[float(above)])
    print({"capacity": low, "below": (below, p95_below, dropped_below),
           "above": (above, p95_above, dropped_above)})
    assert p95_below < 100 and dropped_below <= 0.001  # the SLO holds 15% below ...
    assert p95_above >= 100 or dropped_above > 0.001  # ... and fails 15% above
