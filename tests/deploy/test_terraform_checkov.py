"""checkov over terraform/ and the Dockerfile: no failed check, and every skip says why.

checkov pins heavy dependencies of its own, so it lives in .venv-tools/ (`make tools`); the first
run installs it there (about a minute), later runs take a few seconds per scan.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKOV = REPO_ROOT / ".venv-tools" / "bin" / "checkov"
CONFIG = REPO_ROOT / ".checkov.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(\w+)(?::\s*(.*))?")

pytestmark = pytest.mark.terraform


@pytest.fixture(scope="module")
def checkov() -> Path:
    if not CHECKOV.exists():
        install = subprocess.run(
            ["make", "tools"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900
        )
        if install.returncode != 0 or not CHECKOV.exists():
            pytest.skip(
                "!!! checkov could not be installed with `make tools`, so NO checkov check ran: "
                + (install.stderr or install.stdout)[-500:]
            )
    return CHECKOV


def _scan(checkov: Path, *target: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(checkov), "--config-file", str(CONFIG), "--output", "json", *target],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1 means failed checks
    report = json.loads(result.stdout)
    return dict(report[0] if isinstance(report, list) else report)


def _failures(report: dict[str, Any]) -> list[str]:
    return [
        f"{check['check_id']} {check['resource']} ({check['file_path']}:"
        f"{check['file_line_range'][0]}): {check['check_name']}"
        for check in report["results"].get("failed_checks", [])
    ]


def _skip_comments(terraform_dir: Path) -> set[tuple[str, str]]:
    """(check id, "type.name") of every skip comment, from the block it stands in."""
    skips = set()
    for path in terraform_dir.glob("*.tf"):
        block = ""
        for line in path.read_text().splitlines():
            if line.startswith(("resource ", "data ")):
                block = ".".join(line.split('"')[1:4:2])
            match = SKIP_COMMENT.search(line)
            if match:
                skips.add((match[1], block))
    return skips


def test_terraform_passes_checkov(checkov: Path) -> None:
    report = _scan(checkov, "--directory", "terraform", "--framework", "terraform")
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= 30, "checkov did not see the stack"
    assert _failures(report) == []


def test_every_terraform_skip_stands_for_a_check_that_fails(checkov: Path, tmp_path: Path) -> None:
    """Scan a copy without the skip comments: exactly the skipped checks fail, none stale."""
    for path in (REPO_ROOT / "terraform").glob("*.tf"):
        kept = [line for line in path.read_text().splitlines() if not SKIP_COMMENT.search(line)]
        (tmp_path / path.name).write_text("\n".join(kept) + "\n")
    report = _scan(checkov, "--directory", str(tmp_path), "--framework", "terraform")
    failed = {
        (check["check_id"], re.sub(r"\[.*\]$", "", check["resource"]))  # aws_lb.internal[0]
        for check in report["results"].get("failed_checks", [])
    }
    assert failed == _skip_comments(REPO_ROOT / "terraform")


def test_dockerfile_passes_checkov(checkov: Path) -> None:
    if not DOCKERFILE.exists():
        pytest.skip("!!! no Dockerfile at the repository root: its checkov scan did NOT run")
    report = _scan(checkov, "--file", str(DOCKERFILE), "--framework", "dockerfile")
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0, "checkov did not scan the Dockerfile"
    assert _failures(report) == []


def test_every_checkov_skip_gives_its_reason() -> None:
    files = [*(REPO_ROOT / "terraform").glob("*.tf"), DOCKERFILE]
    skips = [
        (path.name, match)
        for path in files
        if path.exists()
        for match in SKIP_COMMENT.finditer(path.read_text())
    ]
    assert skips, "expected the documented skips in terraform/"
    for name, match in skips:
        reason = (match[2] or "").strip()
        assert len(reason.split()) >= 5, f"{name}: checkov:skip={match[1]} needs a reason"
