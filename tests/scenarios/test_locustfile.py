"""Real headless Locust runs of scenarios/locustfile.py against the real service (1-6 s each:
the shortest window in which what a test counts is far from its bound)."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scenarios.mixes import resolve_mix
from tests.processes import free_port

ServiceFactory = Any  # tests/conftest.py's service_factory fixture

pytestmark = pytest.mark.load

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "scenarios" / "locustfile.py"


@dataclass
class LocustRun:
    returncode: int
    log: str
    requests: dict[str, int]  # stats name -> requests
    failures: dict[str, int]  # stats name -> failures
    failure_messages: list[str]

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def run_locust(host: str, tmp_path: Path, *args: str, seconds: float = 3, users: int = 10,
               env: dict[str, str] | None = None, user_class: Sequence[str] = ("FastProductUser",),
               name: str = "run") -> LocustRun:
    """One bounded headless Locust run; counts come from --json-file, messages from --csv."""
    out = tmp_path / name
    out.mkdir()
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--host", host, "-u", str(users), "-r", str(users * 2), "-t", f"{seconds:g}s",
               "--csv", str(out / "locust"), "--json-file", str(out / "locust"), *args,
               *user_class]
    result = subprocess.run(command, cwd=REPO, env={**os.environ, **(env or {})},
                            capture_output=True, text=True, timeout=seconds + 60)
    entries = json.loads((out / "locust.json").read_text())
    with (out / "locust_failures.csv").open() as failures_csv:
        messages = [f"{row['Name']}: {row['Error']}" for row in csv.DictReader(failures_csv)]
    return LocustRun(
        result.returncode, result.stderr + result.stdout,
        {entry["name"]: entry["num_requests"] for entry in entries},
        {entry["name"]: entry["num_failures"] for entry in entries},
        messages)


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.any_cpu
def test_seeded_once_before_reads_and_reads_never_miss(service_factory: ServiceFactory,
                                                       tmp_path: Path) -> None:
    service = service_factory("--no-access-log")
    run = run_locust(service.url, tmp_path, "--weights", "get_product=1",
                     "--seed-products", "200", users=20, seconds=2)
    assert run.returncode == 0, run.log[-2000:]
    assert run.requests.keys() == {"GET /products/{id}"}
    assert run.total > 100
    assert run.failures["GET /products/{id}"] == 0, run.failure_messages  # no 404 at all
    # Seeded once for the test (not per user), outside Locust's stats, exactly the asked ids.
    assert len(re.findall(r"seed products ready", run.log)) == 1
    assert "200 seed products ready (200 created, 0 already there)" in run.log
    assert get_json(f"{service.url}/products?limit=1")["total"] == 200
    assert status_of(f"{service.url}/products/seed-000200") == 200
    assert status_of(f"{service.url}/products/seed-000201") == 404
    # A second test against the same store finds the products there and sends no POST.
    again = run_locust(service.url, tmp_path, "--weights", "list_products=1",
                       "--seed-products", "200", seconds=1, users=2, name="again")
    assert "200 seed products ready (0 created, 200 already there)" in again.log
    assert get_json(f"{service.url}/products?limit=1")["total"] == 200


@pytest.mark.any_cpu
def test_duplicates_count_as_success_and_unexpected_statuses_as_failures(
        service_factory: ServiceFactory, tmp_path: Path) -> None:
    service = service_factory("--no-access-log", "--capacity", "60")
    run = run_locust(service.url, tmp_path, "--seed-products", "50",
                     "--weights", "create_duplicate=3,create_product=1", users=5, seconds=2)
    duplicate, create = "POST /products [duplicate]", "POST /products"
    assert run.requests[duplicate] > 50
    assert run.failures[duplicate] == 0, run.failure_messages  # 409 is what this task expects
    # The store holds 60: ten creates succeed, the rest get 507 and are failures.
    assert run.requests[create] > 20
    assert run.failures[create] == run.requests[create] - 10
    assert run.returncode == 1  # Locust's exit code when any request failed
    assert any(message.startswith(f"{create}: ") and "expected 201, got 507: {" in message
               for message in run.failure_messages), run.failure_messages


@pytest.mark.any_cpu
def test_created_ids_are_unique_across_worker_processes(service_factory: ServiceFactory,
                                                        tmp_path: Path) -> None:
    service = service_factory("--no-access-log")
    run = run_locust(service.url, tmp_path, "--processes", "2", "--weights", "create_product=1",
                     "--seed-products", "10", "--run-tag", "uniq", users=10, seconds=3)
    assert run.returncode == 0, run.failure_messages or run.log[-2000:]
    assert run.failures == {"POST /products": 0}  # not a single 409
    prefixes = set(re.findall(r"WorkerRunner .* ids (uniq-[0-9a-f]{12})-N", run.log))
    assert len(prefixes) == 2, run.log[-3000:]
    # Every POST Locust counted made a product (requests still in flight when the workers quit
    # may reach the store without reaching the master's final stats).
    stored = get_json(f"{service.url}/products?limit=1")["total"]
    assert isinstance(stored, int) and 10 + run.total <= stored <= 10 + run.total + 100


# Two live runs, one per way of choosing the weights: a named mix (read-only: two tasks weighted,
# two at zero) and --weights (all four tasks). Every named mix takes the same path from its
# weights to the tasks drawn; the names' weights are checked without load (test_locustfile_
# options.py, scenarios/mixes.py), so a live run per name asserted the same thing five times.
@pytest.mark.any_cpu
@pytest.mark.parametrize("mix", ["read-only", "custom"])
def test_each_mix_is_honoured_approximately(mix: str, service_url: str, tmp_path: Path) -> None:
    options = ["--mix", mix] if mix != "custom" else [
        "--weights", "get_product=2,list_products=1,create_product=1,create_duplicate=1"]
    weights = (resolve_mix(mix)[1] if mix != "custom" else
               {"get_product": 2, "list_products": 1, "create_product": 1, "create_duplicate": 1})
    run = run_locust(service_url, tmp_path, *options, "--seed-products", "100", seconds=2)
    assert run.returncode == 0, run.failure_messages
    names = {"get_product": "GET /products/{id}", "list_products": "GET /products",
             "create_product": "POST /products", "create_duplicate": "POST /products [duplicate]"}
    total_weight = sum(weights.values())
    assert run.total > 500
    for task, weight in weights.items():
        share, expected = run.requests.get(names[task], 0) / run.total, weight / total_weight
        # Tasks are drawn at random: allow four standard deviations of a binomial share.
        allowed = 4 * math.sqrt(expected * (1 - expected) / run.total) + 0.005
        assert abs(share - expected) < allowed, (task, share, expected, run.requests)


def _seconds_between(log: str, first: str, second: str) -> float:
    """Seconds between the first log lines containing `first` and `second`."""
    stamps = []
    for needle in (first, second):
        line = next(line for line in log.splitlines() if needle in line)
        stamp = re.match(r"\[\d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d),(\d{3})\]", line)
        assert stamp, line
        hours, minutes, secs, millis = map(int, stamp.groups())
        stamps.append(hours * 3600 + minutes * 60 + secs + millis / 1000)
    return stamps[1] - stamps[0]


@pytest.mark.parametrize("spec", ["rate:20", "poisson:20"])
def test_rate_pacing_holds_the_per_user_rate(spec: str, service_url: str, tmp_path: Path) -> None:
    users = 10
    run = run_locust(service_url, tmp_path, "--pacing", spec, "--weights", "get_product=1",
                     "--seed-products", "100", "-r", "100", users=users, seconds=4)
    assert run.returncode == 0, run.failure_messages
    running = _seconds_between(run.log, "All users spawned", "--run-time limit reached")
    expected = users * (1 + 20 * running)  # each user's first task starts when it spawns
    assert 0.85 * expected < run.total < 1.15 * expected, (run.total, expected)
    if spec.startswith("poisson"):
        assert re.search(r"poisson pacing: \d+ of \d+ arrivals \([\d.]+%\) started late", run.log)


@pytest.mark.any_cpu
def test_no_wait_pacing_is_much_faster_than_constant(service_url: str, tmp_path: Path) -> None:
    seconds = 2
    paced = run_locust(service_url, tmp_path, "--pacing", "constant:0.5", "--weights",
                       "list_products=1", users=2, seconds=seconds, name="paced")
    assert paced.total <= 2 * (seconds / 0.5 + 1)
    unpaced = run_locust(service_url, tmp_path, "--pacing", "locust-default", "--weights",
                         "list_products=1", users=2, seconds=seconds, name="unpaced")
    assert unpaced.total > 20 * paced.total


@pytest.mark.any_cpu
def test_environment_and_locust_conf_are_honoured(service_url: str, tmp_path: Path) -> None:
    conf = tmp_path / "locust.conf"
    conf.write_text("weights = list_products=1\nrun-tag = fromconf\npacing = rate:1000\n")
    seconds = 2
    run = run_locust(service_url, tmp_path, "--config", str(conf), "--seed-products", "10",
                     env={"LOCUST_PACING": "constant:0.2"}, users=4, user_class=(),
                     seconds=seconds)
    assert run.returncode == 0, run.failure_messages
    assert run.requests.keys() == {"GET /products"}  # the conf's weights
    assert "ids fromconf-" in run.log
    # LOCUST_PACING beats the conf file (Locust's precedence: CLI > env > conf).
    assert "pacing {'kind': 'constant', 'seconds': 0.2}" in run.log
    assert run.total <= 4 * (seconds / 0.2 + 1)
    # Neither user class named: headless runs both, half of the users each.
    assert '"HttpProductUser": 2' in run.log and '"FastProductUser": 2' in run.log


@pytest.mark.any_cpu
def test_the_shipped_locust_conf_runs(service_url: str, tmp_path: Path) -> None:
    run = run_locust(service_url, tmp_path, "--config", str(REPO / "scenarios" / "locust.conf"),
                     "-t", "2s", "--seed-products", "100", users=2)
    assert run.returncode == 0, run.failure_messages or run.log[-2000:]
    assert run.total > 0


@pytest.mark.any_cpu
def test_web_ui_class_picker_and_form_options(service_url: str, tmp_path: Path) -> None:
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    log = tmp_path / "webui.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--class-picker",
         "--web-host", "127.0.0.1", "--web-port", str(port), "--seed-products", "20"],
        cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                get_json(f"{ui}/stats/requests")
                break
            except OSError:
                time.sleep(0.05)
        form = {"user_count": 2, "spawn_rate": 10, "host": service_url, "run_time": "2s",
                "user_classes": "HttpProductUser", "weights": "create_duplicate=1",
                "pacing": "constant:0.05"}
        request = urllib.request.Request(f"{ui}/swarm", method="POST",
                                         data=urllib.parse.urlencode(form).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["success"] and answer["user_classes"] == ["HttpProductUser"]
        time.sleep(2.5)
        stats = get_json(f"{ui}/stats/requests")
    finally:
        process.terminate()
        process.wait(timeout=10)
    rows = {row["name"]: row for row in stats["stats"]}  # type: ignore[union-attr]
    assert set(rows) == {"POST /products [duplicate]", "Aggregated"}
    assert rows["Aggregated"]["num_failures"] == 0
    assert 10 < rows["Aggregated"]["num_requests"] <= 2 * (2 / 0.05 + 1)
    assert "pacing {'kind': 'constant', 'seconds': 0.05}" in log.read_text()


def test_reset_stats_reaches_an_external_worker(service_url: str, tmp_path: Path) -> None:
    """Headless master with --reset-stats, worker without: the window's count is still exact."""
    master_port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host",
         "127.0.0.1", "--master-port", str(master_port), "FastProductUser"],
        cwd=REPO, stdout=(tmp_path / "worker.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        run = run_locust(service_url, tmp_path, "--master", "--master-bind-host", "127.0.0.1",
                         "--master-bind-port", str(master_port), "--expect-workers", "1",
                         "--reset-stats", "-r", "4", "--weights", "get_product=1",
                         "--pacing", "rate:20", "--seed-products", "100", users=10, seconds=6)
    finally:
        worker.wait(timeout=20)  # the master tells it to quit
    assert run.returncode == 0, run.log[-2000:]
    assert "scenarios: stats reset by the master" in (tmp_path / "worker.log").read_text()
    window = _seconds_between(run.log, "Resetting stats", "--run-time limit reached")
    # The worker reports every 3 s: without the forwarded reset, what it sent in the 2.5 s ramp
    # since its last report (0 to 3 s of ramp traffic) would also count.
    expected = 10 * 20 * window
    assert 0.93 * expected < run.total < 1.07 * expected, (run.total, expected)


@pytest.mark.any_cpu
@pytest.mark.parametrize("trigger", ["web-ui", "ramp"])
def test_a_report_sent_before_a_forwarded_reset_does_not_count(trigger: str) -> None:
    """A real master and worker, the interleaving forced: the worker's pre-reset report reaches
    the master after the master's reset. Without the reset epochs the window counts it."""
    probe = REPO / "tests" / "scenarios" / "_reset_race_probe.py"
    result = subprocess.run([sys.executable, str(probe), trigger], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["master_requests"] == figures["window_requests"], figures
