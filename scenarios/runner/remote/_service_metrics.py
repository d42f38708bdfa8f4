"""The service's CPU and memory over a remote point's window, from CloudWatch.

ECS publishes each service's ``CPUUtilization`` and ``MemoryUtilization`` (namespace ``AWS/ECS``,
dimensions ``ClusterName`` and ``ServiceName``: percent of what the tasks reserve, one value per
minute; the ``Average`` statistic is the mean over the service's tasks, ``Maximum`` the busiest
task's), and Container Insights its ``RunningTaskCount`` (``ECS/ContainerInsights``). The sweep
task reads them with ``GetMetricData`` for the whole minutes that overlap the point's window and
records them in run.json as ``remote.service_utilisation`` (results/README.md), which the verdict
reads to say whether the service was the limit. CloudWatch publishes a minute a minute or two
after it ends: the reader polls until every minute of the window has a value, or until its wait
runs out, and says which (``complete``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

PERIOD_S = 60  # ECS service metrics and Container Insights: one value per minute
NAMESPACE = "AWS/ECS"
INSIGHTS = "ECS/ContainerInsights"
# query id -> (namespace, metric, statistic)
QUERIES: dict[str, tuple[str, str, str]] = {
    "cpu_mean": (NAMESPACE, "CPUUtilization", "Average"),
    "cpu_max": (NAMESPACE, "CPUUtilization", "Maximum"),
    "memory_mean": (NAMESPACE, "MemoryUtilization", "Average"),
    "memory_max": (NAMESPACE, "MemoryUtilization", "Maximum"),
    "tasks": (INSIGHTS, "RunningTaskCount", "Average"),
}


def minute_bounds(window_start: float, window_end: float,
                  period_s: int = PERIOD_S) -> tuple[float, float]:
    """The whole periods (epoch seconds) that overlap the window: [floor(start), ceil(end))."""
    start = math.floor(window_start / period_s) * period_s
    end = max(math.ceil(window_end / period_s) * period_s, start + period_s)
    return float(start), float(end)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")


def _fetch(cloudwatch: Any, cluster: str, service: str, start: float,
           end: float) -> dict[str, dict[float, float]]:
    """Each query's values by the epoch second of their period's start."""
    dimensions = [{"Name": "ClusterName", "Value": cluster},
                  {"Name": "ServiceName", "Value": service}]
    queries = [{"Id": key, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
        "Period": PERIOD_S, "Stat": stat}} for key, (namespace, metric, stat) in QUERIES.items()]
    found: dict[str, dict[float, float]] = {key: {} for key in QUERIES}
    token: str | None = None
    while True:
        extra = {"NextToken": token} if token else {}
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=queries, StartTime=datetime.fromtimestamp(start, tz=UTC),
            EndTime=datetime.fromtimestamp(end, tz=UTC), ScanBy="TimestampAscending",
            **extra)
        for result in answer.get("MetricDataResults", []):
            values = found.setdefault(result["Id"], {})
            for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []),
                                    strict=False):
                values[stamp.timestamp()] = float(value)
        token = answer.get("NextToken")
        if not token:
            return found


def _figures(values: dict[float, float], maximum: dict[float, float]) -> dict[str, Any]:
    return {"mean": round(sum(values.values()) / len(values), 2) if values else None,
            "max": round(max(maximum.values()), 2) if maximum else None,
            "minutes": len(values)}


def service_utilisation(cloudwatch: Any, cluster: str, service: str, window_start: float,
                        window_end: float, wait_s: float = 0.0, poll_s: float = 15.0,
                        clock: Callable[[], float] = time.monotonic,
                        sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """The ``remote.service_utilisation`` block of one point (results/README.md).

    ``cpu_percent`` and ``memory_percent``: ``mean`` is the mean over the window's minutes of
    the tasks' mean, ``max`` the busiest task's highest minute, ``minutes`` how many minutes had
    a value. Polls up to ``wait_s`` for the window's last minute; never raises: a failed read is
    recorded as ``error``.
    """
    start, end = minute_bounds(window_start, window_end)
    expected = int((end - start) / PERIOD_S)
    block: dict[str, Any] = {
        "source": "cloudwatch", "namespace": NAMESPACE, "cluster": cluster, "service": service,
        "period_s": PERIOD_S, "query_start": _iso(start), "query_end": _iso(end),
        "minutes_expected": expected, "cpu_percent": None, "memory_percent": None,
        "running_tasks": None, "complete": False, "error": None}
    deadline = clock() + max(wait_s, 0.0)
    while True:
        try:
            found = _fetch(cloudwatch, cluster, service, start, end)
        except Exception as error:  # botocore: access denied, no endpoint, throttling...
            block["error"] = f"{type(error).__name__}: {error}"[:300]
            return block
        complete = len(found["cpu_mean"]) >= expected and len(found["memory_mean"]) >= expected
        if complete or clock() + poll_s > deadline:
            break
        sleep(poll_s)
    tasks = found["tasks"]
    block.update(
        cpu_percent=_figures(found["cpu_mean"], found["cpu_max"]),
        memory_percent=_figures(found["memory_mean"], found["memory_max"]),
        running_tasks=round(sum(tasks.values()) / len(tasks), 2) if tasks else None,
        complete=complete)
    return block


def from_environment(window_start: float, window_end: float) -> dict[str, Any] | None:
    """The block for the service the sweep task's environment names (``CLUSTER`` and
    ``SERVICE_NAME``, set by terraform/sweep.tf; ``SERVICE_METRICS_WAIT_S`` bounds the wait for
    CloudWatch); None where they are not set (a remote master outside the stack)."""
    cluster, service = os.environ.get("CLUSTER"), os.environ.get("SERVICE_NAME")
    if not cluster or not service or window_end <= window_start:
        return None
    try:
        wait_s = float(os.environ.get("SERVICE_METRICS_WAIT_S") or 0)
        import boto3  # the loadgen extra; only a sweep inside the stack gets here

        cloudwatch = boto3.client("cloudwatch", region_name=os.environ.get("AWS_REGION"),
                                  endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    except Exception as error:  # no boto3, a bad wait, no region
        return {"source": "cloudwatch", "cluster": cluster, "service": service,
                "complete": False, "error": f"{type(error).__name__}: {error}"[:300]}
    return service_utilisation(cloudwatch, cluster, service, window_start, window_end, wait_s)
