"""The open model's parts without live load: schedules, options, the pool under gevent, evidence."""

from __future__ import annotations

import argparse
import itertools
import math
import statistics

import gevent
import pytest

from scenarios.open_model import evidence
from scenarios.open_model.executor import ArrivalPool
from scenarios.open_model.options import MIN_POOL, add_arguments, default_pool, resolve
from scenarios.open_model.schedule import (
    RateProfile,
    ScheduleError,
    Stage,
    arrival_offsets,
    parse_stages,
    process_seed,
)


def offsets(profile: RateProfile, distribution: str, until_s: float, seed: int = 1) -> list[float]:
    return list(itertools.takewhile(lambda t: t < until_s,
                                    arrival_offsets(profile, distribution, seed)))


def test_uniform_constant_rate_is_exact() -> None:
    times = offsets(RateProfile.constant(100.0), "uniform", 10.0)
    assert len(times) == 1000
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {0.01}


def test_poisson_rate_and_gaps() -> None:
    times = offsets(RateProfile.constant(200.0), "poisson", 50.0)
    assert abs(len(times) - 10_000) < 4 * math.sqrt(10_000)  # 4 sigma of a Poisson count
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # exponential gaps: the standard deviation equals the mean (within 5% on 10,000 gaps)
    assert statistics.stdev(gaps) == pytest.approx(statistics.fmean(gaps), rel=0.05)


def test_ramp_follows_the_integral() -> None:
    profile = RateProfile(0.0, parse_stages("100:10s,100:5s"))
    times = offsets(profile, "uniform", 15.0)
    # 0 -> 100/s over 10 s is 500 arrivals, then 5 s at 100/s: 500 more
    assert len(times) == 1000
    assert sum(1 for t in times if t < 10.0) == 500
    assert sum(1 for t in times if t < 5.0) == 125  # a quarter of the ramp's area
    assert profile.rate_at(5.0) == pytest.approx(50.0)
    assert profile.time_of(5000.0) == pytest.approx(15.0 + 4000 / 100)  # the last rate holds


def test_shares_of_workers_add_up() -> None:
    profile = RateProfile.constant(300.0)
    counts = [len(offsets(profile.scaled(share), "poisson", 20.0, process_seed(1, index)))
              for index, share in enumerate((0.5, 0.25, 0.25))]
    assert abs(sum(counts) - 6000) < 4 * math.sqrt(6000)
    assert len({process_seed(1, i) for i in range(100)}) == 100


@pytest.mark.parametrize("spec", ["", "100", "100:abc", "x:10s", "-5:10s", "100:10s,0:5s"])
def test_bad_stages_are_one_line_errors(spec: str) -> None:
    with pytest.raises(ScheduleError) as error:
        parse_stages(spec)
    assert "--arrival-stages" in str(error.value) and "\n" not in str(error.value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()

    class Group:
        def add_argument(self, *args: object, env_var: str = "", **kwargs: object) -> None:
            parser.add_argument(*args, **kwargs)  # type: ignore[arg-type]

    parser.add_argument_group = lambda *_a, **_k: Group()  # type: ignore[method-assign,assignment]
    add_arguments(parser)
    return parser


def test_options_resolve_and_default_pool() -> None:
    parser = _parser()
    assert resolve(parser.parse_args([])) is None
    config = resolve(parser.parse_args(["--arrival-rate", "200", "--expected-latency", "250"]))
    assert config is not None and not config.max_users_given
    assert config.max_users == default_pool(200, 0.25) == 100
    assert config.minimum_pool == 50
    assert default_pool(1, 0.01) == MIN_POOL
    ramp = resolve(parser.parse_args(["--arrival-stages", "50:5s,300:10s", "--max-users", "7"]))
    assert ramp is not None and ramp.max_users == 7 and ramp.profile.peak_rate == 300
    assert ramp.profile.stages == (Stage(50, 5), Stage(300, 10))
    with pytest.raises(SystemExit):
        parser.parse_args(["--arrival-rate", "0"])


def _run_pool(pool_size: int, rate: float, seconds: float, busy_s: float,
              backlog: int = 0) -> ArrivalPool:
    """A pool of greenlet "users" that each spend ``busy_s`` per iteration."""
    pool = ArrivalPool()
    pool.max_backlog = backlog

    def user() -> None:
        while True:
            pool.gate()
            gevent.sleep(busy_s)
            pool.on_request("GET", "x", busy_s * 1000.0)

    users = [gevent.spawn(user) for _ in range(pool_size)]
    gevent.sleep(0)
    pool.start(arrival_offsets(RateProfile.constant(rate), "uniform", 3))
    gevent.sleep(seconds)
    pool.stop()
    gevent.killall(users)
    return pool


def test_pool_serves_every_arrival_when_large_enough() -> None:
    # About rate x busy = 2 users are busy at once. A process that waits for a CPU finds the
    # arrivals of the wait due together when it runs again, so the peak grows by one user per
    # 5 ms of waiting: a pool of 10 ran out in `make test` (2026-12-05, three workers on two
    # CPUs beside Terraform). Forty users leave room for a 190 ms wait.
    pool = _run_pool(pool_size=40, rate=200, seconds=1.0, busy_s=0.01)
    assert pool.dropped == 0
    assert pool.started == pool.intended and 190 <= pool.intended <= 201
    assert 1 <= pool.peak_busy(40) < 40


def test_pool_drops_arrivals_with_no_free_user() -> None:
    pool = _run_pool(pool_size=2, rate=200, seconds=1.0, busy_s=0.05)
    # 2 users of 50 ms serve at most 40/s of the 200/s: the rest is dropped, never queued
    assert pool.started + pool.dropped == pool.intended
    assert pool.started <= 2 + 2 * 1.0 / 0.05
    assert pool.dropped >= 0.75 * pool.intended
    assert pool.peak_busy(2) == 2


def test_backlog_is_bounded_and_measured_as_lag() -> None:
    pool = _run_pool(pool_size=1, rate=100, seconds=1.0, busy_s=0.02, backlog=10)
    # one 20 ms user serves 50/s of 100/s: the backlog fills to 10 and the rest is dropped
    assert pool.dropped > 0 and pool.backlogged > 0
    assert pool.started + pool.dropped + pool.queued_at_stop == pool.intended
    document = {"counts": {"intended": pool.intended}, "histograms": {
        "lag_us": evidence.encode(pool.recorder.histograms[("lag", "arrivals")])}}
    lag = evidence.summary(document)
    assert lag["lag_p99_ms"] > 100  # waited for ten 20 ms iterations


def test_evidence_merge_adds_counts_and_histograms() -> None:
    pool = _run_pool(pool_size=4, rate=100, seconds=0.5, busy_s=0.005)
    histograms = pool.recorder.histograms
    doc = {"counts": {"intended": pool.intended, "started": pool.started, "dropped": 0},
           "share": 0.5, "pool": {"users": 4, "max_users": 8, "peak_busy": 1},
           "window": {"start": 10.0, "end": 20.0},
           "histograms": {"intended_us": evidence.encode(histograms[("intended", "all")]),
                          "service_us": evidence.encode(histograms[("service", "all")]),
                          "lag_us": evidence.encode(histograms[("lag", "arrivals")])}}
    merged = evidence.merge([doc, {**doc, "window": {"start": 11.0, "end": 21.0}}])
    figures = evidence.summary(merged)
    assert figures["intended"] == 2 * pool.intended and merged["share"] == 1.0
    assert figures["window_s"] == 11.0 and merged["pool"]["users"] == 8
    assert figures["service_count"] == 2 * histograms[("service", "all")].get_total_count()
    assert figures["service_p50_ms"] == pytest.approx(5.0, abs=0.01)
    assert figures["intended_p50_ms"] >= figures["service_p50_ms"]


def test_locust_user_states_match() -> None:
    """The executor spells Locust's user states out (importing Locust here would patch)."""
    import importlib.util
    from pathlib import Path

    from scenarios.open_model.executor import LOCUST_STATE_RUNNING, LOCUST_STATE_WAITING

    spec = importlib.util.find_spec("locust")
    assert spec is not None and spec.origin is not None
    source = (Path(spec.origin).parent / "user" / "task.py").read_text()
    assert (f'LOCUST_STATE_RUNNING, LOCUST_STATE_WAITING, LOCUST_STATE_STOPPING = '
            f'["{LOCUST_STATE_RUNNING}", "{LOCUST_STATE_WAITING}", "stopping"]') in source


LISTENER_CHECK = """
from locust import HttpUser, task
from locust.env import Environment

from scenarios.open_model import locust_hooks
from scenarios.open_model.executor import POOL
from scenarios.open_model.options import add_arguments
import argparse


class Shopper(HttpUser):
    host = "http://127.0.0.1:9"

    @task
    def browse(self):
        self.client.get("/")


def options(*args):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(args))


environment = Environment(user_classes=[Shopper], parsed_options=options())
runner = environment.create_local_runner()
locust_hooks.install(environment, runner, None, [Shopper])
seen = [POOL.on_request in environment.events.request._handlers]
for args in ((), ("--arrival-rate", "50"), ()):
    environment.parsed_options = options(*args)
    environment.events.test_start.fire(environment=environment)
    seen.append(POOL.on_request in environment.events.request._handlers)
runner.quit()
print(seen)
"""


def test_the_request_listener_is_on_only_while_an_open_model_test_runs() -> None:
    """A closed run pays nothing per request for the open model: its ``request`` listener is
    added at an open-model test's start and taken off at a closed one's. A real Locust
    environment and local runner in a child process (importing Locust here would patch); the
    events are fired as Locust fires them, no user is started."""
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "-c", LISTENER_CHECK], capture_output=True,
                            text=True, timeout=60, check=False,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    # installed: off; a closed test starts: off; an open-model one: on; a closed one again: off
    assert result.stdout.strip().splitlines()[-1] == "[False, False, True, False]", result.stdout
