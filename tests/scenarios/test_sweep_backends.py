"""The sweep's backend dimension for real: `--store memory,postgres --cache on,off` starts
PostgreSQL and Redis itself, resets the database before every point, and the report shows the
backend (about 30 s)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.loading import load_sweep
from scenarios.runner.target import postgres_bin_dir, redis_server_path
from scenarios.sweep import main

REPO_ROOT = Path(__file__).resolve().parents[2]
# 1 s windows: each point is asserted to be served by its backend without a failure, and to be
# reported; no figure that needs a longer window
TINY = ["--ramp", "1s", "--duration", "1s", "--user-classes", "fast", "--users", "4",
        "--mixes", "balanced", "--seed-products", "1000", "--min-requests", "10", "--repeats", "1"]


def sweep(out: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scenarios.sweep", "--out", str(out), *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.mark.load
@pytest.mark.any_cpu
def test_a_sweep_over_the_backends_runs_end_to_end(tmp_path: Path) -> None:
    if postgres_bin_dir() is None or redis_server_path() is None:
        pytest.fail("PostgreSQL and Redis are needed (make system-deps installs them)")
    result = sweep(tmp_path, *TINY, "--store", "memory,postgres", "--cache", "on,off")
    assert result.returncode in (0, 1), result.stderr[-3000:]
    sweep_dir = (tmp_path / "latest").resolve()
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["matrix"]["backends"] == ["memory", "postgres+cache", "postgres"]
    assert manifest["points"] == ["fast-balanced-u0004-r1", "fast-balanced-pgcache-u0004-r1",
                                  "fast-balanced-pg-u0004-r1"]
    servers = manifest["target"]["backend_servers"]
    assert servers["postgres"] and servers["redis"]
    assert servers["cpus"] == manifest["placement"]["service_cpus"]
    for point in manifest["points"]:
        run = json.loads((sweep_dir / "runs" / f"{point}-p1" / "run.json").read_text())
        store, cache = run["params"]["store"], run["params"]["cache"]
        assert run["service"]["store"] == store
        assert run["service"]["cache"] == cache
        assert run["service"]["fastReads"] is True
        # reads of seed products and of products just created never miss: one dataset
        assert run["requests"]["total"] > 0 and run["requests"]["failures"] == 0, run["verdict"]
        if store == "postgres":
            assert 0 < run["database"]["reset_s"] < 5
            assert run["database"]["seed_products"] == 1000
        else:
            assert "database" not in run
    rows = load_sweep(sweep_dir).aggregated
    assert sorted(rows["backend"]) == ["memory", "postgres", "postgres+cache"]

    report = subprocess.run([sys.executable, "-m", "analysis", "report", str(sweep_dir)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
                            check=False)
    assert report.returncode == 0, report.stderr[-2000:]
    text = (sweep_dir / "report" / "report.md").read_text()
    assert "| backend | class | mix |" in text and "| postgres+cache | fast | balanced |" in text


@pytest.mark.parametrize(("args", "named"), [
    (("--cache", "on"), "--store postgres"),
    (("--store", "mysql"), "--store"),
    (("--cache", "maybe", "--store", "postgres"), "--cache"),
    (("--store", "postgres", "--host", "http://127.0.0.1:9"), "--host"),
    (("--service-workers", "2"), "--store postgres"),
])
def test_bad_backend_settings_are_one_line_and_exit_2(
        tmp_path: Path, args: tuple[str, ...], named: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In process: the configuration is refused before anything starts (the command line's own
    process boundary is tested in test_sweep_config.py)."""
    assert main(["--out", str(tmp_path), *TINY, *args]) == 2
    stderr = capsys.readouterr().err
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], stderr
    assert not list(tmp_path.iterdir())  # nothing that looks like a result
