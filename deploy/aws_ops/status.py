"""``status``: what of the stack runs now, and its list price per hour."""

from __future__ import annotations

from typing import Any

from deploy.aws_ops import prices
from deploy.aws_ops._stack import Stack

SWEEP_STARTED_BY = "loadbench-remote-sweep"


def _running_tasks(stack: Stack) -> list[dict[str, Any]]:
    ecs = stack.client("ecs")
    arns = ecs.list_tasks(cluster=stack.cluster, desiredStatus="RUNNING").get("taskArns", [])
    if not arns:
        return []
    return list(ecs.describe_tasks(cluster=stack.cluster, tasks=arns).get("tasks", []))


def status_lines(stack: Stack) -> list[str]:
    """One line per billing part (services, sweep tasks, database, fixed parts) and a total."""
    lines: list[str] = []
    total = 0.0
    ecs = stack.client("ecs")
    names = list(stack.services)
    described = ecs.describe_services(cluster=stack.cluster, services=names)["services"] \
        if names else []
    for service in described:
        spec = stack.services.get(service["serviceName"], {})
        running = int(service.get("runningCount", 0))
        each = prices.fargate_task_hour(int(spec.get("cpu", 0)), int(spec.get("memory", 0)),
                                        bool(spec.get("spot")))
        ipv4 = prices.PUBLIC_IPV4_HOUR if spec.get("public_ip") else 0.0
        cost = running * (each + ipv4)
        total += cost
        lines.append(f"{service['serviceName']}: {running} running of {service['desiredCount']}"
                     f" desired, {spec.get('cpu')} CPU units / {spec.get('memory')} MiB each:"
                     f" US${cost:.3f}/h")
    sweeps = [task for task in _running_tasks(stack)
              if str(task.get("startedBy", "")).startswith(SWEEP_STARTED_BY)]
    for task in sweeps:
        cost = prices.fargate_task_hour(int(task.get("cpu", 0)), int(task.get("memory", 0)))
        total += cost
        lines.append(f"sweep task {task['taskArn'].rsplit('/', 1)[-1]}: {task.get('lastStatus')}"
                     f", started {task.get('startedAt', task.get('createdAt'))}: US${cost:.3f}/h")
    if stack.database:
        rds = stack.client("rds")
        (instance,) = rds.describe_db_instances(
            DBInstanceIdentifier=stack.database)["DBInstances"]
        state = instance["DBInstanceStatus"]
        storage = int(instance.get("AllocatedStorage", 0)) * prices.RDS_GP3_GB_MONTH \
            / prices.HOURS_PER_MONTH
        hourly = prices.RDS_INSTANCE_HOUR.get(instance["DBInstanceClass"])
        compute = (hourly or 0.0) if state not in ("stopped", "stopping") else 0.0
        total += compute + storage
        known = "" if hourly is not None else " (class not in the price table: not counted)"
        lines.append(f"database {stack.database}: {state}, {instance['DBInstanceClass']}, "
                     f"{instance.get('AllocatedStorage')} GiB: US${compute + storage:.3f}/h"
                     f"{known}")
    if stack.cache_node_type:
        cost = prices.CACHE_NODE_HOUR.get(stack.cache_node_type, 0.0)
        total += cost
        lines.append(f"cache {stack.cache_node_type}: US${cost:.3f}/h (bills while deployed)")
    fixed = stack.load_balancers * prices.ALB_HOUR + stack.interface_endpoints * 2 * \
        prices.INTERFACE_ENDPOINT_ZONE_HOUR + 2 * prices.PUBLIC_IPV4_HOUR
    total += fixed
    lines.append(f"{stack.load_balancers} load balancer(s) and {stack.interface_endpoints} "
                 f"interface endpoint(s) in 2 zones: US${fixed:.3f}/h plus LCUs "
                 "(bill while deployed, even paused)")
    lines.append(f"total: about US${total:.3f}/h ({prices.PRICE_SOURCE}; region of this "
                 f"deployment: {stack.region})")
    return lines
