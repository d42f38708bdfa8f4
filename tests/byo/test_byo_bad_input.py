"""Bad input to a bring-your-own sweep: one line naming the problem, exit 2, no results left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.byo.conftest import LOCUSTFILE, Shop
from tests.conftest import REPO_ROOT, free_port


def _sweep(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scenarios.sweep", "--out", str(out), "--users", "1",
         "--duration", "1s", "--ramp", "0s", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def _refused(done: subprocess.CompletedProcess[str], out: Path, *words: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
    return lines[0]


def test_a_file_that_does_not_import(tmp_path: Path) -> None:
    broken = tmp_path / "broken_locustfile.py"
    broken.write_text("from locust import HttpUser\nimport no_such_module_here\n")
    done = _sweep(tmp_path / "out", "--locustfile", str(broken), "--host", "http://127.0.0.1:9")
    _refused(done, tmp_path / "out", "broken_locustfile.py", "does not import",
             "no_such_module_here")


def test_a_class_the_file_does_not_have(tmp_path: Path) -> None:
    done = _sweep(tmp_path / "out", "--locustfile", str(LOCUSTFILE), "--host",
                  "http://127.0.0.1:9", "--user-classes", "FastShopper,NoSuchShopper")
    _refused(done, tmp_path / "out", "NoSuchShopper", "BrowsingShopper, FastShopper")


def test_an_option_the_file_does_not_define(tmp_path: Path) -> None:
    done = _sweep(tmp_path / "out", "--locustfile", str(LOCUSTFILE), "--host",
                  "http://127.0.0.1:9", "--locust-arg=--no-such-option=1")
    _refused(done, tmp_path / "out", "--no-such-option")


@pytest.mark.parametrize(("flag", "value"), [("--mixes", "balanced"), ("--payload", "4k"),
                                             ("--seed-products", "10"), ("--store", "postgres"),
                                             ("--pacing", "constant:1")])
def test_product_only_dimensions_are_refused(tmp_path: Path, flag: str, value: str) -> None:
    done = _sweep(tmp_path / "out", "--locustfile", str(LOCUSTFILE), "--host",
                  "http://127.0.0.1:9", flag, value)
    _refused(done, tmp_path / "out", flag, "product scenario")


def test_a_url_that_does_not_answer(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = _sweep(tmp_path / "out", "--locustfile", str(LOCUSTFILE), "--host", url,
                  "--user-classes", "FastShopper")
    _refused(done, tmp_path / "out", url, "no answer")


def test_a_metrics_endpoint_without_a_request_duration_histogram(tmp_path: Path,
                                                                 shop: Shop) -> None:
    done = _sweep(tmp_path / "out", "--locustfile", str(LOCUSTFILE), "--host", shop.url,
                  "--user-classes", "FastShopper", "--server-metrics",
                  f"{shop.url}/metrics-bare")
    _refused(done, tmp_path / "out", "--server-metrics", "/metrics-bare",
             "no request-duration histogram")


def test_a_metrics_endpoint_that_does_not_answer(tmp_path: Path, shop: Shop) -> None:
    done = _sweep(tmp_path / "out", "--locustfile", str(LOCUSTFILE), "--host", shop.url,
                  "--user-classes", "FastShopper", "--server-metrics", f"{shop.url}/nowhere")
    _refused(done, tmp_path / "out", "--server-metrics", "/nowhere")


def test_the_help_documents_the_locustfile_options() -> None:
    from scenarios.sweep import build_parser

    text = build_parser().format_help()
    for flag in ("--locustfile", "--locust-arg", "--server-metrics", "--server-histogram",
                 "--server-route-label", "--service-pid", "--service-cgroup"):
        assert flag in text
