"""Test only: ``LOADBENCH_TEST_SERVICE_DELAY_MS`` makes every product request that much slower.

The verdict tests need a service that is slow on purpose (so the generator stays idle); the
delay is an ``asyncio.sleep`` before the request is handled, so the service's CPU stays idle
too. Unset (the default) it is not in the request path at all.
"""

from __future__ import annotations

import asyncio
import os

from starlette.types import ASGIApp, Receive, Scope, Send

DELAY_ENV = "LOADBENCH_TEST_SERVICE_DELAY_MS"


class _Delay:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/products"):
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def with_test_delay(app: ASGIApp) -> ASGIApp:
    """``app`` behind the delay the environment asks for, or ``app`` itself."""
    text = os.environ.get(DELAY_ENV, "").strip()
    milliseconds = float(text) if text else 0.0
    return _Delay(app, milliseconds / 1000.0) if milliseconds > 0 else app
