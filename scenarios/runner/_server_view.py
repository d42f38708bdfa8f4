"""The service's own view of a window: its /metrics histograms scraped at the window's edges.

The service (target_service/metrics.py) keeps, per route, method and status, a cumulative
histogram of the time from receiving a request to sending its response. The runner scrapes
``GET /metrics`` when Locust resets its stats (the window's start) and when its run time is
over (the end); the difference is the window's server-side figures. Parsed here with a few
lines (scenarios does not depend on prometheus-client, a service dependency).
"""

from __future__ import annotations

import math
import re
import time
import urllib.error
import urllib.request
from typing import Any

METRIC = "loadbench_server_request_duration_seconds"
NOT_LOAD = ("/metrics", "/health", "/openapi.yaml")  # routes the load does not send
_LINE = re.compile(r'^(\w+)\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\}\s+(\S+)')  # values may hold }
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Key = tuple[str, str, str]  # route, method, status


class Scrape:
    """One /metrics reading: per key, cumulative (upper bound, count) pairs, count and sum."""

    def __init__(self, t: float, text: str) -> None:
        self.t = t
        self.buckets: dict[Key, list[tuple[float, float]]] = {}
        self.sums: dict[Key, float] = {}
        self.counts: dict[Key, float] = {}
        for line in text.splitlines():
            match = _LINE.match(line)
            if not match or not match.group(1).startswith(METRIC):
                continue
            labels = dict(_LABEL.findall(match.group(2)))
            key = (labels.get("route", ""), labels.get("method", ""), labels.get("status", ""))
            value = float(match.group(3))
            suffix = match.group(1)[len(METRIC):]
            if suffix == "_bucket":
                bound = math.inf if labels["le"] == "+Inf" else float(labels["le"])
                self.buckets.setdefault(key, []).append((bound, value))
            elif suffix == "_sum":
                self.sums[key] = value
            elif suffix == "_count":
                self.counts[key] = value


def scrape(base_url: str, timeout: float = 2.0) -> Scrape | str:
    """GET base_url/metrics: a Scrape, or the error as one line."""
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/metrics", timeout=timeout) as reply:
            return Scrape(time.time(), reply.read().decode("utf-8", errors="replace"))
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"GET {base_url}/metrics: {error}"


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


def window_view(start: Scrape | str | None, end: Scrape | str | None) -> dict[str, Any]:
    """The run.json ``server`` block: the window's server-side figures, or why there are none."""
    if not isinstance(start, Scrape) or not isinstance(end, Scrape):
        reason = next((x for x in (start, end) if isinstance(x, str)), "not scraped")
        return {"available": False, "error": reason}
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
        if key[0] in NOT_LOAD:
            continue
        count += n
        total += seconds
        for bound, value in delta:
            merged[bound] = merged.get(bound, 0.0) + value
    return {"available": True, "scraped_at": [round(start.t, 3), round(end.t, 3)],
            "load": _figures(sorted(merged.items()), count, total), "routes": routes}
