"""Fixtures for the service tests: every module's service runs once per backend (memory,
postgres, postgres behind Redis), and an HTTP client on it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import BACKENDS, backend_flags, start_service

pytest.register_assert_rewrite("service_checks")


@pytest.fixture
def client(service_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_url, timeout=10) as http:
        yield http


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn: tests using it (or `service_url`) run once per backend."""
    return str(request.param)


@pytest.fixture(scope="module")
def service_url(backend: str, request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One service per test module and backend, access log off."""
    service = start_service(("--no-access-log", *backend_flags(backend, request)),
                            tmp_path_factory.mktemp("service"))
    try:
        yield service.url
    finally:
        service.stop()
