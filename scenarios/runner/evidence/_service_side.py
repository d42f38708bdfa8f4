"""The service's side of a run against a service the sweep did not start (``--host``).

The product service started by the sweep is sampled and scraped by the runner itself. Any other
service gives its side through the options of ``docs/byo/README.md``: ``--server-metrics URL``
(its Prometheus request-duration histogram, read by ``_server_view`` at the window's edges) and
``--service-pid PID`` or ``--service-cgroup PATH`` (its processes, whose CPU the run's sampler
reads with the generator's). This module turns those options into what a run samples and
scrapes, and says in one line what is missing when the service gave nothing.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scenarios.runner.evidence._server_view import (
    DEFAULT_HISTOGRAMS,
    NOT_LOAD,
    Scrape,
    no_histogram,
    scrape_url,
)

NO_SCRAPE = "no --server-metrics: the service's own latency was not read"


def histograms(names: list[str] | None) -> tuple[str, ...]:
    """The request-duration histograms looked for: the names given, else the common ones."""
    return tuple(names) if names else DEFAULT_HISTOGRAMS


def scraper(url: str | None, names: list[str] | None,
            route_label: str | None) -> Callable[[], Scrape | str]:
    """What a run calls at each edge of its window: a scrape, or why there is none."""
    if not url:
        return lambda: NO_SCRAPE
    wanted = histograms(names)
    return lambda: scrape_url(url, wanted, route_label)


def not_load(url: str | None) -> tuple[str, ...]:
    """Routes the load does not send: the usual ones and the metrics endpoint's own path."""
    path = urlsplit(url).path if url else ""
    return (*NOT_LOAD, path) if path and path not in NOT_LOAD else NOT_LOAD


def cgroup_pids(path: str) -> list[int]:
    """Every process of a cgroup v2 directory and of the cgroups below it."""
    root = Path(path)
    pids: list[int] = []
    for procs in sorted([root / "cgroup.procs", *root.rglob("*/cgroup.procs")]):
        try:
            pids += [int(line) for line in procs.read_text().split() if line.strip()]
        except (OSError, ValueError):
            continue
    return list(dict.fromkeys(pids))


def service_pids(pid: int | None, cgroup: str | None) -> list[int]:
    """The processes whose CPU is the service's (each is sampled with its children)."""
    if pid:
        return [pid]
    return cgroup_pids(cgroup) if cgroup else []


def missing(server_metrics: str | None, pid: int | None, cgroup: str | None) -> str | None:
    """The verdict's warning when the service gave no side of its own, else None."""
    if server_metrics and (pid or cgroup):
        return None
    lacking = []
    if not server_metrics:
        lacking.append("its latency (--server-metrics URL)")
    if not (pid or cgroup):
        lacking.append("its CPU (--service-pid PID or --service-cgroup PATH)")
    return (f"no view of the service's side: {' nor '.join(lacking)} was given; the verdict "
            "rests on the generator's evidence alone")


def describe(server_metrics: str | None, names: list[str] | None, pid: int | None,
             cgroup: str | None, pids: list[int]) -> dict[str, Any]:
    """run.json's ``service_side`` block: what the service gave of its side in this run."""
    return {"server_metrics": server_metrics,
            "histograms": list(histograms(names)) if server_metrics else None,
            "service_pid": pid, "service_cgroup": cgroup, "sampled_pids": pids,
            "missing": missing(server_metrics, pid, cgroup)}


class ServiceSideError(ValueError):
    """The target or its metrics endpoint cannot be used; the message is one line."""


def check_target(host: str, server_metrics: str | None, names: list[str] | None,
                 route_label: str | None, timeout: float = 3.0) -> dict[str, Any]:
    """Before anything is written: the URL answers (any HTTP status), and the metrics endpoint,
    if given, answers with a request-duration histogram. What was found, or ServiceSideError."""
    try:
        with urllib.request.urlopen(host, timeout=timeout) as reply:
            status = reply.status
    except urllib.error.HTTPError as error:  # an answer all the same: the service is there
        status = error.code
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ServiceSideError(
            f"--host {host}: no answer ({getattr(error, 'reason', error)})") from None
    found: dict[str, Any] = {"url": host, "status": status}
    if server_metrics:
        wanted = histograms(names)
        scraped = scrape_url(server_metrics, wanted, route_label, timeout)
        if isinstance(scraped, str):
            raise ServiceSideError(f"--server-metrics {scraped}")
        if scraped.metric is None:
            raise ServiceSideError(f"--server-metrics {no_histogram(server_metrics, wanted)}")
        found["histogram"] = scraped.metric
    return found
