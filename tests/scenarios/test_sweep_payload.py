"""The payload dimension (`--payload`): larger products, and so larger pages, for real.

The pure tests check the labels, point ids and bad input (one line, exit 2); the live ones seed a
real service and run a short real sweep (about 8 s) whose 4k point answers with larger bodies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from analysis.loading import load_sweep
from scenarios.payload import MAX_PAYLOAD_BYTES, description, parse_payload, payload_label
from scenarios.runner.config import ConfigError, SweepConfig, expand, resolve_config
from scenarios.runner.target import seed_pipelined, start_service
from scenarios.seeding import seed_product_body
from scenarios.sweep import main
from target_service.products import MAX_DESCRIPTION_LENGTH

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "size", "label"), [
    ("small", 0, "small"), (" Small ", 0, "small"), ("1k", 1024, "1k"), ("4K", 4096, "4k"),
    ("16k", 16384, "16k"), ("4096", 4096, "4k"), ("1000", 1000, "1000"), ("32k", 32768, "32k"),
])
def test_payload_choices_parse_to_bytes_and_one_label(text: str, size: int, label: str) -> None:
    assert parse_payload(text) == size
    assert payload_label(text) == label


def test_the_payload_limit_is_the_services() -> None:
    assert MAX_PAYLOAD_BYTES == MAX_DESCRIPTION_LENGTH
    assert len(description(5000)) == 5000 and description(5000).isascii()
    body = json.loads(seed_product_body(7, 4096))
    assert len(body["description"]) == 4096
    assert seed_product_body(7, 0) == seed_product_body(7)  # small: today's product


def test_small_keeps_the_point_ids_and_others_are_tagged() -> None:
    assert resolve_config({}).payload == ["small"]
    config = SweepConfig(user_classes=["fast"], users=[50], payload=["small", "4k"],
                         service_cpu=["none", "0.5"], repeats=1)
    assert [p.point_id for p in expand(config)] == [
        "fast-read-heavy-u0050-r1", "fast-read-heavy-pay4k-u0050-r1",
        "fast-read-heavy-cpu0.5-u0050-r1", "fast-read-heavy-cpu0.5-pay4k-u0050-r1"]
    assert resolve_config({"payload": "small,4096,4k,1000"}).payload == ["small", "4k", "1000"]


def test_toml_payload_is_a_list(tmp_path: Path) -> None:
    path = tmp_path / "pay.toml"
    path.write_text('payload = ["small", "16k"]\n')
    assert resolve_config({"config_file": str(path)}).payload == ["small", "16k"]
    path.write_text('payload = ["huge"]\n')
    with pytest.raises(ConfigError, match="payload: bad payload 'huge'") as error:
        resolve_config({"config_file": str(path)})
    assert "\n" not in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize(("argv", "needle"), [
    (["--payload", "huge"], "--payload: bad payload 'huge'"),
    (["--payload", "0"], "--payload: bad payload '0': the description must be 1 to 32768"),
    (["--payload", "64k"], "--payload: bad payload '64k'"),
    (["--payload", "4kb"], "--payload: bad payload '4kb'"),
    (["--payload", "-1"], "--payload: bad payload '-1'"),
    (["--payload", ","], "--payload: must not be empty"),
])
def test_bad_payloads_exit_2_with_one_line(argv: list[str], needle: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.load
@pytest.mark.any_cpu
def test_seeding_stores_the_payload(tmp_path: Path) -> None:
    service = start_service(tmp_path / "service.log", 1, None, ["--store", "memory"])
    try:
        service.wait_healthy()
        seed_pipelined(service.url, 30, payload_bytes=4096)
        with urllib.request.urlopen(f"{service.url}/products/seed-000030", timeout=5) as reply:
            product = json.loads(reply.read())
        assert product["description"] == description(4096)
        with urllib.request.urlopen(f"{service.url}/products", timeout=5) as reply:
            page = reply.read()
        assert len(page) > 20 * 4096  # a page of 20 products carries 20 descriptions
    finally:
        service.stop()


@pytest.mark.load
@pytest.mark.any_cpu
def test_a_sweep_with_a_4k_payload_answers_larger_bodies(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scenarios.sweep", "--out", str(tmp_path), "--user-classes",
         "fast", "--users", "2", "--mixes", "balanced", "--ramp", "1s", "--duration", "2s",
         "--payload", "small,4k", "--min-requests", "10", "--repeats", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    sweep_dir = (tmp_path / "latest").resolve()
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["matrix"]["payload"] == ["small", "4k"]
    assert manifest["points"] == ["fast-balanced-u0002-r1", "fast-balanced-pay4k-u0002-r1"]
    small, large = (json.loads((sweep_dir / "runs" / f"{point}-p1" / "run.json").read_text())
                    for point in manifest["points"])
    assert (small["params"]["payload"], small["params"]["payload_bytes"]) == ("small", 0)
    assert (large["params"]["payload"], large["params"]["payload_bytes"]) == ("4k", 4096)
    assert "--payload-bytes" not in small["command"]
    assert large["command"][large["command"].index("--payload-bytes") + 1] == "4096"
    for run in (small, large):  # both succeed: every request answered as expected
        assert run["exit_code"] == 0 and run["requests"]["failures"] == 0, run["requests"]
        assert run["requests"]["total"] > 0
    sizes = {name: (small["requests"]["avg_content_bytes_by_name"][name],
                    large["requests"]["avg_content_bytes_by_name"][name])
             for name in ("GET /products/{id}", "GET /products", "POST /products")}
    # a product (GET by id, and the 201 echo of a create) carries its 4 KiB description
    for name in ("GET /products/{id}", "POST /products"):
        assert sizes[name][0] < 200 and 4096 < sizes[name][1] < 4096 + 200, sizes
    # a page lists 20 products, each with its description
    assert sizes["GET /products"][1] > 20 * 4096 > 20 * sizes["GET /products"][0], sizes
    assert large["requests"]["avg_content_bytes"] > 10 * small["requests"]["avg_content_bytes"]
    rows = load_sweep(sweep_dir).aggregated
    assert sorted(rows["payload"]) == ["4k", "small"]
