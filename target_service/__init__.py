"""The product API that the load tests measure: Starlette on uvicorn; products in memory or in
PostgreSQL, optionally behind a Redis cache."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("loadbench")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
