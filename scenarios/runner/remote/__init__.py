"""Remote sweeps: one point on a remote Locust master (``run_on_master``, with the service's CPU
and memory over its window from CloudWatch: ``service_utilisation``), and the S3/ECS calls
behind ``python -m scenarios.remote_results`` (upload, list, fetch a sweep; start a sweep task).

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner.remote._remote_run import check_master, run_on_master
    from scenarios.runner.remote._remote_sweep import (
        RemoteResultsError,
        deployment,
        fetch_sweep,
        list_sweeps,
        run_task,
        run_task_request,
        upload_sweep,
    )
    from scenarios.runner.remote._service_metrics import (
        from_environment as service_metrics_from_environment,
    )
    from scenarios.runner.remote._service_metrics import minute_bounds, service_utilisation

__all__ = [
    "RemoteResultsError",
    "check_master",
    "deployment",
    "fetch_sweep",
    "list_sweeps",
    "minute_bounds",
    "run_on_master",
    "run_task",
    "run_task_request",
    "service_metrics_from_environment",
    "service_utilisation",
    "upload_sweep",
]

_HOMES = {  # public name -> (module of this package, its name there)
    "check_master": ("_remote_run", "check_master"),
    "run_on_master": ("_remote_run", "run_on_master"),
    "RemoteResultsError": ("_remote_sweep", "RemoteResultsError"),
    "deployment": ("_remote_sweep", "deployment"),
    "fetch_sweep": ("_remote_sweep", "fetch_sweep"),
    "list_sweeps": ("_remote_sweep", "list_sweeps"),
    "run_task": ("_remote_sweep", "run_task"),
    "run_task_request": ("_remote_sweep", "run_task_request"),
    "upload_sweep": ("_remote_sweep", "upload_sweep"),
    "minute_bounds": ("_service_metrics", "minute_bounds"),
    "service_metrics_from_environment": ("_service_metrics", "from_environment"),
    "service_utilisation": ("_service_metrics", "service_utilisation"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
