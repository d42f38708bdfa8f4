"""The local target: the product service on loopback (started, pinned, seeded, health-checked,
kept as warm spares), its PostgreSQL database and Redis cache, the CPU envelope (cgroup quota)
it runs in, and the delaying proxy in front of it. Anything that starts, shapes or resets what
the load is aimed at belongs here.

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner.target._backends import BackendServers
    from scenarios.runner.target._cpu_limit import (
        DEFAULT_PERIOD_MS,
        CpuEnvelope,
        CpuLimitError,
        parse_service_cpu,
        period_and_quota,
        throttling,
    )
    from scenarios.runner.target._db_servers import (
        Postgres,
        Server,
        ServerError,
        postgres_bin_dir,
        redis_command,
        redis_server_path,
        start_postgres,
        start_redis,
    )
    from scenarios.runner.target._delay_proxy import parse_rtt_delay
    from scenarios.runner.target._delay_run import DelayProxy, describe, start_proxy
    from scenarios.runner.target._local_target import (
        REPO_ROOT,
        LocalService,
        TargetError,
        child_setup,
        default_placement,
        health,
        keep_runner_off,
        start_service,
    )
    from scenarios.runner.target._spares import ServicePool, seed_pipelined

__all__ = [
    "DEFAULT_PERIOD_MS",
    "REPO_ROOT",
    "BackendServers",
    "CpuEnvelope",
    "CpuLimitError",
    "DelayProxy",
    "LocalService",
    "Postgres",
    "Server",
    "ServerError",
    "ServicePool",
    "TargetError",
    "child_setup",
    "default_placement",
    "describe",
    "health",
    "keep_runner_off",
    "parse_rtt_delay",
    "parse_service_cpu",
    "period_and_quota",
    "postgres_bin_dir",
    "redis_command",
    "redis_server_path",
    "seed_pipelined",
    "start_postgres",
    "start_proxy",
    "start_redis",
    "start_service",
    "throttling",
]

_HOMES = {  # public name -> (module of this package, its name there)
    "LocalService": ("_local_target", "LocalService"),
    "REPO_ROOT": ("_local_target", "REPO_ROOT"),
    "TargetError": ("_local_target", "TargetError"),
    "child_setup": ("_local_target", "child_setup"),
    "default_placement": ("_local_target", "default_placement"),
    "health": ("_local_target", "health"),
    "keep_runner_off": ("_local_target", "keep_runner_off"),
    "start_service": ("_local_target", "start_service"),
    "ServicePool": ("_spares", "ServicePool"),
    "seed_pipelined": ("_spares", "seed_pipelined"),
    "BackendServers": ("_backends", "BackendServers"),
    "Postgres": ("_db_servers", "Postgres"),
    "Server": ("_db_servers", "Server"),
    "ServerError": ("_db_servers", "ServerError"),
    "postgres_bin_dir": ("_db_servers", "postgres_bin_dir"),
    "redis_command": ("_db_servers", "redis_command"),
    "redis_server_path": ("_db_servers", "redis_server_path"),
    "start_postgres": ("_db_servers", "start_postgres"),
    "start_redis": ("_db_servers", "start_redis"),
    "CpuEnvelope": ("_cpu_limit", "CpuEnvelope"),
    "CpuLimitError": ("_cpu_limit", "CpuLimitError"),
    "DEFAULT_PERIOD_MS": ("_cpu_limit", "DEFAULT_PERIOD_MS"),
    "parse_service_cpu": ("_cpu_limit", "parse_service_cpu"),
    "period_and_quota": ("_cpu_limit", "period_and_quota"),
    "throttling": ("_cpu_limit", "throttling"),
    "parse_rtt_delay": ("_delay_proxy", "parse_rtt_delay"),
    "DelayProxy": ("_delay_run", "DelayProxy"),
    "describe": ("_delay_run", "describe"),
    "start_proxy": ("_delay_run", "start_proxy"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
