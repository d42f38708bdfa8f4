"""A lognormal added delay, live: one short point through the runner, its proxy's own record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.load
def test_a_lognormal_delay_adds_its_mean_and_p95(tmp_path: Path) -> None:
    """FastHttpUser, 5 users, no think time, 4 s window (about 500-700 requests through the
    proxy in its life): the delays drawn come from the seeded stream, whose first 300-1,200
    draws have a mean of 44.2-46.2 ms and a p95 of 100.7-113.6 ms (runmodel.delays); the
    margins below add the p95's sampling noise at ~500 draws (about 7%) and the timers'
    lateness (about 1 ms here, more on a busy machine)."""
    result = subprocess.run(
        [sys.executable, "-m", "scenarios.sweep", "--out", str(tmp_path), "--repeats", "1",
         "--user-classes", "fast", "--users", "5", "--mixes", "read-only", "--ramp", "1s",
         "--duration", "4s", "--rtt-delay", "lognormal:mean=44ms:p95=110ms",
         "--min-requests", "10"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    sweep_dir = (tmp_path / "latest").resolve()
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["points"] == ["fast-read-only-rttln44p110-u0005-r1"]
    applied = manifest["target"]["rtt_delay"]["lognormal:44:110"]
    assert applied["sigma"] == pytest.approx(0.7105, abs=1e-3) and applied["seed"] == 42
    run = json.loads((sweep_dir / "runs" / "fast-read-only-rttln44p110-u0005-r1-p1" /
                      "run.json").read_text())
    assert run["params"]["rtt_delay"] == "lognormal:44:110"
    block = run["rtt_delay"]
    assert "stats_error" not in block, block
    assert block["distribution"] == applied
    drawn, added, late = block["intended_ms"], block["added_ms"], block["lateness_ms"]
    print(f"delay drawn {drawn}, added {added}, lateness {late}, proxy CPU {block['cpu_s']} s "
          f"({block['cpu_cores']} cores, busiest {block['cpu_cores_busiest']}), client-seen "
          f"mean {run['requests']['mean_ms']:.2f} p95 {run['requests']['p95_ms']} ms, "
          f"{run['verdict']['status']} {run['verdict']['causes']}")
    assert drawn["count"] >= 300, block
    assert 40 <= drawn["mean"] <= 49 and 94 <= drawn["p95"] <= 126, drawn
    assert 40 <= added["mean"] <= 52 and 94 <= added["p95"] <= 130, added
    assert added["mean"] >= drawn["mean"] and late["mean"] >= 0
    assert block["cpu_s"] > 0 and 0 < block["cpu_cores"] < 0.9, block
    # every request waited its added delay: the client-seen mean holds it and the service's
    # loopback time (a few ms), no more
    mean = run["requests"]["mean_ms"]
    assert added["mean"] * 0.95 <= mean <= added["mean"] + 15, (mean, added)
    evidence = run["verdict"]["evidence"]["delay_proxy"]
    assert evidence["lateness_mean_ms"] == late["mean"]
    assert not {"delay-proxy-cpu", "delay-proxy-late"} & set(run["verdict"]["causes"]), run[
        "verdict"]["reasons"]
