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


ADMIN_TOKEN = "schemathesis-admin-token-0123"


# A schema-valid seed count past the service's capacity (or too many bytes of seed products
# in all) is a 400: the bound depends on the running service, so the schema cannot say it.
ADMIN_CONFIG = CONFIG + """
[checks.positive_data_acceptance]
expected-statuses = ["200", "400"]
"""


def _schemathesis(url: str, tmp_path: Path, *selection: str, config_text: str = CONFIG
                  ) -> list[str]:
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_text)
    return [
        str(ST), "--config-file", str(config), "run", f"{url}/openapi.yaml", "--url", url,
        "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
        "--request-timeout", "5", "--generation-database", "none", "--no-color", *selection,
    ]


# The admin route is fuzzed on its own (below): on a service without it, it is a 404 by
# design, and fuzzing it with the token amid the other operations would empty the store
# between a create and the read that follows it.
@pytest.mark.parametrize("store", ["memory", "postgres+cache", "admin"])
def test_schemathesis_finds_no_failures(service_factory: ServiceFactory, tmp_path: Path,
                                        store: str, request: pytest.FixtureRequest) -> None:
    if store == "admin":  # only POST /admin/reset, authorised, with a small capacity
        service = service_factory("--no-access-log", "--capacity", "1000",
                                  env={"ADMIN_TOKEN": ADMIN_TOKEN})
        command = _schemathesis(service.url, tmp_path, "--include-path", "/admin/reset",
                                "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
                                "--phases", "examples,coverage,fuzzing",  # no links: no stateful
                                config_text=ADMIN_CONFIG)
    else:
        service = service_factory("--no-access-log", *backend_flags(store, request))
        command = _schemathesis(service.url, tmp_path, "--exclude-path", "/admin/reset")
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
    # the service survived the fuzzing with a usable store
    assert httpx.get(f"{service.url}/products", params={"limit": 100}).status_code == 200
    assert service.process.poll() is None
