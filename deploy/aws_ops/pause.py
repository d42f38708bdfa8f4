"""``pause`` and ``resume``: every ECS service to 0 tasks and the database stopped, and back.

What still bills while paused: the load balancers, the interface endpoints, the database's
storage, the cache (ElastiCache cannot be stopped) and the results bucket. RDS starts a stopped
instance again by itself after 7 days; ``status`` shows it.
"""

from __future__ import annotations

from typing import Any

from deploy.aws_ops._stack import OpsError, Stack
from deploy.aws_ops.sweeps import stop_sweep_tasks


def pause(stack: Stack) -> list[str]:
    """Stop sweep tasks, scale every service to 0, stop the database; what was done."""
    done = [f"stopped sweep task {arn.rsplit('/', 1)[-1]}" for arn in stop_sweep_tasks(stack)]
    ecs = stack.client("ecs")
    for name in stack.services:
        ecs.update_service(cluster=stack.cluster, service=name, desiredCount=0)
        done.append(f"{name}: desired count 0")
    if stack.database:
        rds = stack.client("rds")
        state = _db_state(rds, stack.database)
        if state == "available":
            rds.stop_db_instance(DBInstanceIdentifier=stack.database)
            done.append(f"database {stack.database}: stopping")
        else:
            done.append(f"database {stack.database}: {state}, left as it is")
    return done


def resume(stack: Stack, wait: bool = True) -> list[str]:
    """Start the database (and wait for it), then the services at their configured counts."""
    done: list[str] = []
    if stack.database:
        rds = stack.client("rds")
        state = _db_state(rds, stack.database)
        if state == "stopped":
            rds.start_db_instance(DBInstanceIdentifier=stack.database)
            done.append(f"database {stack.database}: starting")
        elif state != "available":
            done.append(f"database {stack.database}: {state}")
        if wait:
            try:
                rds.get_waiter("db_instance_available").wait(
                    DBInstanceIdentifier=stack.database,
                    WaiterConfig={"Delay": 15, "MaxAttempts": 80})
            except Exception as error:  # botocore's WaiterError
                raise OpsError(f"database {stack.database} did not become available: "
                               f"{error}; run make resume again") from None
            done.append(f"database {stack.database}: available")
    ecs = stack.client("ecs")
    for name, spec in stack.services.items():
        count = int(spec.get("resume_count", 0))
        ecs.update_service(cluster=stack.cluster, service=name, desiredCount=count)
        done.append(f"{name}: desired count {count}")
    return done


def _db_state(rds: Any, identifier: str) -> str:
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    return str(instance["DBInstanceStatus"])
