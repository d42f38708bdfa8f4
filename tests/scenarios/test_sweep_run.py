"""The sweep runner for real: headless Locust against the real service, ~3 s per point.

Each test runs `python -m scenarios.sweep` as a subprocess (as a user would) into tmp_path.
About 60-90 s for the module on this 2-core machine.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from analysis.loading import load_sweep
from analysis.tables import latency_sides_table
from scenarios.runner.target import seed_pipelined
from scenarios.seeding import seed_products
from tests.conftest import without_calibration_cache
from tests.processes import free_port

# Every test here runs live load (each marked `load`) but the preflight's and the seeding's.

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = ["--ramp", "1s", "--duration", "2s", "--mixes", "read-heavy", "--seed-products", "50",
        "--repeats", "1"]
CONTRACT_FILES = ("run.json", "locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv",
                  "locust_exceptions.csv", "locust.json", "locust.html", "locust.log", "cpu.csv")
VERDICTS = {"valid", "generator-bound", "sut-errors", "too-few-samples", "failed", "interrupted",
            "inconsistent"}
LONGER = ["--duration", "4s"]  # enough evidence (3 whole seconds) for a verdict past too-few


def sweep_command(out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "scenarios.sweep", "--out", str(out), *TINY, *args]


def run_sweep(out: Path, *args: str, timeout: float = 120,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(sweep_command(out, *args), cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env)


def start_sweep(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(sweep_command(out, *args), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def the_sweep(out: Path) -> Path:
    return (out / "latest").resolve()


def runs(sweep: Path) -> dict[str, dict[str, Any]]:
    return {p.parent.name: json.loads(p.read_text()) for p in sweep.glob("runs/*/run.json")}


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def descendants(pid: int) -> list[psutil.Process]:
    """The runner's children: the services, the Locust fork server and the Locust processes."""
    return psutil.Process(pid).children(recursive=True)


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.load
def test_layout_schema_and_evidence(tmp_path: Path) -> None:
    # calibrated here, not reused from an earlier sweep of the session (tests/conftest.py)
    done = run_sweep(tmp_path, "--user-classes", "http,fast", "--users", "2",
                     "--slo", "p95<60s,errors<50%,p90<60s,p99.9<60s",
                     env=without_calibration_cache())
    assert done.returncode in (0, 1), done.stderr
    sweep = the_sweep(tmp_path)
    assert (tmp_path / "latest").is_symlink() and sweep.parent == tmp_path.resolve()
    manifest = json.loads((sweep / "manifest.json").read_text())
    assert manifest["schema_version"] == 2 and manifest["status"] == "complete"
    assert manifest["sweep_id"] == sweep.name and sweep.name.endswith("-sweep")
    assert manifest["points"] == ["http-read-heavy-u0002-r1", "fast-read-heavy-u0002-r1"]
    matrix = manifest["matrix"]
    assert matrix["user_classes"] == ["http", "fast"] and matrix["users"] == [2]
    assert matrix["ramp_s"] == 1.0 and matrix["duration_s"] == 2.0
    assert matrix["mix_weights"]["read-heavy"]["get_product"] == 80
    assert matrix["pacing"] == {"kind": "none"} and matrix["processes"] == 1
    assert manifest["target"]["kind"] == "local"
    assert isinstance(manifest["target"]["service_version"], str)
    assert manifest["placement"]["cpu_count"] == len(os.sched_getaffinity(0))
    assert len(manifest["code"]["git_revision"]) == 40
    assert manifest["versions"]["locust"].startswith("2.")
    assert manifest["machine"]["cpu_count"] >= 1 and manifest["machine"]["memory_bytes"] > 0
    assert manifest["created_at"].endswith("Z") and manifest["finished_at"].endswith("Z")
    assert (sweep / "sweep.log").read_text().count("final True") == 2

    all_runs = runs(sweep)
    assert sorted(all_runs) == ["fast-read-heavy-u0002-r1-p1", "http-read-heavy-u0002-r1-p1"]
    for run_id, run in all_runs.items():
        run_dir = sweep / "runs" / run_id
        for name in CONTRACT_FILES:
            assert (run_dir / name).is_file(), f"{run_id}: no {name}"
        assert not list(run_dir.glob(".*")), "temporary files left behind"
        assert run["final"] is True and run["attempt"] == 1 and run["exit_code"] == 0
        params = run["params"]
        assert params["users"] == 2 and params["processes"] == 1 and params["repeat"] == 1
        assert params["spawn_rate"] == 2.0 and params["host"].startswith("http://127.0.0.1:")
        window = run["window"]
        assert 1.6 <= window["seconds"] <= 3.5
        assert run["started_at"] < window["start"] < window["end"] <= run["ended_at"]
        assert run["command"][:2] == ["locust", "-f"] and "--reset-stats" in run["command"]
        assert run["cpu"]["generator"]["processes"] == 1
        assert run["cpu"]["service"]["mean_percent"] > 0
        requests = run["requests"]
        assert requests["total"] > 100 and requests["failures"] == 0 and requests["rps"] > 0
        verdict = run["verdict"]
        assert verdict["status"] in VERDICTS and len(verdict["causes"]) == len(verdict["reasons"])
        assert (verdict["status"] == "valid") == (verdict["causes"] == [])
        evidence = verdict["evidence"]
        assert evidence["generator_cpu"]["locust"]["samples"] >= 3
        assert "share_at_or_above_threshold" in evidence["generator_cpu"]["locust"]
        assert evidence["foreign_cpu"]["samples"] >= 3
        assert evidence["loop_lateness"]["locust"]["seconds"] >= 1
        assert evidence["littles_law"]["closed_model"] is True
        assert list((run_dir / "evidence").glob("lateness-local-*.csv"))
        assert run["server"]["available"] is True
        assert run["server"]["load"]["requests"] > 0
        assert run["slo"]["violations"] == []
        with (run_dir / "locust_stats.csv").open() as handle:
            aggregated = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
        # run.json takes the complete figures of locust.json; the final stats CSV is
        # Locust's last 1-second snapshot, so it can only lag behind them
        entries = json.loads((run_dir / "locust.json").read_text())
        assert sum(e["num_requests"] for e in entries) == requests["total"]
        # one HDR file from the single Locust process; it counted exactly Locust's requests
        (hdr_file,) = (run_dir / "evidence").glob("hdr-local-*.json")
        hdr = json.loads(hdr_file.read_text())
        assert hdr["version"] == 1 and hdr["unit"] == "us" and hdr["significant_figures"] == 3
        by_name = {(e["method"], e["name"]): e["num_requests"] for e in entries}
        assert {(e["method"], e["name"]): e["count"] for e in hdr["endpoints"]} == by_name
        assert requests["latency_source"] == "hdr" and requests["hdr_requests"] == requests["total"]
        assert 0 < requests["p50_ms"] <= requests["p95_ms"] <= requests["p99_ms"]
        assert int(aggregated["Request Count"]) <= requests["total"]
        with (run_dir / "cpu.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert {r["role"] for r in rows} == {"generator", "service"}
        assert sum(int(r["in_window"]) for r in rows if r["role"] == "generator") >= 1
    assert "fast-read-heavy-u0002-r1-p1" in done.stderr and "verdict" in done.stderr
    calibration = manifest["calibration"]
    for short_name in ("http", "fast"):
        figures = calibration[short_name]
        assert figures["requests"] > 0 and figures["endpoint"] == "GET /health"
        assert 0 < figures["server_mean_ms"] < figures["client_mean_ms"]
        assert figures["floor_ms"] > 0 and figures["cpu_ms_per_request"] > 0
    for run in all_runs.values():
        overhead = run["client_overhead"]
        assert overhead["calibrated_floor_ms"] == calibration[run["params"]["user_class"]][
            "floor_ms"]
        assert overhead["mostly_client"] == any("client overhead" in w
                                                for w in run["verdict"]["warnings"])
    sides = latency_sides_table(load_sweep(sweep).points)  # the analysis reads schema 2
    assert len(sides) == 2 and (sides["server mean ms"] != "").all()


@pytest.mark.load
@pytest.mark.any_cpu
def test_remote_host_and_a_missed_slo_exit_1(tmp_path: Path, service_url: str) -> None:
    done = run_sweep(tmp_path, "--host", service_url, "--user-classes", "fast", "--users", "1",
                     "--slo", "rps>100000000")
    assert done.returncode == 1, done.stderr
    sweep = the_sweep(tmp_path)
    manifest = json.loads((sweep / "manifest.json").read_text())
    assert manifest["target"]["kind"] == "remote" and manifest["target"]["host"] == service_url
    assert manifest["placement"]["service_cpus"] is None
    (run,) = runs(sweep).values()
    assert run["cpu"]["service"] is None and run["params"]["host"] == service_url
    assert run["slo"]["violations"][0].startswith("rps>100000000: measured")
    assert "SLO missed" in done.stderr


def test_preflight_failure_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_sweep(tmp_path, "--host", f"http://127.0.0.1:{free_port()}", timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "preflight" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name != "latest"]


@pytest.mark.load
@pytest.mark.any_cpu
def test_processes_auto_says_when_it_cannot_escape(tmp_path: Path) -> None:
    done = run_sweep(tmp_path, "--user-classes", "fast", "--users", "2", "--processes", "auto",
                     "--generator-cpu-threshold", "1", *LONGER)
    assert done.returncode == 1, done.stderr
    sweep = the_sweep(tmp_path)
    manifest = json.loads((sweep / "manifest.json").read_text())
    generator_cpus = manifest["placement"]["generator_cpus"] or []
    all_runs = runs(sweep)
    final = [r for r in all_runs.values() if r["final"]]
    assert len(final) == 1 and final[0]["verdict"]["status"] == "generator-bound"
    if len(generator_cpus) <= 1:  # this 2-core machine: service on CPU 0, Locust on CPU 1
        assert len(all_runs) == 1
        note = final[0]["processes_auto"]["note"]
        assert note.startswith("cannot escape generator-bound")
        assert note in final[0]["verdict"]["reasons"]
        assert "cannot escape" in done.stderr
        assert "cannot escape" in (sweep / "sweep.log").read_text()
    else:
        assert len(all_runs) >= 2


@pytest.mark.load
@pytest.mark.any_cpu
def test_processes_auto_reruns_with_workers(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs")
    done = run_sweep(tmp_path, "--user-classes", "fast", "--users", "2", "--processes", "auto",
                     "--generator-cpu-threshold", "1", "--service-cpus", str(cpus[0]),
                     "--generator-cpus", f"{cpus[0]},{cpus[1]}", *LONGER)
    assert done.returncode == 1, done.stderr
    sweep = the_sweep(tmp_path)
    first, second = (runs(sweep)[f"fast-read-heavy-u0002-r1-p{n}"] for n in (1, 2))
    assert first["final"] is False and first["attempt"] == 1
    assert first["verdict"]["status"] == "generator-bound"
    assert first["processes_auto"]["next_processes"] == 2
    assert second["final"] is True and second["attempt"] == 2
    assert second["params"]["processes"] == 2 and second["cpu"]["generator"]["processes"] == 3
    assert second["requests"]["total"] > 100
    # each worker wrote its own HDR file; merged, they count the window's requests
    hdr_files = list((sweep / "runs" / "fast-read-heavy-u0002-r1-p2" / "evidence").glob(
        "hdr-worker-*.json"))
    assert len(hdr_files) == 2
    assert second["requests"]["latency_source"] == "hdr"
    hdr_total = sum(e["count"] for f in hdr_files for e in json.loads(f.read_text())["endpoints"])
    assert hdr_total == second["requests"]["hdr_requests"]
    # Each worker's file is exact for that worker. The master's count can only be short: when
    # the master quits at its run-time limit it does not wait for the workers' final reports
    # (seen: Locust 1,945 against HDR 2,299 in a 2.5 s window), at most one report interval
    # (3 s) of requests.
    total = second["requests"]["total"]
    assert total <= hdr_total <= total + 3.5 * hdr_total / second["window"]["seconds"]
    assert (sweep / "runs" / "fast-read-heavy-u0002-r1-p2" / "locust-worker-2.log").is_file()
    assert "rerun with 2 processes" in done.stderr


@pytest.mark.load
@pytest.mark.any_cpu
def test_sigkill_then_resume_reruns_only_unfinished_points(tmp_path: Path) -> None:
    # 1 s windows: what is asserted is which points run again, which no window length changes
    process = start_sweep(tmp_path, "--user-classes", "fast", "--users", "1,2,3",
                          "--duration", "1s")
    try:
        wait_for(lambda: (tmp_path / "latest").exists() and len(runs(the_sweep(tmp_path))) == 1,
                 60, "the first point")
        sweep = the_sweep(tmp_path)
        wait_for(lambda: (sweep / "runs" / "fast-read-heavy-u0002-r1-p1").is_dir(), 10,
                 "the second point to start")
        time.sleep(1.0)
        children = descendants(process.pid)
        assert len(children) >= 3  # a service, the fork server, a Locust
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    (first,) = sweep.glob("runs/*/run.json")
    before = (first.stat().st_mtime_ns, first.read_text())
    wait_for(lambda: not alive(children), 15, "the runner's children to die with it")
    assert json.loads((sweep / "manifest.json").read_text())["status"] == "running"

    done = subprocess.run([sys.executable, "-m", "scenarios.sweep", "--resume", str(sweep)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    assert "1 points done, 2 to run" in done.stderr
    assert (first.stat().st_mtime_ns, first.read_text()) == before
    all_runs = runs(sweep)
    assert sorted(r["point_id"] for r in all_runs.values() if r["final"]) == [
        "fast-read-heavy-u0001-r1", "fast-read-heavy-u0002-r1", "fast-read-heavy-u0003-r1"]
    manifest = json.loads((sweep / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed_at"]) == 1


@pytest.mark.load
@pytest.mark.any_cpu
def test_sigint_marks_the_running_point_interrupted(tmp_path: Path) -> None:
    process = start_sweep(tmp_path, "--user-classes", "fast", "--users", "1,2", "--duration", "6s")
    try:
        wait_for(lambda: (tmp_path / "latest").exists()
                 and bool(list(the_sweep(tmp_path).glob("runs/*/locust.log"))) is False
                 and bool(list(the_sweep(tmp_path).glob("runs/*/.locust-out/locust.log"))),
                 60, "the first point to run")
        time.sleep(2.0)
        children = descendants(process.pid)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    sweep = the_sweep(tmp_path)
    (run,) = runs(sweep).values()
    assert run["final"] is False and run["verdict"]["status"] == "interrupted"
    assert json.loads((sweep / "manifest.json").read_text())["status"] == "interrupted"
    assert not alive(children)
    assert "interrupted" in stderr


# A sweep through a remote master with an external worker: tests/scenarios/test_remote_sweep.py
# (the master started as terraform/locust.tf starts it) asserts what a run of its own here did.


@pytest.mark.load
@pytest.mark.any_cpu
def test_a_crashing_locust_is_failed_and_the_sweep_goes_on_unless_fail_fast(
        tmp_path: Path, service_url: str) -> None:
    # A file that imports (a file that does not is refused before the sweep: exit 2), whose
    # Locust then dies when its test starts
    broken = tmp_path / "broken_locustfile.py"
    broken.write_text(
        "import os\n"
        "from locust import HttpUser, events, task\n\n\n"
        "class Crashing(HttpUser):\n"
        "    @task\n"
        "    def look(self) -> None:\n"
        "        self.client.get('/health')\n\n\n"
        "@events.test_start.add_listener\n"
        "def _crash(**_kwargs: object) -> None:\n"
        "    print('this locustfile is broken on purpose', flush=True)\n"
        "    os._exit(3)\n")

    def run(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scenarios.sweep", "--out", str(out), "--ramp", "1s",
             "--duration", "2s", "--repeats", "1", "--locustfile", str(broken), "--host",
             service_url, "--user-classes", "Crashing", "--users", "1,2", *extra],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    done = run(tmp_path / "on")
    assert done.returncode == 1, done.stderr
    sweep = the_sweep(tmp_path / "on")
    all_runs = runs(sweep)
    assert len(all_runs) == 2
    for run_record in all_runs.values():
        assert run_record["final"] is True and run_record["verdict"]["status"] == "failed"
        assert not run_record["requests"]["total"]  # none, or an empty stats file
    (log,) = sweep.glob("runs/*-u0001-r1-p1/locust.log")
    assert "broken on purpose" in log.read_text()
    assert json.loads((sweep / "manifest.json").read_text())["status"] == "complete"

    done = run(tmp_path / "ff", "--fail-fast")
    assert done.returncode == 1
    sweep = the_sweep(tmp_path / "ff")
    assert len(runs(sweep)) == 1
    assert json.loads((sweep / "manifest.json").read_text())["status"] == "failed"


def test_pipelined_seeding_creates_the_locustfile_seed_products(service_url: str) -> None:
    seed_pipelined(service_url, 450)
    seed_pipelined(service_url, 450)  # again: every 409 is fine
    report = seed_products(service_url, 450)  # the locustfile's own seeding finds them all
    assert report.created == 0 and report.already_there == 450
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{service_url}/products/seed-000451", timeout=5)
    assert missing.value.code == 404
