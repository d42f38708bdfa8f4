"""Sweep tasks (started with run-task, so not in the Terraform state) and their generators."""

from __future__ import annotations

import json
import math
import shlex
import time
from typing import Any

from deploy.aws_ops._stack import OpsError, Stack

SWEEP_STARTED_BY = "loadbench-remote-sweep"


def stop_sweep_tasks(stack: Stack, wait_s: float = 0.0) -> list[str]:
    """Stop every task run-task started for a sweep; their ARNs. Destroy and pause call it."""
    ecs = stack.client("ecs")
    arns: list[str] = []
    for status in ("RUNNING", "PENDING"):
        pages = ecs.get_paginator("list_tasks").paginate(
            cluster=stack.cluster, startedBy=SWEEP_STARTED_BY, desiredStatus=status)
        for page in pages:
            arns.extend(page.get("taskArns", []))
    for arn in arns:
        ecs.stop_task(cluster=stack.cluster, task=arn, reason="make destroy/pause")
    if arns and wait_s > 0:
        ecs.get_waiter("tasks_stopped").wait(
            cluster=stack.cluster, tasks=arns[:100],
            WaiterConfig={"Delay": 6, "MaxAttempts": max(1, int(wait_s / 6))})
    return arns


def generator_services(stack: Stack) -> tuple[str | None, str | None]:
    """The Locust master's and workers' ECS service names (None without Locust)."""
    by_role = {spec.get("role"): name for name, spec in stack.services.items()}
    return by_role.get("locust-master"), by_role.get("locust-worker")


def workers_needed(users: int, users_per_worker: int, rate: float | None = None,
                   cpu_ms_per_request: float | None = None, worker_vcpu: float = 1.0,
                   utilisation: float = 0.6) -> int:
    """Workers for a sweep's largest point: from its users, or from its request rate and the
    calibrated generator CPU per request (a worker busy up to ``utilisation`` of its vCPU)."""
    by_users = math.ceil(users / users_per_worker) if users > 0 else 1
    if rate and cpu_ms_per_request:
        by_cpu = math.ceil(rate * cpu_ms_per_request / 1000 / (worker_vcpu * utilisation))
        return max(1, by_cpu)
    return max(1, by_users)


def _flag_values(sweep_args: str, flag: str) -> list[str]:
    """The comma-separated values of ``flag`` in a sweep's flags (``--flag a,b`` or ``=``)."""
    words = shlex.split(sweep_args)
    values: list[str] = []
    for index, word in enumerate(words):
        text = word.split("=", 1)[1] if word.startswith(f"{flag}=") else (
            words[index + 1] if word == flag and index + 1 < len(words) else "")
        values.extend(part.strip() for part in text.split(",") if part.strip())
    return values


def largest_users(sweep_args: str) -> int:
    """The largest ``--users`` value in a sweep's flags (0: not given, e.g. a preset's)."""
    return max((int(v) for v in _flag_values(sweep_args, "--users") if v.isdigit()), default=0)


def largest_rate(sweep_args: str) -> float:
    """The largest ``--arrival-rate`` (arrivals/s, the open model) in a sweep's flags (0: none)."""
    rates = []
    for value in _flag_values(sweep_args, "--arrival-rate"):
        try:
            rates.append(float(value))
        except ValueError:
            continue  # the sweep itself refuses it, in one line
    return max(rates, default=0.0)


# Generator CPU per request by user class, ms of one core: what one Locust process reached on
# 2026-12-04 on the suite's 2-core test machine (/work/shared/notes: HttpUser about 3k requests/s
# per core, FastHttpUser about 10k). A Fargate vCPU may differ: CPU_MS_PER_REQUEST (make) or
# --cpu-ms-per-request gives the figure `python -m scenarios.sweep` calibrated there.
CPU_MS_PER_REQUEST = {"http": 0.33, "fast": 0.10}


def sweep_workers(sweep_args: str, users_per_worker: int, users: int = 0,
                  cpu_ms_per_request: float = 0.0) -> int:
    """Workers for a sweep from its flags: from its largest ``--arrival-rate`` and the generator
    CPU per request of its slowest user class (HttpUser unless ``--user-classes`` says only
    ``fast``), else from its largest ``--users``."""
    rate = largest_rate(sweep_args)
    classes = _flag_values(sweep_args, "--user-classes") or ["http"]
    cpu_ms = cpu_ms_per_request or max(CPU_MS_PER_REQUEST.get(c, CPU_MS_PER_REQUEST["http"])
                                       for c in classes)
    return workers_needed(users or largest_users(sweep_args), users_per_worker,
                          rate=rate or None, cpu_ms_per_request=cpu_ms)


def start_generators(stack: Stack, workers: int, wait_s: float = 600.0) -> dict[str, Any]:
    """Scale the master to 1 and the workers to ``workers``; wait until they run."""
    master, worker = generator_services(stack)
    if master is None or worker is None:
        raise OpsError("the stack has no Locust services: deploy with enable_locust = true")
    most = int(stack.services[worker].get("max_count") or workers)
    if workers > most:
        raise OpsError(f"{workers} workers asked, locust_workers allows {most} (the Fargate "
                       "quota was checked for that many): raise locust_workers or give WORKERS")
    ecs = stack.client("ecs")
    ecs.update_service(cluster=stack.cluster, service=master, desiredCount=1)
    ecs.update_service(cluster=stack.cluster, service=worker, desiredCount=workers)
    deadline = time.monotonic() + wait_s
    while True:
        services = ecs.describe_services(cluster=stack.cluster,
                                         services=[master, worker])["services"]
        running = {s["serviceName"]: int(s.get("runningCount", 0)) for s in services}
        if running.get(master, 0) >= 1 and running.get(worker, 0) >= workers:
            return {"master": master, "workers": workers, "running": running}
        if time.monotonic() > deadline:
            stop_generators(stack)
            raise OpsError(f"Locust tasks not running after {wait_s:.0f} s ({running}); "
                           "stopped them again: see make status and the log group")
        time.sleep(5)


def stop_generators(stack: Stack) -> list[str]:
    """Scale the master and the workers to 0; the services scaled."""
    ecs = stack.client("ecs")
    names = [name for name in generator_services(stack) if name is not None]
    for name in names:
        ecs.update_service(cluster=stack.cluster, service=name, desiredCount=0)
    return names


def validate_run_task_request(stack: Stack, request: dict[str, Any]) -> list[str]:
    """Check a run-task request against the registered task definition and the network;
    the problems found (none: the request would be accepted as far as these APIs tell)."""
    problems: list[str] = []
    ecs, ec2 = stack.client("ecs"), stack.client("ec2")
    task = ecs.describe_task_definition(taskDefinition=request["taskDefinition"])[
        "taskDefinition"]
    containers = {c["name"]: c for c in task["containerDefinitions"]}
    if request.get("cluster") != stack.cluster:
        problems.append(f"cluster {request.get('cluster')} is not the stack's {stack.cluster}")
    if request.get("launchType", "FARGATE") not in task.get("requiresCompatibilities", []) \
            and not request.get("capacityProviderStrategy"):
        problems.append(f"launch type {request.get('launchType')} not in the task definition's "
                        f"{task.get('requiresCompatibilities')}")
    if task.get("networkMode") != "awsvpc":
        problems.append(f"network mode {task.get('networkMode')}, awsvpc expected")
    network = request.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    for override in request.get("overrides", {}).get("containerOverrides", []):
        if override["name"] not in containers:
            problems.append(f"container override {override['name']} is not in the task "
                            f"definition ({sorted(containers)})")
        elif not all(isinstance(arg, str) for arg in override.get("command", [])):
            problems.append("the command override holds a non-string")
        size = len(json.dumps(request.get("overrides", {})))
        if size > 8192:
            problems.append(f"overrides are {size} bytes, run-task allows 8192")
    subnets = network.get("subnets", [])
    found = ec2.describe_subnets(SubnetIds=subnets)["Subnets"] if subnets else []
    if not subnets or len(found) != len(subnets):
        problems.append(f"subnets {subnets}: not all exist")
    groups = network.get("securityGroups", [])
    found_groups = ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"] \
        if groups else []
    if not groups or len(found_groups) != len(groups):
        problems.append(f"security groups {groups}: not all exist")
    if network.get("assignPublicIp") != "DISABLED":
        problems.append("the sweep task must run without a public IP (private subnets)")
    return problems


def locust_ui_command(stack: Stack) -> str:
    """The ``aws ssm start-session`` command that forwards 127.0.0.1:8089 to the master."""
    master, _ = generator_services(stack)
    if master is None:
        raise OpsError("the stack has no Locust master: deploy with enable_locust = true")
    ecs = stack.client("ecs")
    arns = ecs.list_tasks(cluster=stack.cluster, serviceName=master,
                          desiredStatus="RUNNING").get("taskArns", [])
    if not arns:
        raise OpsError("no Locust master runs (it runs during a sweep: make remote-sweep, or "
                       "locust_always_on = true)")
    task = ecs.describe_tasks(cluster=stack.cluster, tasks=arns[:1])["tasks"][0]
    runtime = next((c.get("runtimeId") for c in task.get("containers", [])
                    if c.get("name") == "locust-master"), None)
    if not runtime:
        raise OpsError("the master's container has no runtime id yet: retry in a minute")
    target = f"ecs:{stack.cluster}_{task['taskArn'].rsplit('/', 1)[-1]}_{runtime}"
    parameters = json.dumps({"portNumber": ["8089"], "localPortNumber": ["8089"]})
    return (f"aws ssm start-session --region {stack.region} --target {target} "
            f"--document-name AWS-StartPortForwardingSession --parameters '{parameters}'")
