"""The evidence about a run and the rules that judge it: CPU sampling, the event-loop lateness and
requests-in-flight files Locust leaves, the service's accept queue and its own /metrics view of
the window, and the verdict (``judge``, a pure function of ``RunFacts``). A new verdict signal is
one probe here plus one rule in ``_health``/``_verdict``.

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner.evidence._accept_queue import accept_queue, socket_queues
    from scenarios.runner.evidence._censoring import censored
    from scenarios.runner.evidence._censoring import shown as shown_percentile
    from scenarios.runner.evidence._cpu_sampler import (
        CpuSampler,
        cpu_csv,
        host_busy,
        host_series,
        mark_window,
        summarise,
    )
    from scenarios.runner.evidence._evidence import (
        EVIDENCE_DIR,
        EVIDENCE_ENV,
        read_in_flight,
        read_lateness,
    )
    from scenarios.runner.evidence._queue_view import queue_view
    from scenarios.runner.evidence._server_view import (
        DEFAULT_HISTOGRAMS,
        Scrape,
        no_histogram,
        read_edges,
        scrape,
        scrape_url,
        window_count,
        window_view,
    )
    from scenarios.runner.evidence._service_side import (
        ServiceSideError,
        check_target,
        not_load,
        scraper,
        service_pids,
    )
    from scenarios.runner.evidence._service_side import describe as describe_service_side
    from scenarios.runner.evidence._service_side import missing as service_side_missing
    from scenarios.runner.evidence._settle import (
        read_settle,
        run_time_bound,
        settle_slice,
        settle_warning,
        window_blocks,
        window_request,
    )
    from scenarios.runner.evidence._stalls import read_stalls, stalls_in_window
    from scenarios.runner.evidence._steady import (
        WindowSecond,
        compare_halves,
        steady_state,
        window_seconds,
    )
    from scenarios.runner.evidence._verdict import (
        CpuSample,
        LatenessSecond,
        RunFacts,
        Thresholds,
        Verdict,
        judge,
    )

__all__ = [
    "DEFAULT_HISTOGRAMS",
    "EVIDENCE_DIR",
    "EVIDENCE_ENV",
    "CpuSample",
    "CpuSampler",
    "LatenessSecond",
    "RunFacts",
    "Scrape",
    "ServiceSideError",
    "Thresholds",
    "Verdict",
    "WindowSecond",
    "accept_queue",
    "censored",
    "check_target",
    "compare_halves",
    "cpu_csv",
    "describe_service_side",
    "host_busy",
    "host_series",
    "judge",
    "mark_window",
    "no_histogram",
    "not_load",
    "queue_view",
    "read_edges",
    "read_in_flight",
    "read_lateness",
    "read_settle",
    "read_stalls",
    "run_time_bound",
    "scrape",
    "scrape_url",
    "scraper",
    "service_pids",
    "service_side_missing",
    "settle_slice",
    "settle_warning",
    "shown_percentile",
    "socket_queues",
    "stalls_in_window",
    "steady_state",
    "summarise",
    "window_blocks",
    "window_count",
    "window_request",
    "window_seconds",
    "window_view",
]

_HOMES = {  # public name -> (module of this package, its name there)
    "read_settle": ("_settle", "read_settle"),
    "run_time_bound": ("_settle", "run_time_bound"),
    "settle_warning": ("_settle", "settle_warning"),
    "window_blocks": ("_settle", "window_blocks"),
    "settle_slice": ("_settle", "settle_slice"),
    "window_request": ("_settle", "window_request"),
    "read_stalls": ("_stalls", "read_stalls"),
    "stalls_in_window": ("_stalls", "stalls_in_window"),
    "steady_state": ("_steady", "steady_state"),
    "WindowSecond": ("_steady", "WindowSecond"),
    "compare_halves": ("_steady", "compare_halves"),
    "window_seconds": ("_steady", "window_seconds"),
    "CpuSampler": ("_cpu_sampler", "CpuSampler"),
    "cpu_csv": ("_cpu_sampler", "cpu_csv"),
    "host_busy": ("_cpu_sampler", "host_busy"),
    "host_series": ("_cpu_sampler", "host_series"),
    "mark_window": ("_cpu_sampler", "mark_window"),
    "summarise": ("_cpu_sampler", "summarise"),
    "EVIDENCE_DIR": ("_evidence", "EVIDENCE_DIR"),
    "EVIDENCE_ENV": ("_evidence", "EVIDENCE_ENV"),
    "read_in_flight": ("_evidence", "read_in_flight"),
    "read_lateness": ("_evidence", "read_lateness"),
    "accept_queue": ("_accept_queue", "accept_queue"),
    "socket_queues": ("_accept_queue", "socket_queues"),
    "queue_view": ("_queue_view", "queue_view"),
    "Scrape": ("_server_view", "Scrape"),
    "scrape": ("_server_view", "scrape"),
    "window_view": ("_server_view", "window_view"),
    "window_count": ("_server_view", "window_count"),
    "read_edges": ("_server_view", "read_edges"),
    "censored": ("_censoring", "censored"),
    "shown_percentile": ("_censoring", "shown"),
    "DEFAULT_HISTOGRAMS": ("_server_view", "DEFAULT_HISTOGRAMS"),
    "no_histogram": ("_server_view", "no_histogram"),
    "scrape_url": ("_server_view", "scrape_url"),
    "describe_service_side": ("_service_side", "describe"),
    "service_side_missing": ("_service_side", "missing"),
    "not_load": ("_service_side", "not_load"),
    "scraper": ("_service_side", "scraper"),
    "ServiceSideError": ("_service_side", "ServiceSideError"),
    "check_target": ("_service_side", "check_target"),
    "service_pids": ("_service_side", "service_pids"),
    "CpuSample": ("_verdict", "CpuSample"),
    "LatenessSecond": ("_verdict", "LatenessSecond"),
    "RunFacts": ("_verdict", "RunFacts"),
    "Thresholds": ("_verdict", "Thresholds"),
    "Verdict": ("_verdict", "Verdict"),
    "judge": ("_verdict", "judge"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
