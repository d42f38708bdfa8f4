"""Test only: ``LOADBENCH_TEST_SERVICE_DELAY_MS`` makes every product request that much slower.

The verdict tests need a service that is slow on purpose (so the generator stays idle); the
delay is an ``asyncio.sleep`` before the request is handled, so the service's CPU stays idle
too. ``LOADBENCH_TEST_SERVICE_DELAY_GROWTH_MS_PER_S`` makes the delay grow by that much for every
second since the first product request: a service that slows down while it is measured (the
steady-state test). Unset (the default) neither is in the request path at all.
"""

from __future__ import annotations

import asyncio
import os
import time

from starlette.types import ASGIApp, Receive, Scope, Send

DELAY_ENV = "LOADBENCH_TEST_SERVICE_DELAY_MS"
GROWTH_ENV = "LOADBENCH_TEST_SERVICE_DELAY_GROWTH_MS_PER_S"


class _Delay:
    def __init__(self, app: ASGIApp, seconds: float, growth: float = 0.0) -> None:
        self.app = app
        self.seconds = seconds
        self.growth = growth  # seconds of delay added per second since the first request
        self.first: float | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/products"):
            delay = self.seconds
            if self.growth:
                now = time.monotonic()
                if self.first is None:
                    self.first = now
                delay += self.growth * (now - self.first)
            await asyncio.sleep(delay)
        await self.app(scope, receive, send)


def with_test_delay(app: ASGIApp) -> ASGIApp:
    """``app`` behind the delay the environment asks for, or ``app`` itself."""
    text = os.environ.get(DELAY_ENV, "").strip()
    growth_text = os.environ.get(GROWTH_ENV, "").strip()
    milliseconds = float(text) if text else 0.0
    growth = float(growth_text) if growth_text else 0.0
    if milliseconds <= 0 and growth <= 0:
        return app
    return _Delay(app, milliseconds / 1000.0, growth / 1000.0)
