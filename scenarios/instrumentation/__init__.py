"""The suite's instrumentation inside a Locust process: the HDR recorder (microsecond latency per
endpoint), the event-loop probe, the requests-in-flight count, the CPU report, the distributed
stats-reset fix and the master's info routes, plus the readers the runner uses on what they
write. Lazy on purpose: the runner imports ``percentile_ms`` or ``CONFIG_ROUTE`` from here
without importing Locust (whose import monkey-patches the process with gevent).

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.instrumentation._cpu_report import add_master_cpu_route, start_worker_cpu_refresh
    from scenarios.instrumentation._distributed import (
        flush_worker_stats,
        install_on_master,
        install_on_worker,
    )
    from scenarios.instrumentation._hdr import Recorder, percentile_ms, read_evidence
    from scenarios.instrumentation._hdr import install as install_hdr
    from scenarios.instrumentation._in_flight import TRACKER
    from scenarios.instrumentation._in_flight import install as install_in_flight
    from scenarios.instrumentation._instrument import register, wrapped_clients
    from scenarios.instrumentation._loop_probe import instrumentation_on
    from scenarios.instrumentation._loop_probe import start as start_loop_probe
    from scenarios.instrumentation._master_info import (
        CONFIG_ROUTE,
        STATS_ROUTE,
        add_master_routes,
        keep_history_per_point,
    )
    from scenarios.instrumentation._settle import (
        CLOSED_MARKER,
        INTERVAL_LABEL,
        OPENED_MARKER,
        OPENING_MARKER,
        SETTLE_MAX_S,
        SLICE_S,
        WINDOW_ENV,
        auto_stop,
        batch_means,
        throughput_settled,
    )
    from scenarios.instrumentation._sockets import accept_queue as accept_queue_of
    from scenarios.instrumentation._sockets import socket_queues
    from scenarios.instrumentation._window import wait_idle
    from scenarios.instrumentation._window import write_edges as write_window_edges

__all__ = [
    "CLOSED_MARKER",
    "CONFIG_ROUTE",
    "INTERVAL_LABEL",
    "OPENED_MARKER",
    "OPENING_MARKER",
    "SETTLE_MAX_S",
    "SLICE_S",
    "STATS_ROUTE",
    "TRACKER",
    "WINDOW_ENV",
    "Recorder",
    "accept_queue_of",
    "add_master_cpu_route",
    "add_master_routes",
    "auto_stop",
    "batch_means",
    "flush_worker_stats",
    "install_hdr",
    "install_in_flight",
    "install_on_master",
    "install_on_worker",
    "instrumentation_on",
    "keep_history_per_point",
    "percentile_ms",
    "read_evidence",
    "register",
    "socket_queues",
    "start_loop_probe",
    "start_worker_cpu_refresh",
    "throughput_settled",
    "wait_idle",
    "wrapped_clients",
    "write_window_edges",
]

_HOMES = {  # public name -> (module of this package, its name there)
    "CLOSED_MARKER": ("_settle", "CLOSED_MARKER"),
    "OPENED_MARKER": ("_settle", "OPENED_MARKER"),
    "OPENING_MARKER": ("_settle", "OPENING_MARKER"),
    "WINDOW_ENV": ("_settle", "WINDOW_ENV"),
    "INTERVAL_LABEL": ("_settle", "INTERVAL_LABEL"),
    "SETTLE_MAX_S": ("_settle", "SETTLE_MAX_S"),
    "SLICE_S": ("_settle", "SLICE_S"),
    "accept_queue_of": ("_sockets", "accept_queue"),
    "socket_queues": ("_sockets", "socket_queues"),
    "auto_stop": ("_settle", "auto_stop"),
    "batch_means": ("_settle", "batch_means"),
    "throughput_settled": ("_settle", "throughput_settled"),
    "Recorder": ("_hdr", "Recorder"),
    "percentile_ms": ("_hdr", "percentile_ms"),
    "read_evidence": ("_hdr", "read_evidence"),
    "install_hdr": ("_hdr", "install"),
    "instrumentation_on": ("_loop_probe", "instrumentation_on"),
    "start_loop_probe": ("_loop_probe", "start"),
    "TRACKER": ("_in_flight", "TRACKER"),
    "install_in_flight": ("_in_flight", "install"),
    "add_master_cpu_route": ("_cpu_report", "add_master_cpu_route"),
    "start_worker_cpu_refresh": ("_cpu_report", "start_worker_cpu_refresh"),
    "flush_worker_stats": ("_distributed", "flush_worker_stats"),
    "install_on_master": ("_distributed", "install_on_master"),
    "install_on_worker": ("_distributed", "install_on_worker"),
    "CONFIG_ROUTE": ("_master_info", "CONFIG_ROUTE"),
    "STATS_ROUTE": ("_master_info", "STATS_ROUTE"),
    "add_master_routes": ("_master_info", "add_master_routes"),
    "keep_history_per_point": ("_master_info", "keep_history_per_point"),
    "register": ("_instrument", "register"),
    "wrapped_clients": ("_instrument", "wrapped_clients"),
    "wait_idle": ("_window", "wait_idle"),
    "write_window_edges": ("_window", "write_edges"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
