"""The sweep runner behind ``python -m scenarios.sweep``: everything outside the Locust process.

The locustfile and what runs inside Locust (user classes, tasks, mixes, pacing, seeding, the
instrumentation) stay in ``scenarios/``; this package starts and watches Locust, the local
service, its database, cache, CPU envelope and delay proxy, samples CPU, judges every run and
writes ``results/`` in the format of results/README.md. Its sub-packages, one concern each:
``config`` (the sweep configuration and its matrix of points, SLOs), ``target`` (the local
service, database, cache, CPU envelope, delay proxy), ``generator`` (Locust processes, their
output, calibration, a remote master), ``evidence`` (probes and the verdict's rules),
``record`` (results writing), ``remote`` (a point on a remote master, sweeps on S3/ECS). Here at
the top: the sweep loop (``_runner``), a point's runs (``_point_runner``), the local processes
they run against (``_sweep_target``), one local run (``_local_run``), the automatic CPU
envelope (``_auto_envelope``), the check that refuses a tiny one (``_envelope_check``) and the
capacity search under an SLO (``_capacity_search``, run by ``_capacity_sweep``), which
orchestrate the sub-packages. A module imports another sub-package only through that
sub-package's ``__init__``.

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner._auto_envelope import (
        AutoEnvelopeError,
        converged,
        probe_delay,
        probe_users,
        size_service_cpu,
    )
    from scenarios.runner._capacity_search import MAX_RATE as CAPACITY_MAX_RATE
    from scenarios.runner._capacity_search import (
        CapacityError,
        CapacitySearch,
        CapacitySpec,
        capacity_flags,
        capacity_spec,
        judge_run,
        round_rate,
    )
    from scenarios.runner._capacity_search import Trial as CapacityTrial
    from scenarios.runner._capacity_search import describe as describe_capacity
    from scenarios.runner._capacity_sweep import CapacitySweep
    from scenarios.runner._envelope_check import MIN_BATCH, measure_service_cost, tiny_envelopes
    from scenarios.runner._local_run import LocalRun
    from scenarios.runner._runner import SweepRunner

__all__ = ["CAPACITY_MAX_RATE", "MIN_BATCH", "AutoEnvelopeError", "CapacityError",
           "CapacitySearch", "CapacitySpec", "CapacitySweep", "CapacityTrial", "LocalRun",
           "SweepRunner", "capacity_flags", "capacity_spec", "converged", "describe_capacity",
           "judge_run", "measure_service_cost", "probe_delay", "probe_users", "round_rate",
           "size_service_cpu", "tiny_envelopes"]

_HOMES = {  # public name -> (module of this package, its name there)
    "SweepRunner": ("_runner", "SweepRunner"),
    "LocalRun": ("_local_run", "LocalRun"),
    "AutoEnvelopeError": ("_auto_envelope", "AutoEnvelopeError"),
    "size_service_cpu": ("_auto_envelope", "size_service_cpu"),
    "MIN_BATCH": ("_envelope_check", "MIN_BATCH"),
    "measure_service_cost": ("_envelope_check", "measure_service_cost"),
    "tiny_envelopes": ("_envelope_check", "tiny_envelopes"),
    "converged": ("_auto_envelope", "converged"),
    "probe_delay": ("_auto_envelope", "probe_delay"),
    "probe_users": ("_auto_envelope", "probe_users"),
    "CapacityError": ("_capacity_search", "CapacityError"),
    "CapacitySearch": ("_capacity_search", "CapacitySearch"),
    "CapacitySpec": ("_capacity_search", "CapacitySpec"),
    "capacity_flags": ("_capacity_search", "capacity_flags"),
    "capacity_spec": ("_capacity_search", "capacity_spec"),
    "CAPACITY_MAX_RATE": ("_capacity_search", "MAX_RATE"),
    "CapacityTrial": ("_capacity_search", "Trial"),
    "describe_capacity": ("_capacity_search", "describe"),
    "judge_run": ("_capacity_search", "judge_run"),
    "round_rate": ("_capacity_search", "round_rate"),
    "CapacitySweep": ("_capacity_sweep", "CapacitySweep"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
