"""The scenario options without load: pacing specs, mixes, option resolution, bad input.

The pure tests import only Locust-free modules (importing Locust would gevent-patch pytest);
the command-line tests start real Locust processes that must refuse bad input in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from scenarios.mixes import MIX_PROFILES, MixError, resolve_mix
from scenarios.options import ScenarioOptionError, resolve_options
from scenarios.pacing import PacingError, format_pacing, parse_pacing
from scenarios.seeding import seed_product_body, seed_product_id
from scenarios.tasks import task_list
from scenarios.user_classes import UserClassError, locust_class_name

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("spec", "expected"), [
    ("none", {"kind": "none"}),
    ("locust-default", {"kind": "locust-default"}),
    ("constant:0.5", {"kind": "constant", "seconds": 0.5}),
    ("constant:0", {"kind": "constant", "seconds": 0.0}),
    ("between:1:2.5", {"kind": "between", "min_s": 1.0, "max_s": 2.5}),
    ("rate:20", {"kind": "rate", "per_user_rps": 20.0, "poisson": False}),
    ("poisson:0.5", {"kind": "rate", "per_user_rps": 0.5, "poisson": True}),
    (" Poisson:3 ", {"kind": "rate", "per_user_rps": 3.0, "poisson": True}),
])
def test_pacing_specs_parse_to_the_results_shape(spec: str, expected: dict[str, Any]) -> None:
    assert parse_pacing(spec) == expected
    assert parse_pacing(format_pacing(expected)) == expected


@pytest.mark.parametrize(("spec", "problem"), [
    ("", "expected one of"),
    ("fast", "expected one of"),
    ("none:1", "expected none"),
    ("constant", "expected constant:S"),
    ("constant:-1", "zero or more"),
    ("constant:abc", "not a number"),
    ("between:2:1", "greater than MAX"),
    ("between:1", "expected between:MIN:MAX"),
    ("rate:0", "positive"),
    ("rate:nan", "positive"),
    ("poisson:inf", "positive"),
    ("poisson:1:2", "expected poisson:RPS"),
])
def test_bad_pacing_specs_are_rejected_with_the_spec_named(spec: str, problem: str) -> None:
    with pytest.raises(PacingError) as error:
        parse_pacing(spec)
    message = str(error.value)
    assert problem in message and repr(spec) in message and "\n" not in message


def _options(**overrides: Any) -> SimpleNamespace:
    values = {"mix": "read-heavy", "weights": "", "pacing": "none", "seed_products": 1000,
              "run_tag": "run"}
    return SimpleNamespace(**{**values, **overrides})


def test_weights_override_the_mix_and_profiles_keep_duplicates_off() -> None:
    config = resolve_options(_options(mix="balanced", weights="create_duplicate=3,get_product=1"))
    assert config.mix == "custom"
    assert config.weights == {"get_product": 1, "list_products": 0, "create_product": 0,
                              "create_duplicate": 3}
    for name in MIX_PROFILES:
        assert resolve_mix(name)[1]["create_duplicate"] == 0


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"mix": "nope"}, "unknown mix"),
    ({"weights": "get_product=1,delete=2"}, "bad weight 'delete=2'"),
    ({"weights": "get_product=0"}, "at least one task"),
    ({"pacing": "between:x:1"}, "bad pacing"),
    ({"run_tag": "has space"}, "bad run tag"),
    ({"run_tag": "a-b"}, "bad run tag"),  # '-' separates the parts of created ids
    ({"seed_products": 0}, "--seed-products 0"),
])
def test_unusable_options_are_refused(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ScenarioOptionError, match=problem):
        resolve_options(_options(**overrides))


def test_zero_seed_products_is_fine_when_nothing_reads_them() -> None:
    config = resolve_options(_options(seed_products=0, weights="create_product=1,list_products=1"))
    assert config.seed_products == 0


def test_task_list_repeats_each_task_by_its_reduced_weight() -> None:
    tasks = task_list({"get_product": 80, "list_products": 10, "create_product": 10,
                       "create_duplicate": 0})
    assert Counter(task.__name__ for task in tasks) == {"get_product": 8, "list_products": 1,
                                                        "create_product": 1}


def test_seed_ids_are_deterministic_and_valid_bodies() -> None:
    assert seed_product_id(1) == "seed-000001"
    assert seed_product_id(1000) == "seed-001000"
    assert seed_product_body(7) == (
        b'{"productId":"seed-000007","name":"Seed product 7","price":1.07}')


def test_user_class_short_names() -> None:
    assert locust_class_name("http") == "HttpProductUser"
    assert locust_class_name("fast") == "FastProductUser"
    with pytest.raises(UserClassError, match="unknown user class 'slow'"):
        locust_class_name("slow")
    with pytest.raises(MixError):
        resolve_mix("custom")


def _locust(*args: str, env: dict[str, str] | None = None,
            cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO / "scenarios" / "locustfile.py"),
         "--headless", "-u", "1", "-r", "1", "-t", "3s", *args],
        cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("args", "env", "needle"), [
    (["--pacing", "between:3:1"], {}, "argument --pacing: bad pacing 'between:3:1'"),
    ([], {"LOCUST_WEIGHTS": "get_product=x"}, "argument --weights: bad weight 'get_product=x'"),
    (["--mix", "heavy"], {}, "argument --mix: invalid choice: 'heavy'"),
    ([], {"LOCUST_RUN_TAG": "bad tag"}, "argument --run-tag: bad run tag"),
    (["--seed-products", "-5"], {}, "argument --seed-products: -5 is outside"),
    (["--payload-bytes", "40000"], {}, "argument --payload-bytes: 40000 is outside 0..32768"),
    ([], {"LOCUST_PAYLOAD_BYTES": "4k"}, "argument --payload-bytes: '4k' is not a whole number"),
])
def test_locust_refuses_bad_options_in_one_line(args: list[str], env: dict[str, str],
                                                needle: str) -> None:
    result = _locust("--host", "http://127.0.0.1:9", *args, env=env)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_bad_value_in_locust_conf_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("host = http://127.0.0.1:9\npacing = rate:-3\n")
    result = _locust("--config", str(conf))
    assert result.returncode == 2
    assert "argument --pacing: bad pacing 'rate:-3'" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_to_read_stops_the_test_with_exit_code_2() -> None:
    result = _locust("--host", "http://127.0.0.1:9", "--seed-products", "0",
                     "--weights", "get_product=1")
    assert result.returncode == 2
    assert "scenarios: --seed-products 0 leaves nothing for get_product to hit" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_service_fails_seeding_with_exit_code_2() -> None:
    result = _locust("--host", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "scenarios: seeding failed: cannot seed http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
