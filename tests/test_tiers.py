"""The tier check (tests/_tiers.py): which command lines need which marker, and what it reports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests._tiers import CONTAINER, LOAD, TERRAFORM, Watch, needed_marker

PY = sys.executable


@pytest.mark.parametrize(("command", "marker"), [
    ([PY, "-m", "locust", "-f", "scenarios/locustfile.py", "--headless"], LOAD),
    (["taskset", "-c", "1", PY, "-m", "locust", "-f", "x.py"], LOAD),
    (["taskset", "-c", "0,1", "wrk", "-t1", "-c1", "http://127.0.0.1:1/"], LOAD),
    ([PY, "-m", "scenarios.sweep", "--out", "/tmp/x", "--users", "1"], LOAD),
    ([PY, "-m", "scenarios.runner.generator._locust_launcher", "5"], LOAD),
    ([PY, "/repo/bench/crosscheck_wrk.py", "--users", "3"], LOAD),
    ([PY, "-m", "bench.service"], LOAD),
    ([PY, "-m", "bench.bench_analysis"], None),
    ([PY, "-m", "scenarios.remote_results", "run", "--", "--host", "http://x"], LOAD),
    ([PY, "-m", "scenarios.remote_results", "fetch", "ID"], None),
    ("buildah from --pull-never base", CONTAINER),
    (["/repo/deploy/build_image.sh", "service"], CONTAINER),
    (["terraform", "-chdir=terraform", "apply"], TERRAFORM),
    ([PY, "-m", "moto.server", "-p", "5000"], TERRAFORM),
    # none: the service, the analysis (even of a file named locust), inline code, PostgreSQL
    ([PY, "-m", "target_service", "--port", "8000"], None),
    ([PY, "-m", "analysis", "summary", "/tmp/run/locust"], None),
    ([PY, "-c", "import locust"], None),
    ([PY, "-m", "scenarios.sweep", "--help"], None),
    (["locust", "-f", "scenarios/locustfile.py", "--list"], None),
    (["/usr/lib/postgresql/15/bin/postgres", "-D", "/tmp/pg"], None),
])
def test_commands_are_classified_by_what_they_start(command: object, marker: str | None) -> None:
    assert needed_marker(command) == marker


def _exited(status: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([PY, "-c", f"raise SystemExit({status})"])
    process.wait()
    return process


def test_an_unmarked_load_command_is_reported_unless_it_refused_its_input() -> None:
    locust = [PY, "-m", "locust", "-f", "scenarios/locustfile.py"]
    watch = Watch(frozenset())
    watch.record(_exited(2), locust)  # refused its input: no load was sent
    assert watch.problems() == []
    watch.record(_exited(0), locust)
    (problem,) = watch.problems()
    assert "without @pytest.mark.load" in problem and "exit status 0" in problem
    assert Watch(frozenset({LOAD}), watch.started).problems() == []


def test_wrk_and_terraform_never_count_as_refused() -> None:
    watch = Watch(frozenset({LOAD}))
    watch.record(_exited(2), ["terraform", "apply"])
    watch.record(_exited(2), ["wrk", "http://127.0.0.1:9/"])
    (problem,) = watch.problems()
    assert "@pytest.mark.terraform" in problem
    assert len(Watch(frozenset(), watch.started).problems()) == 2
