"""The added round-trip delay as a matrix dimension: parsing, point ids, loop order, old sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.loading import delay_label
from scenarios.runner.config import ConfigError, SweepConfig, expand, resolve_config
from scenarios.runner.record import SCHEMA_VERSION
from scenarios.sweep import main, resume_config


def test_a_flag_list_is_checked_normalised_and_deduplicated() -> None:
    config = resolve_config({"rtt_delay": "none, 10,40:5, 0,20:0,10.0"})
    assert config.rtt_delay == ["none", "10", "40:5", "20"]
    assert SweepConfig().rtt_delay == ["none"]


@pytest.mark.parametrize("value", ['["none", 10, "40:5"]', '"none,10,40:5"'])
def test_toml_takes_a_list_or_a_comma_string(tmp_path: Path, value: str) -> None:
    path = tmp_path / "delay.toml"
    path.write_text(f"rtt_delay = {value}\nusers = [1]\n")
    assert resolve_config({"config_file": str(path)}).rtt_delay == ["none", "10", "40:5"]


@pytest.mark.parametrize("value", ["none,5:10", "soon", "10,-1", "20001", ""])
def test_every_value_is_validated(value: str) -> None:
    with pytest.raises(ConfigError, match="--rtt-delay") as error:
        resolve_config({"rtt_delay": value})
    assert "\n" not in str(error.value)


def test_a_bad_value_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--rtt-delay", "none,5:10", "--users", "1"]) == 2
    err = capsys.readouterr().err
    assert "--rtt-delay" in err and "'5:10'" in err and err.count("\n") == 1


def test_points_loop_over_the_delay_just_inside_the_envelope() -> None:
    config = resolve_config({"service_cpu": "0.5,none", "rtt_delay": "none,10,40:5",
                             "user_classes": "fast", "users": "1,2", "mixes": "read-only",
                             "repeats": "1"})
    ids = [p.point_id for p in expand(config)]
    assert ids == [
        "fast-read-only-cpu0.5-u0001-r1", "fast-read-only-cpu0.5-u0002-r1",
        "fast-read-only-cpu0.5-rtt10-u0001-r1", "fast-read-only-cpu0.5-rtt10-u0002-r1",
        "fast-read-only-cpu0.5-rtt40j5-u0001-r1", "fast-read-only-cpu0.5-rtt40j5-u0002-r1",
        "fast-read-only-u0001-r1", "fast-read-only-u0002-r1",
        "fast-read-only-rtt10-u0001-r1", "fast-read-only-rtt10-u0002-r1",
        "fast-read-only-rtt40j5-u0001-r1", "fast-read-only-rtt40j5-u0002-r1",
    ]
    assert [p.rtt_delay for p in expand(config)][:6] == ["none", "none", "10", "10",
                                                         "40:5", "40:5"]


def test_no_delay_keeps_the_ids_points_always_had() -> None:
    config = SweepConfig(user_classes=["http"], users=[1], repeats=1)
    assert [p.point_id for p in expand(config)] == ["http-read-heavy-u0001-r1"]


def test_a_sweep_from_before_the_dimension_resumes_with_its_single_delay(tmp_path: Path) -> None:
    stored = {**SweepConfig(users=[1]).to_dict(), "rtt_delay": "20:5"}
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"schema_version": SCHEMA_VERSION, "config": stored, "points": []}))
    config, _ = resume_config(tmp_path, {})
    assert config.rtt_delay == ["20:5"]
    assert expand(config)[0].point_id.endswith("-rtt20j5-u0001-r1")


def test_the_analysis_labels_the_delay() -> None:
    assert [delay_label(v) for v in (None, "none", "0", "10", "40:5", "2.5")] == [
        "none", "none", "none", "10 ms", "40±5 ms", "2.5 ms"]
