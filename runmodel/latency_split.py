"""The client-seen mean response time, attributed end to end (run.json ``latency_split``).

A request's time as the client sees it (Locust's mean over the window) is split into parts,
each measured where it happens, in ms per request:

- ``client``: the client's own floor on this path, calibrated once per sweep and user class
  (manifest ``calibration.<class>.floor_ms``: client mean minus the service's own mean for
  ``GET /health`` at one user). It holds Locust's own time, the loopback round trip, the
  kernel, and the service's parsing at one user;
- ``network_delay``: the delay the delaying proxy added (``--rtt-delay``): the proxy's own
  measured mean where it recorded one (``rtt_delay.added_ms.mean``, over the run, not only
  the window), else the configured delay's mean (``rtt_delay.delay_ms``, and for a uniform
  jitter the mean of ``max(0, delay + U(-jitter, jitter))``), labelled so;
- ``accept_queue``: the time connections waited to be accepted (the service's
  ``accept_queue_seconds`` over the window: a lower bound, in the kernel's jiffies), spread over
  the window's requests, since only a connection's first request waits for it;
- ``app_queue``: the time from the service's event loop reading a request's first bytes to the
  app starting on it (``request_queue_seconds``: parsing, the loop's ready queue);
- ``service``: the service's own time from the app seeing the request to its response sent
  (``request_duration_seconds``, run.json ``server.load.mean_ms``).

The parts do not have to add up: ``unexplained_ms`` is the client-seen mean minus the parts
measured, shown as such, never spread over them. It holds what nothing here times: waiting in
the kernel's receive buffer while the service's quota is spent, the client's own queueing
beyond its one-user floor (a busy Locust), the proxy's own hop, and the parts not measured
(``missing``). A negative remainder means the parts overlap or the floor is larger under load
than the calibration saw. Standard library only (runmodel).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PARTS", "TITLES", "from_blocks", "from_record", "mean_added_delay_ms", "split"]

PARTS = ("client", "network_delay", "accept_queue", "app_queue", "service")
TITLES = {"client": "client floor", "network_delay": "added network delay",
          "accept_queue": "accept queue", "app_queue": "app queue", "service": "service"}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def split(client_mean_ms: float | None, parts_ms: Mapping[str, float | None],
          sources: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The ``latency_split`` block: each part (None: not measured), their sum, and the
    remainder of the client-seen mean that they leave unexplained (None without a mean)."""
    if client_mean_ms is None:
        return None
    unknown = set(parts_ms) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown latency parts {sorted(unknown)}")
    parts = {name: _round(parts_ms.get(name)) for name in PARTS}
    explained = sum(value for value in parts.values() if value is not None)
    unexplained = client_mean_ms - explained
    return {
        "client_mean_ms": _round(client_mean_ms),
        "parts_ms": parts,
        "explained_ms": _round(explained),
        "unexplained_ms": _round(unexplained),
        "unexplained_share": (round(unexplained / client_mean_ms, 4) if client_mean_ms
                              else None),
        "missing": [name for name in PARTS if parts[name] is None],
        "sources": {name: (sources or {}).get(name, "") for name in PARTS},
    }


def mean_added_delay_ms(delay_ms: float, jitter_ms: float = 0.0) -> float:
    """The mean of ``max(0, delay + U(-jitter, +jitter))`` (the proxy's delay per request)."""
    if jitter_ms <= 0:
        return max(0.0, delay_ms)
    low, high = delay_ms - jitter_ms, delay_ms + jitter_ms
    if low >= 0:
        return delay_ms
    if high <= 0:
        return 0.0
    return high * high / (4.0 * jitter_ms)  # the integral of x over [0, high], / (2 jitter)


def _network(rtt_delay: Mapping[str, Any] | None) -> tuple[float, str]:
    if not rtt_delay:
        return 0.0, "no added delay"
    added = rtt_delay.get("added_ms")  # the proxy's own record (its --stats)
    if isinstance(added, Mapping) and added.get("count") and added.get("mean") is not None:
        return (float(added["mean"]), f"measured by the delaying proxy ({added['count']} "
                                      "delays added, from a chunk's arrival to its sending on)")
    delay, jitter = float(rtt_delay.get("delay_ms") or 0.0), float(
        rtt_delay.get("jitter_ms") or 0.0)
    configured = f"{delay:g}" + (f"±{jitter:g}" if jitter else "")
    return (mean_added_delay_ms(delay, jitter),
            f"configured {configured} ms (the proxy recorded no delay of its own)")


def from_blocks(client_mean_ms: float | None, server: Mapping[str, Any] | None,
                server_queues: Mapping[str, Any] | None, rtt_delay: Mapping[str, Any] | None,
                calibration: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The split from run.json's blocks (``server``, ``server_queues``, ``rtt_delay``) and the
    point's class's calibration (manifest ``calibration.<class>``)."""
    sources: dict[str, str] = {}
    parts: dict[str, float | None] = dict.fromkeys(PARTS)
    floor = (calibration or {}).get("floor_ms")
    if floor is not None:
        parts["client"] = float(floor)
        sources["client"] = "calibrated floor (GET /health, one user)"
    parts["network_delay"], sources["network_delay"] = _network(rtt_delay)
    load = (server or {}).get("load") or {} if (server or {}).get("available") else {}
    if load.get("mean_ms") is not None:
        parts["service"] = float(load["mean_ms"])
        sources["service"] = "the service's request duration (/metrics)"
    queues = server_queues or {}
    if queues.get("available"):
        app = queues.get("request_queue") or {}
        if app.get("mean_ms") is not None:
            parts["app_queue"] = float(app["mean_ms"])
            sources["app_queue"] = "the service's request queue time (/metrics)"
        accept = queues.get("accept_queue") or {}
        requests = load.get("requests") or app.get("requests")
        if accept.get("total_ms") is not None and requests:
            parts["accept_queue"] = float(accept["total_ms"]) / float(requests)
            sources["accept_queue"] = (f"{accept.get('connections', 0)} connections' accept "
                                       f"waits over {requests} requests (a lower bound)")
    return split(client_mean_ms, parts, sources)


def from_record(run: Mapping[str, Any],
                calibration: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The split of a run.json (a dict): its recorded block, else derived from its blocks (a
    run recorded before ``latency_split`` existed has no ``server_queues``: those parts are
    missing and stay in the remainder)."""
    recorded = run.get("latency_split")
    if isinstance(recorded, Mapping):
        return dict(recorded)
    requests = run.get("requests") or {}
    mean = requests.get("mean_ms")
    return from_blocks(float(mean) if mean is not None else None, run.get("server"),
                       run.get("server_queues"), run.get("rtt_delay"), calibration)
