"""pypiserver (a small real WSGI application from PyPI) with a Prometheus request histogram.

pypiserver has no metrics of its own, so this module wraps its WSGI app in a middleware of about
twenty lines that does what prometheus-client users commonly do: a histogram
``http_request_duration_seconds`` with the labels ``method``, ``handler`` (the route template,
e.g. ``/simple/:project/``, as Bottle matched it) and ``status``, served at ``/metrics``.

    gunicorn --chdir docs/byo 'pypi_app:app' --bind 127.0.0.1:8090 --threads 8

``PYPI_ROOT`` (default ``./packages``) is the directory of package files it serves.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import pypiserver
from prometheus_client import Histogram, make_wsgi_app

DURATION = Histogram("http_request_duration_seconds", "HTTP request duration in seconds.",
                     ["method", "handler", "status"],
                     buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))


def with_metrics(inner: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Time every request of ``inner`` into DURATION; serve the registry at /metrics."""
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/metrics":
            return metrics(environ, start_response)
        started = time.perf_counter()
        status = ["500"]

        def starting(code: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *exc)

        body = list(inner(environ, starting))  # pypiserver's bodies are small: time them whole
        route = environ.get("bottle.route")
        DURATION.labels(environ.get("REQUEST_METHOD", ""),
                        getattr(route, "rule", "unmatched"), status[0]).observe(
            time.perf_counter() - started)
        return body

    return app


app = with_metrics(pypiserver.app(roots=[os.environ.get("PYPI_ROOT", "packages")]))
