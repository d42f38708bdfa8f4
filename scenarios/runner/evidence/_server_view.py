"""The service's own view of a window: its /metrics histograms scraped at the window's edges.

The service (target_service/metrics.py) keeps, per route, method and status, a cumulative
histogram of the time from receiving a request to sending its response. The runner scrapes
``GET /metrics`` when Locust resets its stats (the window's start) and when its run time is
over (the end); the difference is the window's server-side figures. Parsed here with a few
lines (scenarios does not depend on prometheus-client, a service dependency).

The scrape at an edge is answered when the service gets to it: inside a CPU quota, up to a period
late. The window's count is therefore also read after the window from the product service's
``GET /completions?from=T0&to=T1`` on its metrics listener (responses sent in [T0, T1), counted
by the millisecond they were sent), at the edges Locust itself recorded when it reset and closed
its statistics (``evidence/window-*.json``, scenarios/instrumentation/_window.py):
``window_count`` reads them and asks.

Any other service (``--server-metrics URL``) is read the same way: the first request-duration
histogram found among the names prometheus-client users and OpenTelemetry's HTTP semantic
conventions export (``DEFAULT_HISTOGRAMS``), or the names given; its route, method and status
labels by the names those libraries use (``ROUTE_LABELS``, ...).
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

METRIC = "loadbench_server_request_duration_seconds"
# Request-duration histograms by the names their libraries export, the first found is read:
# target_service; OpenTelemetry's HTTP semantic conventions (http.server.request.duration) as
# its Prometheus exporter names it; prometheus-client users' and prometheus-fastapi-
# instrumentator's; starlette_exporter's; prometheus_flask_exporter's; OpenTelemetry's before
# semantic conventions 1.20 (milliseconds); then any *_request_duration_{seconds,milliseconds}.
DEFAULT_HISTOGRAMS = (
    METRIC, "http_server_request_duration_seconds", "http_request_duration_seconds",
    "starlette_request_duration_seconds", "flask_http_request_duration_seconds",
    "http_server_duration_milliseconds", "*_request_duration_seconds",
    "*_request_duration_milliseconds")
# Label names that carry the route (a template, not the raw path, where the library knows it),
# the method and the status, in the order they are looked for.
ROUTE_LABELS = ("route", "http_route", "http.route", "handler", "path_template", "url_rule",
                "endpoint", "path", "http_target", "uri")
METHOD_LABELS = ("method", "http_request_method", "http.request.method", "http_method")
STATUS_LABELS = ("status", "status_code", "http_response_status_code",
                 "http.response.status_code", "http_status_code", "code")
NOT_LOAD = ("/metrics", "/health", "/health/live", "/health/ready", "/openapi.yaml",
            "/admin/reset")  # routes the load does not send
_LINE = re.compile(r'^([\w:]+)(?:\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})?\s+(\S+)')  # values may hold }
_LABEL = re.compile(r'("?)([\w.]+)\1\s*=\s*"((?:[^"\\]|\\.)*)"')
_SUFFIXES = ("_bucket", "_sum", "_count")

Key = tuple[str, str, str]  # route, method, status


def _first(labels: dict[str, str], names: tuple[str, ...]) -> str:
    return next((labels[name] for name in names if name in labels), "")


def histogram_names(text: str) -> list[str]:
    """Every histogram family in a scrape (the names of its ``_bucket`` series)."""
    names: dict[str, None] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match.group(1).endswith("_bucket"):
            names[match.group(1).removesuffix("_bucket")] = None
    return list(names)


def choose_histogram(names: list[str], wanted: tuple[str, ...]) -> str | None:
    """The first family in ``wanted`` order (names or shell patterns) among ``names``."""
    for pattern in wanted:
        found = [name for name in names if fnmatch.fnmatchcase(name, pattern)]
        if found:
            return found[0]
    return None


class Scrape:
    """One /metrics reading: per key, cumulative (upper bound, count) pairs, count and sum.

    The histogram read is the first of ``histograms`` (names or shell patterns) the scrape
    holds; ``route_label`` names the route's label when it is none of ``ROUTE_LABELS``. Series
    that differ only in other labels (a worker, an app name) are added together; a family in
    milliseconds is converted to seconds.
    """

    def __init__(self, t: float, text: str, histograms: tuple[str, ...] = DEFAULT_HISTOGRAMS,
                 route_label: str | None = None) -> None:
        self.t = t
        self.text = text  # the other families (the queue times: _queue_view) read it too
        self.metric = choose_histogram(histogram_names(text), histograms)
        self.buckets: dict[Key, list[tuple[float, float]]] = {}
        self.sums: dict[Key, float] = {}
        self.counts: dict[Key, float] = {}
        if self.metric is None:
            return
        scale = 0.001 if self.metric.endswith("_milliseconds") else 1.0
        routes = (route_label, *ROUTE_LABELS) if route_label else ROUTE_LABELS
        cumulative: dict[Key, dict[float, float]] = {}
        for line in text.splitlines():
            match = _LINE.match(line)
            if not match or not match.group(1).startswith(self.metric):
                continue
            suffix = match.group(1)[len(self.metric):]
            if suffix not in _SUFFIXES:
                continue
            labels = {name: value for _, name, value in _LABEL.findall(match.group(2) or "")}
            key = (_first(labels, routes), _first(labels, METHOD_LABELS),
                   _first(labels, STATUS_LABELS))
            value = float(match.group(3))
            if suffix == "_bucket":
                bound = math.inf if labels.get("le") == "+Inf" else float(labels["le"]) * scale
                series = cumulative.setdefault(key, {})
                series[bound] = series.get(bound, 0.0) + value
            elif suffix == "_sum":
                self.sums[key] = self.sums.get(key, 0.0) + value * scale
            else:
                self.counts[key] = self.counts.get(key, 0.0) + value
        self.buckets = {key: sorted(series.items()) for key, series in cumulative.items()}


def scrape(base_url: str, timeout: float = 2.0) -> Scrape | str:
    """GET base_url/metrics: a Scrape, or the error as one line."""
    return scrape_url(f"{base_url.rstrip('/')}/metrics", timeout=timeout)


def scrape_url(url: str, histograms: tuple[str, ...] = DEFAULT_HISTOGRAMS,
               route_label: str | None = None, timeout: float = 2.0) -> Scrape | str:
    """GET a Prometheus endpoint: a Scrape, or the error as one line."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            text = reply.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        return f"GET {url}: answered {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"GET {url}: no answer ({getattr(error, 'reason', error)})"
    return Scrape(time.time(), text, histograms, route_label)


def no_histogram(url: str, histograms: tuple[str, ...]) -> str:
    """The one line that says a scrape holds none of the histograms looked for."""
    shown = ", ".join(histograms[:6]) + (", ..." if len(histograms) > 6 else "")
    return (f"{url}: no request-duration histogram (looked for {shown}; name yours with "
            "--server-histogram)")


def _quantile(buckets: list[tuple[float, float]], fraction: float) -> float | None:
    """Prometheus' histogram_quantile: linear within the bucket that holds the rank."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    rank = fraction * total
    lower, below = 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, cumulative
    return lower


def _figures(buckets: list[tuple[float, float]], count: float, total_s: float) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return round(value * 1000.0, 4) if value is not None else None
    return {"requests": round(count),
            "mean_ms": ms(total_s / count) if count else None,
            "p50_ms": ms(_quantile(buckets, 0.50)), "p95_ms": ms(_quantile(buckets, 0.95)),
            "p99_ms": ms(_quantile(buckets, 0.99))}


def read_edges(evidence_dir: Path) -> dict[str, Any] | None:
    """The window's edges as Locust's processes recorded them (``window-*.json``): the earliest
    opening and the latest closing among the processes that ran users (a lone Locust or the
    workers), with their spread in ms, and a lone Locust's count at its close; None if none."""
    documents = []
    for path in sorted(evidence_dir.glob("window-*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (isinstance(document, dict) and document.get("role") != "master"
                and isinstance(document.get("opened_at"), (int, float))
                and isinstance(document.get("closed_at"), (int, float))):
            documents.append(document)
    if not documents:
        return None
    opened = [float(d["opened_at"]) for d in documents]
    closed = [float(d["closed_at"]) for d in documents]
    lone = documents[0] if len(documents) == 1 and documents[0].get("role") == "local" else {}
    return {"opened_at": min(opened), "closed_at": max(closed), "processes": len(documents),
            "edge_spread_ms": round(1000.0 * max(max(opened) - min(opened),
                                                 max(closed) - min(closed)), 3),
            "locust_requests": lone.get("requests")}


def window_count(base_url: str | None, edges: dict[str, Any] | None,
                 timeout: float = 5.0) -> dict[str, Any]:
    """run.json's ``server.window_count``: the service's count of the responses it sent between
    Locust's own edges (``read_edges``), asked after the window; or why there is none."""
    if edges is None:
        return {"available": False, "error": "Locust recorded no window edges "
                                             "(evidence/window-*.json)"}
    if not base_url:
        return {"available": False, "error": "the service has no metrics listener to ask"}
    url = (f"{base_url.rstrip('/')}/completions?from={edges['opened_at']!r}"
           f"&to={edges['closed_at']!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            answer = json.loads(reply.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return {"available": False, "error": f"GET {url}: answered {error.code}", **edges}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"available": False,
                "error": f"GET {url}: no answer ({getattr(error, 'reason', error)})", **edges}
    served = answer.get("requests") if isinstance(answer, dict) else None
    if not isinstance(served, int):
        return {"available": False, "error": f"GET {url}: no count in the answer", **edges}
    counted = edges.get("locust_requests")
    return {"available": True, **edges, "service_requests": served,
            "difference": (round((counted - served) / served, 5)
                           if isinstance(counted, int) and served else None),
            "resolution_s": answer.get("resolution_s"), "complete": answer.get("complete")}


def window_view(start: Scrape | str | None, end: Scrape | str | None,
                not_load: tuple[str, ...] = NOT_LOAD,
                counted: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run.json ``server`` block: the window's server-side figures, or why there are none.

    ``not_load``: routes the load does not send (the scrape itself, health checks), left out of
    the ``load`` figures (they stay in ``routes``). ``counted``: the service's count of
    Locust's own window (``window_count``), kept as ``window_count`` when given.
    """
    extra = {} if counted is None else {"window_count": counted}
    if not isinstance(start, Scrape) or not isinstance(end, Scrape):
        reason = next((x for x in (start, end) if isinstance(x, str)), "not scraped")
        return {"available": False, "error": reason, **extra}
    if end.metric is None:
        return {"available": False,
                "error": "no request-duration histogram in the scrape (looked for "
                         f"{', '.join(DEFAULT_HISTOGRAMS[:3])}, ...)", **extra}
    merged: dict[float, float] = {}
    count = total = 0.0
    routes: dict[str, Any] = {}
    for key, after in sorted(end.buckets.items()):
        before = dict(start.buckets.get(key, []))
        delta = [(bound, value - before.get(bound, 0.0)) for bound, value in after]
        n = end.counts.get(key, 0.0) - start.counts.get(key, 0.0)
        seconds = end.sums.get(key, 0.0) - start.sums.get(key, 0.0)
        if n <= 0:
            continue
        routes[" ".join((key[1], key[0], key[2]))] = _figures(delta, n, seconds)
        if key[0] in not_load:
            continue
        count += n
        total += seconds
        for bound, value in delta:
            merged[bound] = merged.get(bound, 0.0) + value
    return {"available": True, "metric": end.metric,
            "scraped_at": [round(start.t, 3), round(end.t, 3)],
            "load": _figures(sorted(merged.items()), count, total), "routes": routes, **extra}
