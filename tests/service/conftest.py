"""Fixtures for the service tests: an HTTP client on the module's running service."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

pytest.register_assert_rewrite("service_checks")


@pytest.fixture
def client(service_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_url, timeout=10) as http:
        yield http
