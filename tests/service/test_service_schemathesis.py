"""Schemathesis against the running service: no 5xx and no response the OpenAPI document forbids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conftest import backend_flags

if TYPE_CHECKING:
    from tests.conftest import ServiceFactory

ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = 40
# Invalid bodies may also be refused for their size (413) or as a duplicate id (409).
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "404", "405", "409", "413"]
"""


@pytest.mark.parametrize("store", ["memory", "postgres+cache"])
def test_schemathesis_finds_no_failures(service_factory: ServiceFactory, tmp_path: Path,
                                        store: str, request: pytest.FixtureRequest) -> None:
    service = service_factory("--no-access-log", *backend_flags(store, request))
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(ST), "--config-file", str(config), "run", f"{service.url}/openapi.yaml",
        "--url", service.url,
        "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
        "--request-timeout", "5", "--generation-database", "none", "--no-color",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
    # the service survived the fuzzing with a usable store
    assert httpx.get(f"{service.url}/products", params={"limit": 100}).status_code == 200
    assert service.process.poll() is None
