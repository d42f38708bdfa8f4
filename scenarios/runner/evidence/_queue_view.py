"""The service's queue times over a window: run.json ``server_queues``.

Beside its request duration (read by ``_server_view``), the product service exports two
histograms (target_service/metrics.py, _timed_protocol.py):

- ``loadbench_server_request_queue_seconds``, per route: from the event loop reading a
  request's first bytes to the app starting on it (parsing, the loop's ready queue);
- ``loadbench_server_accept_queue_seconds``, per accepted connection: how long before the loop
  accepted it the kernel last heard from the client (a lower bound on its accept-queue wait).

Both are read from the same two scrapes as the request duration (the window's edges), so they
cover the same window. Their differences are the window's queue figures; the end-to-end split
(runmodel.latency_split) spreads the accept waits over the window's requests.
"""

from __future__ import annotations

from typing import Any

from scenarios.runner.evidence._server_view import NOT_LOAD, Scrape, window_view

QUEUE_METRIC = "loadbench_server_request_queue_seconds"
ACCEPT_METRIC = "loadbench_server_accept_queue_seconds"


def _family(scrape: Scrape, metric: str) -> Scrape:
    return Scrape(scrape.t, scrape.text, (metric,))


def _accept(start: Scrape, end: Scrape) -> dict[str, Any] | None:
    before, after = _family(start, ACCEPT_METRIC), _family(end, ACCEPT_METRIC)
    if after.metric is None:
        return None
    connections = sum(after.counts.values()) - sum(before.counts.values())
    total_s = sum(after.sums.values()) - sum(before.sums.values())
    view = window_view(before, after, ())
    load = view.get("load") or {}
    return {"connections": round(connections), "total_ms": round(total_s * 1000.0, 4),
            "mean_ms": round(total_s * 1000.0 / connections, 4) if connections > 0 else None,
            "p99_ms": load.get("p99_ms")}


def queue_view(start: Scrape | str | None, end: Scrape | str | None,
               not_load: tuple[str, ...] = NOT_LOAD) -> dict[str, Any]:
    """run.json's ``server_queues`` block: the window's request-queue figures over the load's
    routes, and the connections accepted in it with their accept-queue waits, or why none."""
    if not isinstance(start, Scrape) or not isinstance(end, Scrape):
        reason = next((x for x in (start, end) if isinstance(x, str)), "not scraped")
        return {"available": False, "error": reason}
    queued = window_view(_family(start, QUEUE_METRIC), _family(end, QUEUE_METRIC), not_load)
    accept = _accept(start, end)
    if not queued.get("available") and accept is None:
        return {"available": False,
                "error": f"no {QUEUE_METRIC} nor {ACCEPT_METRIC} in the scrape (a service "
                         "other than the product's, or not under its timed protocol)"}
    return {"available": True,
            "request_queue": queued.get("load") if queued.get("available") else None,
            "accept_queue": accept}
