"""The service's CPU envelope for real (about 85 s): `--service-cpu` puts the local service in a
cgroup CPU quota that the kernel enforces (throttling counted, less throughput than unlimited),
and, with the service saturating first, wrk and a Locust point agree on its capacity."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from analysis.loading import load_sweep
from bench.wrk import run_wrk
from scenarios.runner.generator import LocustForkServer
from scenarios.runner.target import (
    CpuEnvelope,
    CpuLimitError,
    seed_pipelined,
    start_service,
    throttling,
)
from scenarios.sweep import main

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = 1000


def sweep(out: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scenarios.sweep", "--out", str(out), "--repeats",
                           "1", *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.mark.load
def test_the_quota_is_applied_counted_and_lowers_throughput(tmp_path: Path) -> None:
    result = sweep(tmp_path, "--user-classes", "fast", "--users", "10", "--mixes", "read-only",
                   "--ramp", "1s", "--duration", "3s", "--service-cpu", "0.1,none",
                   "--min-requests", "10")
    assert result.returncode in (0, 1), result.stderr[-3000:]
    sweep_dir = (tmp_path / "latest").resolve()
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["points"] == ["fast-read-only-cpu0.1-u0010-r1", "fast-read-only-u0010-r1"]
    limit = manifest["target"]["cpu_limit"]
    assert limit["cgroup"] in ("v1", "v2") and limit["period_us"] == 100_000
    # the runner's own sampling and scraping stay off the generator's CPUs
    placement = manifest["placement"]
    if placement["generator_cpus"] and placement["runner_cpus"]:
        assert not set(placement["runner_cpus"]) & set(placement["generator_cpus"])
    assert manifest["matrix"]["service_cpu"] == ["0.1", "none"]
    assert not Path(limit["path"]).exists()  # removed when the sweep ended
    runs = {point: json.loads((sweep_dir / "runs" / f"{point}-p1" / "run.json").read_text())
            for point in manifest["points"]}
    limited, free = runs["fast-read-only-cpu0.1-u0010-r1"], runs["fast-read-only-u0010-r1"]
    assert limited["params"]["service_cpu"] == "0.1" and limited["params"]["service_vcpu"] == 0.1
    assert limited["cpu_limit"]["quota_us"] == 10_000  # read back from the cgroup
    assert limited["cpu_limit"]["period_us"] == limited["cpu_limit"]["requested_period_us"]
    counted = limited["cpu_limit"]["throttling"]
    # a 3 s window holds about 30 periods of 100 ms; a saturated service is throttled in many
    assert counted["nr_periods"] > 20 and counted["nr_throttled"] > 0
    assert counted["throttled_ms"] > 0
    assert free["cpu_limit"]["quota_us"] is None and free["cpu_limit"]["throttling"][
        "nr_throttled"] == 0
    assert limited["requests"]["failures"] == 0 and free["requests"]["failures"] == 0
    assert limited["requests"]["rps"] < free["requests"]["rps"], (limited["requests"],
                                                                  free["requests"])
    rows = load_sweep(sweep_dir).aggregated
    assert sorted(rows["service_cpu"]) == ["0.1 vCPU", "none"]
    assert rows["throttled_ratio"].max() > 0


def _cgroup_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cgroup").read_text()


@pytest.mark.load
def test_only_the_service_side_joins_the_envelope(tmp_path: Path) -> None:
    """The service joins the envelope's cgroup when its point starts (admitted with its process
    tree), not while the point before it runs; Locust (started while the envelope is active)
    never does: a generator inside the service's quota measures its own throttling."""
    envelope = CpuEnvelope()
    envelope.activate()
    service = start_service(tmp_path / "service.log", 1, None)
    fork_server = LocustForkServer()
    try:
        name = envelope.path.name
        assert name not in _cgroup_of(service.process.pid)  # a spare runs unlimited
        assert service.process.pid in envelope.admit(service.process.pid)
        assert name in _cgroup_of(service.process.pid)
        assert name not in _cgroup_of(fork_server.process.pid)
    finally:
        fork_server.close()
        service.stop()
        envelope.close()


def test_a_small_limit_gets_a_longer_period_not_more_cpu() -> None:
    """The kernel's smallest quota is 1 ms: at the 100 ms default, 0.005 vCPU would need 0.5 ms,
    so the period grows (200 ms) instead of the quota (which would be 0.01 vCPU); and the
    period and quota applied are read back from the cgroup."""
    envelope = CpuEnvelope()
    try:
        assert (envelope.period_for(0.25), envelope.quota_us(0.25)) == (100_000, 25_000)
        assert (envelope.period_for(0.005), envelope.quota_us(0.005)) == (200_000, 1_000)
        envelope.set_limit(0.005)
        if envelope.version == "v1":
            assert (envelope.path / "cpu.cfs_period_us").read_text().strip() == "200000"
            assert (envelope.path / "cpu.cfs_quota_us").read_text().strip() == "1000"
        else:
            assert (envelope.path / "cpu.max").read_text().split() == ["1000", "200000"]
        assert envelope.applied() == {"period_us": 200_000, "quota_us": 1_000}
        envelope.set_limit(None)
        assert envelope.applied()["quota_us"] is None
    finally:
        envelope.close()


def test_host_skips_the_envelope_with_a_note(tmp_path: Path) -> None:
    result = sweep(tmp_path, "--host", "http://127.0.0.1:9", "--service-cpu", "fargate-256",
                   "--rtt-delay", "none,20", "--users", "1", timeout=60)
    assert result.returncode == 2  # no service there: the preflight fails, after the note
    assert "--service-cpu and --rtt-delay are a local emulation; skipped" in result.stderr


@pytest.mark.parametrize(("args", "named"), [
    (("--service-cpu", "lots"), "--service-cpu"),
    (("--service-cpu", "automatic"), "--service-cpu"),
    (("--service-cpu", "0"), "--service-cpu"),
    (("--service-cpu", "0.25", "--cpu-period", "2s"), "--cpu-period"),
    (("--rtt-delay", "5:10"), "--rtt-delay"),
    (("--rtt-delay", "soon"), "--rtt-delay"),
    (("--rtt-delay", "none,10,5:10"), "--rtt-delay"),
])
def test_bad_envelope_settings_are_one_line_and_exit_2(
        tmp_path: Path, args: tuple[str, ...], named: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In process: refused before anything starts (test_host_skips_... runs the command line)."""
    assert main(["--out", str(tmp_path), "--users", "1", *args]) == 2
    stderr = capsys.readouterr().err
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], stderr
    assert not list(tmp_path.iterdir())  # nothing that looks like a result


@pytest.mark.load
def test_rtt_delay_is_a_dimension_that_adds_its_delay_per_point(tmp_path: Path) -> None:
    result = sweep(tmp_path, "--user-classes", "fast", "--users", "2", "--mixes", "read-only",
                   "--ramp", "1s", "--duration", "2s", "--rtt-delay", "none,20:4",
                   "--min-requests", "10")
    assert result.returncode in (0, 1), result.stderr[-3000:]
    sweep_dir = (tmp_path / "latest").resolve()
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["points"] == ["fast-read-only-u0002-r1", "fast-read-only-rtt20j4-u0002-r1"]
    assert manifest["matrix"]["rtt_delay"] == ["none", "20:4"]
    plain, delayed = (json.loads((sweep_dir / "runs" / f"{point}-p1" / "run.json").read_text())
                      for point in manifest["points"])
    assert plain["params"]["rtt_delay"] == "none" and "rtt_delay" not in plain
    assert delayed["params"]["rtt_delay"] == "20:4"
    block = delayed["rtt_delay"]
    assert block["delay_ms"] == 20 and block["jitter_ms"] == 4
    assert block["cpus"] == delayed["placement"]["service_cpus"]
    for run in (plain, delayed):
        assert run["requests"]["failures"] == 0 and run["requests"]["total"] > 0
    # every delayed request waits 16-24 ms in the proxy (20 on average) on top of its loopback
    # time; the plain point, on the same machine, has only the loopback time
    fast, slow = plain["requests"], delayed["requests"]
    assert slow["p50_ms"] >= fast["p50_ms"] + 15 and slow["mean_ms"] >= 18, (fast, slow)
    with pytest.raises(OSError):  # the proxy was stopped with its point
        urllib.request.urlopen(block["proxy_url"] + "/health", timeout=2)
    # the analysis keeps the two points apart and names the delay
    points = load_sweep(sweep_dir).aggregated
    assert dict(zip(points["point_id"], points["rtt_delay"], strict=True)) == {
        "fast-read-only-u0002-r1": "none", "fast-read-only-rtt20j4-u0002-r1": "20±4 ms"}


def _locust_point(out: Path, url: str, users: int, cpus: list[int]) -> dict[str, Any]:
    result = sweep(out, "--host", url, "--generator-cpus", ",".join(map(str, cpus)),
                   "--user-classes", "fast", "--weights", "list_products=1",
                   "--users", str(users), "--ramp", "1s", "--duration", "4s")
    assert result.returncode in (0, 1), result.stderr[-3000:]
    run_json = next((out / "latest" / "runs").glob("*/run.json"))
    run: dict[str, Any] = json.loads(run_json.read_text())
    return run


@pytest.mark.load
def test_wrk_and_locust_agree_on_a_service_that_saturates_first(tmp_path: Path) -> None:
    """0.05 vCPU for the service (about 1k requests/s here): both generators are far from their
    own limits, so both must see the same capacity (within 15%, this machine's run-to-run
    resolution, plus the reference's own drift) at the same concurrency on the
    same service. 200 users: far more than the requests the service answers in one quota slice,
    so its queue never empties during a burst."""
    try:
        # The 20 ms period this agreement was established at (study v2's cross-check). At the
        # 100 ms default the same test measured Locust at 0.855 of wrk on 2026-12-04 (a valid
        # Locust point, 661 against 763 and 784 requests/s, `make test` in a fresh clone): a
        # long period lets the service's cost per request (higher for Locust's requests, which
        # arrive spread out, than for wrk's back-to-back ones) decide its throughput. That is an
        # open finding (issue 20), not a property this test may hide: see scenarios/README.md.
        envelope = CpuEnvelope(period_ms=20.0)
    except CpuLimitError as exc:
        pytest.fail(str(exc))
    envelope.activate()
    cpus = sorted(os.sched_getaffinity(0))
    service = start_service(tmp_path / "service.log", 1, cpus[:1])
    envelope.admit(service.process.pid)
    users = 200
    try:
        service.wait_healthy()
        seed_pipelined(service.url, SEED)
        envelope.set_limit(0.05)
        # a warm-up run, not counted: the first run on a fresh service was the slower one in
        # every bracket seen on 2026-12-04 (646/776, 712/840, 482/620 requests/s), and after a
        # 2 s warm-up still on 2026-12-05 (862 then 1137 and 1157; 391 then 783 and 910)
        run_wrk(f"{service.url}/products", seconds=4, connections=users, cpus=cpus[1:] or cpus)
        # wrk, Locust, wrk, Locust, wrk: each Locust run between two wrk runs (the Locust
        # points are judged at default thresholds; only valid ones are compared)
        before = envelope.counters()
        wrk_rps = [_wrk_rps(service.url, users, cpus)]
        locust_runs = []
        for attempt in range(2):
            locust_runs.append(_locust_point(tmp_path / f"locust-{attempt}", service.url, users,
                                             cpus[1:] or cpus))
            wrk_rps.append(_wrk_rps(service.url, users, cpus))
        counted = throttling(before, envelope.counters())
        assert counted is not None and counted["nr_throttled"] > 0  # the service saturated
    finally:
        service.stop()
        envelope.close()
    valid = [run for run in locust_runs if run["verdict"]["status"] == "valid"]
    if not valid:
        pytest.skip("the Locust point was " + ", ".join(
            f"{run['verdict']['status']} ({'; '.join(run['verdict']['reasons'])})"
            for run in locust_runs) + ": agreement is claimed for valid points")
    # The service in this envelope drifts with the shared machine: one test on 2026-12-05 read
    # wrk at 523 to 957 requests/s, and one Locust run against two wrk runs gave Locust/wrk
    # from 0.53 to 1.32 (a fresh-clone CI run failed on it). So the reference is the median of
    # three wrk runs around the Locust runs, the Locust figure the mean of its valid runs, and
    # the tolerance widens by half the wrk runs' range. Its base is what this machine resolves
    # from one run to the next, not the study's 10%.
    wrk_median = statistics.median(wrk_rps)
    locust_rps = statistics.fmean(float(run["requests"]["rps"]) for run in valid)
    spread = (max(wrk_rps) - min(wrk_rps)) / wrk_median
    tolerance = 0.15 + spread / 2
    print(f"0.05 vCPU, {users} users: Locust FastHttpUser {locust_rps:.0f} requests/s "
          f"({len(valid)} valid runs), wrk {', '.join(f'{r:.0f}' for r in wrk_rps)}: "
          f"{locust_rps / wrk_median:.3f}, tolerance {tolerance:.3f}")
    assert abs(locust_rps / wrk_median - 1) <= tolerance, (locust_rps, wrk_rps, tolerance)


def _wrk_rps(url: str, users: int, cpus: list[int]) -> float:
    """wrk's requests/s over 3 s on the list of products, on the generator's CPUs."""
    return run_wrk(f"{url}/products", seconds=3, connections=users,
                   cpus=cpus[1:] or cpus).requests_per_s


@pytest.mark.load
def test_auto_sizes_the_envelope_from_probes_and_records_them(tmp_path: Path) -> None:
    """`--service-cpu auto` probes each class on this machine and picks the vCPUs at which the
    service saturates while Locust uses at most 40% of a core; the figures are in the manifest
    and the chosen size is the point's envelope. The points after the sizing only show that
    envelope applied and hit (their figures are not asserted): 1 s windows."""
    result = sweep(tmp_path, "--user-classes", "http,fast", "--users", "10", "--mixes",
                   "read-only", "--ramp", "1s", "--duration", "1s", "--service-cpu", "auto",
                   "--min-requests", "10")
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert "--service-cpu auto = " in result.stderr
    sweep_dir = (tmp_path / "latest").resolve()
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    sizing = manifest["target"]["cpu_limit_auto"]
    probes = sizing["probes"]
    assert set(probes) == {"http/read-only", "fast/read-only"}
    # the service's cost per request is the mix's lowest over the classes (the busiest service)
    lowest = min(probe["service_cpu_ms_per_request"] for probe in probes.values())
    for probe in probes.values():
        assert probe["requests"] >= 50
        assert probe["service_cpu_ms_per_request_used"] == lowest
        assert probe["vcpu_at_share"] == pytest.approx(
            0.4 * lowest / probe["generator_cpu_ms_per_request"], rel=0.01, abs=1e-4)
    # HttpUser costs the generator more per request than FastHttpUser: it is the tightest
    assert (probes["http/read-only"]["generator_cpu_ms_per_request"]
            > probes["fast/read-only"]["generator_cpu_ms_per_request"])
    assert sizing["tightest"] == "http/read-only"
    # issue 20: the choice is made under the quota it sizes (the first round only guesses,
    # unlimited), with the period and quota read back from the cgroup
    rounds = sizing["rounds"]
    assert rounds[0]["probed_vcpu"] is None and sizing["under_quota"] and len(rounds) >= 2
    for step in rounds[1:]:
        assert step["period_us"] == 100_000
        assert step["quota_us"] == max(1000, round(step["probed_vcpu"] * 100_000))
    assert rounds[-1]["vcpu"] == sizing["vcpu"] and rounds[-1]["probes"] == probes
    assert 0.5 * probes["http/read-only"]["vcpu_at_share"] <= sizing["vcpu"] <= probes[
        "http/read-only"]["vcpu_at_share"]
    assert manifest["matrix"]["service_cpu"] == [sizing["label"]]
    run = json.loads(next((sweep_dir / "runs").glob("fast-*/run.json")).read_text())
    assert run["params"]["service_vcpu"] == sizing["vcpu"] == float(sizing["label"])
    assert run["cpu_limit"]["throttling"]["nr_throttled"] > 0  # the service hit its envelope


def test_a_quota_too_small_for_a_batch_of_requests_is_named_with_the_smallest_allowed() -> None:
    from scenarios.runner import MIN_BATCH, tiny_envelopes

    # 0.1 ms of service CPU per request: 25 requests need 2.5 ms of each 100 ms period
    tiny = tiny_envelopes([0.01, 0.02, 0.025, 0.25], 100.0, 0.1)
    assert [t["vcpu"] for t in tiny] == [0.01, 0.02]
    assert all(t["smallest_vcpu"] == 0.025 for t in tiny)
    assert tiny[0]["requests_per_period"] == 10.0 and MIN_BATCH == 25
    # the kernel's 1 ms minimum quota lengthens the period of a tiny vCPU: still too small
    (tiny_period,) = tiny_envelopes([0.005], 100.0, 0.1)
    assert tiny_period["period_us"] == 200_000 and tiny_period["quota_us"] == 1_000


@pytest.mark.load
def test_a_tiny_envelope_is_refused_in_one_line_unless_allowed(tmp_path: Path) -> None:
    """The smallest quota the kernel takes is 1 ms, so an envelope is refusable only where a
    request costs over 1/25 ms: the read-heavy mix's fast reads measured 0.046 ms here and once
    0.04 (2026-12-05, a CI run: it ran, not refused); the write-heavy mix's 0.064-0.067 ms
    stand clear of the bound."""
    result = sweep(tmp_path, "--service-cpu", "0.01", "--users", "1", "--mixes", "write-heavy",
                   "--user-classes", "fast", "--duration", "2s", timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = [x for x in result.stderr.splitlines() if "error" in x]
    assert "--service-cpu 0.01" in line and "smallest envelope allowed is" in line
    assert "--allow-tiny-envelope" in line and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*/runs/*/run.json"))  # nothing that looks like a result
