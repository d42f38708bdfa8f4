"""The sweep runner behind ``python -m scenarios.sweep``: everything outside the Locust process.

The locustfile and what runs inside Locust (user classes, tasks, mixes, pacing, seeding, the
instrumentation) stay in ``scenarios/``; this package starts and watches Locust, the local
service, its database, cache, CPU envelope and delay proxy, samples CPU, judges every run and
writes ``results/`` in the format of results/README.md. Its sub-packages, one concern each:
``config`` (the sweep configuration and its matrix of points, SLOs), ``target`` (the local
service, database, cache, CPU envelope, delay proxy), ``generator`` (Locust processes, their
output, calibration, a remote master), ``evidence`` (probes and the verdict's rules),
``record`` (results writing), ``remote`` (a point on a remote master, sweeps on S3/ECS). Here at
the top: the sweep loop (``_runner``), one local run (``_local_run``) and the automatic CPU
envelope (``_auto_envelope``), which orchestrate the sub-packages. A module imports another
sub-package only through that sub-package's ``__init__``.

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner._auto_envelope import (
        MIN_BATCH,
        AutoEnvelopeError,
        measure_service_cost,
        size_service_cpu,
        tiny_envelopes,
    )
    from scenarios.runner._local_run import LocalRun
    from scenarios.runner._runner import SweepRunner

__all__ = ["MIN_BATCH", "AutoEnvelopeError", "LocalRun", "SweepRunner", "measure_service_cost",
           "size_service_cpu", "tiny_envelopes"]

_HOMES = {  # public name -> (module of this package, its name there)
    "SweepRunner": ("_runner", "SweepRunner"),
    "LocalRun": ("_local_run", "LocalRun"),
    "AutoEnvelopeError": ("_auto_envelope", "AutoEnvelopeError"),
    "size_service_cpu": ("_auto_envelope", "size_service_cpu"),
    "MIN_BATCH": ("_auto_envelope", "MIN_BATCH"),
    "measure_service_cost": ("_auto_envelope", "measure_service_cost"),
    "tiny_envelopes": ("_auto_envelope", "tiny_envelopes"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
