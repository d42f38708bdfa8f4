"""bench/service.py's comparison point: the product service without its /metrics layer."""

from __future__ import annotations

from starlette.types import ASGIApp

from target_service.app import create_app as _create_app
from target_service.metrics import Metrics


def create_app() -> ASGIApp:
    """The service's app with the outermost Metrics layer taken off (everything else equal)."""
    app = _create_app()
    assert isinstance(app, Metrics)
    return app.app
