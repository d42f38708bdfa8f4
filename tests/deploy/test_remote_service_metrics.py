"""The service's CPU and memory per remote point, read from CloudWatch on a moto server
(scenarios/runner/remote/_service_metrics.py), and the verdict's reading of them.

ECS publishes ``AWS/ECS`` ``CPUUtilization``/``MemoryUtilization`` per service and minute; here
the test publishes them (two tasks' values per minute) with ``PutMetricData`` and the reader
queries them with ``GetMetricData`` over the point's window, as the sweep task does on AWS.
CloudWatch's late minutes are played by publishing the last minute during the reader's wait.
The deployed stack's sweep task definition names the service and the wait
(test_terraform_apply.py); its role may call GetMetricData (_stack_checks.check_iam).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from _moto import CREDENTIALS, MotoServer, start_moto

from scenarios.runner.evidence import RunFacts, judge
from scenarios.runner.remote import minute_bounds, service_utilisation
from scenarios.runner.remote import service_metrics_from_environment as from_environment

pytestmark = [pytest.mark.terraform]  # a moto server (tests/_tiers.py), no terraform: ~3 s

CLUSTER, SERVICE = "loadbench", "loadbench-service"
# A window from 12:00:40 to 12:01:40 (ramp before it): it overlaps the minutes 12:00 and 12:01.
BASE = datetime(2026, 12, 4, 12, 0, tzinfo=UTC).timestamp()
WINDOW = (BASE + 40, BASE + 100)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start_moto(tmp_path_factory.mktemp("moto-cloudwatch"))
    try:
        yield server
    finally:
        server.stop()


def _publish(cloudwatch: Any, service: str, minute: int, cpu: tuple[float, float],
             memory: tuple[float, float], tasks: int = 2) -> None:
    """One minute of a service's metrics as ECS and Container Insights publish them: one value
    per task for the utilisations, the running task count."""
    at = datetime.fromtimestamp(BASE + 60 * minute + 10, tz=UTC)
    dimensions = [{"Name": "ClusterName", "Value": CLUSTER},
                  {"Name": "ServiceName", "Value": service}]
    for name, values in (("CPUUtilization", cpu), ("MemoryUtilization", memory)):
        cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=[
            {"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Value": value,
             "Unit": "Percent"} for value in values])
    cloudwatch.put_metric_data(Namespace="ECS/ContainerInsights", MetricData=[
        {"MetricName": "RunningTaskCount", "Dimensions": dimensions, "Timestamp": at,
         "Value": tasks, "Unit": "Count"}])


def test_minute_bounds_cover_the_window_in_whole_minutes() -> None:
    assert minute_bounds(*WINDOW) == (BASE, BASE + 120)
    assert minute_bounds(BASE, BASE + 60) == (BASE, BASE + 60)
    assert minute_bounds(BASE + 5, BASE + 5) == (BASE, BASE + 60)  # never an empty query


def test_a_window_with_every_minute_published(moto: MotoServer) -> None:
    cloudwatch = moto.client("cloudwatch")
    service = "complete-service"
    _publish(cloudwatch, service, -1, (10.0, 10.0), (10.0, 10.0))  # the minute before: not read
    _publish(cloudwatch, service, 0, (70.0, 96.0), (30.0, 34.0))
    _publish(cloudwatch, service, 1, (80.0, 90.0), (31.0, 33.0))
    _publish(cloudwatch, service, 2, (5.0, 5.0), (10.0, 10.0))  # the minute after: not read
    block = service_utilisation(cloudwatch, CLUSTER, service, *WINDOW)
    assert block["complete"] is True and block["error"] is None
    assert (block["query_start"], block["query_end"]) == ("2026-12-04T12:00:00Z",
                                                          "2026-12-04T12:02:00Z")
    # mean of the minutes' task means (83, 85); the busiest task's highest minute
    assert block["cpu_percent"] == {"mean": 84.0, "max": 96.0, "minutes": 2}
    assert block["memory_percent"] == {"mean": 32.0, "max": 34.0, "minutes": 2}
    assert block["running_tasks"] == 2.0 and block["minutes_expected"] == 2
    # the verdict: the busiest task at 96% of its reserved CPU, so the service was the limit
    verdict = judge(_facts(block))
    assert verdict.evidence["service_was_the_limit"] is True
    assert verdict.evidence["service_cpu_percent"] == {"mean": 84.0, "max": 96.0,
                                                       "complete": True}
    (said,) = [w for w in verdict.warnings if w.startswith("the service was the limit")]
    assert "96% of its reserved CPU" in said and "mean 84%" in said and "memory 34%" in said
    assert verdict.status == judge(_facts(None)).status  # it changes no status


def test_the_reader_waits_for_cloudwatchs_late_minute(moto: MotoServer) -> None:
    cloudwatch = moto.client("cloudwatch")
    service = "late-service"
    _publish(cloudwatch, service, 0, (40.0, 50.0), (20.0, 20.0))
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # CloudWatch publishes the window's last minute late
        sleeps.append(seconds)
        now[0] += seconds
        _publish(cloudwatch, service, 1, (60.0, 70.0), (20.0, 22.0))

    block = service_utilisation(cloudwatch, CLUSTER, service, *WINDOW, wait_s=100, poll_s=15,
                                clock=lambda: now[0], sleep=sleep)
    assert sleeps == [15] and block["complete"] is True
    assert block["cpu_percent"] == {"mean": 55.0, "max": 70.0, "minutes": 2}
    verdict = judge(_facts(block))
    assert verdict.evidence["service_was_the_limit"] is False
    assert not [w for w in verdict.warnings if "service was the limit" in w]


def test_a_wait_that_runs_out_records_what_there_is(moto: MotoServer) -> None:
    cloudwatch = moto.client("cloudwatch")
    service = "partial-service"
    _publish(cloudwatch, service, 0, (95.0, 99.0), (20.0, 20.0))
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    block = service_utilisation(cloudwatch, CLUSTER, service, *WINDOW, wait_s=40, poll_s=15,
                                clock=lambda: now[0], sleep=sleep)
    assert now[0] == 30 and block["complete"] is False  # polled twice, then gave up
    assert block["cpu_percent"] == {"mean": 97.0, "max": 99.0, "minutes": 1}
    (said,) = [w for w in judge(_facts(block)).warnings if "service was the limit" in w]
    assert "CloudWatch had 1 of the window's 2 minutes" in said


def test_no_metrics_and_no_cloudwatch_are_recorded_not_raised(moto: MotoServer) -> None:
    block = service_utilisation(moto.client("cloudwatch"), CLUSTER, "no-such-service", *WINDOW)
    assert block["cpu_percent"] == {"mean": None, "max": None, "minutes": 0}
    assert block["complete"] is False and block["running_tasks"] is None
    assert "could not be read from CloudWatch: no value for the window" in " ".join(
        judge(_facts(block)).warnings)
    import boto3

    closed = boto3.client("cloudwatch", region_name="us-east-1",
                          endpoint_url="http://127.0.0.1:9", **_keys())
    failed = service_utilisation(closed, CLUSTER, SERVICE, *WINDOW)
    assert failed["error"] and failed["cpu_percent"] is None


def test_the_sweep_task_environment_names_the_service(moto: MotoServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(moto.client("cloudwatch"), SERVICE, 0, (30.0, 40.0), (50.0, 60.0), tasks=1)
    _publish(moto.client("cloudwatch"), SERVICE, 1, (30.0, 40.0), (50.0, 60.0), tasks=1)
    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": moto.url, "AWS_REGION": "us-east-1",
                        "CLUSTER": CLUSTER, "SERVICE_METRICS_WAIT_S": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SERVICE_NAME", raising=False)
    assert from_environment(*WINDOW) is None  # a remote master outside the stack
    monkeypatch.setenv("SERVICE_NAME", SERVICE)
    block = from_environment(*WINDOW)
    assert block is not None and block["complete"] is True
    assert block["cpu_percent"]["mean"] == 35.0 and block["running_tasks"] == 1.0
    assert from_environment(WINDOW[1], WINDOW[0]) is None  # no window: nothing to read


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}


def _facts(block: dict[str, Any] | None) -> RunFacts:
    return RunFacts(exit_code=0, interrupted=False, requested_window_s=60.0, window_s=60.0,
                    total_requests=6000, failures=0, remote_generator=True,
                    window=WINDOW, service_utilisation=block)
