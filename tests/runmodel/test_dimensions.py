"""The dimension registry: flags and TOML keys parse to the values the runner keeps, labels and
point-id tags are today's (ids of existing sweeps must not change), and an alternative of users
(the open model's arrival rate) is one more entry."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from runmodel import dimensions, values
from runmodel.dimensions import (
    DIMENSIONS,
    by_name,
    default_label,
    parse_setting,
    point_id,
    point_keys,
    series_dimensions,
)
from runmodel.values import Backend, DimensionError

DATA = Path(__file__).resolve().parents[1] / "data"


def test_point_ids_of_the_fixture_sweeps_are_unchanged() -> None:
    for run_json in sorted(DATA.glob("sweep*/runs/*/run.json")):
        run = json.loads(run_json.read_text())
        assert point_id(run["params"]) == run["point_id"], run_json


@pytest.mark.parametrize(("given", "expected"), [
    ({}, "http-read-heavy-u0001-r1"),
    ({"backend": "postgres"}, "fast-read-heavy-pg-u0050-r2"),
    ({"backend": "postgres+cache", "service_cpu": "0.25"},
     "fast-read-heavy-pgcache-cpu0.25-u0050-r2"),
    ({"backend": "postgres", "service_cpu": "fargate-256"},
     "fast-read-heavy-pg-cpufargate-256-u0050-r2"),
    ({"rtt_delay": "10"}, "fast-read-heavy-rtt10-u0050-r2"),
    ({"rtt_delay": "40:5", "payload": "4k"}, "fast-read-heavy-rtt40j5-pay4k-u0050-r2"),
    ({"service_cpu": "none", "rtt_delay": "none", "payload": "small", "backend": "memory"},
     "fast-read-heavy-u0050-r2"),
])
def test_point_id_tags_as_results_readme_names_them(given: dict[str, str], expected: str) -> None:
    base = {"user_class": "fast", "mix": "read-heavy", "users": 50, "repeat": 2} if given else {}
    assert point_id({**base, **given}) == expected


def test_point_keys_and_series_keep_the_analysis_order() -> None:
    assert point_keys() == ("service_cpu", "rtt_delay", "backend", "payload", "user_class",
                            "mix", "users", "arrival_rate")
    assert series_dimensions() == ("backend", "service_cpu", "rtt_delay", "payload")


@pytest.mark.parametrize(("name", "value", "label"), [
    ("service_cpu", "none", "none"), ("service_cpu", None, "none"),
    ("service_cpu", "0.25", "0.25 vCPU"), ("service_cpu", "fargate-256", "fargate-256 (0.25 vCPU)"),
    ("rtt_delay", None, "none"), ("rtt_delay", "0", "none"), ("rtt_delay", "10", "10 ms"),
    ("rtt_delay", "40:5", "40±5 ms"), ("rtt_delay", "2.5", "2.5 ms"),
    ("payload", "4k", "4k"), ("backend", None, "memory"), ("backend", "postgres+cache",
                                                          "postgres+cache"),
    ("user_class", "fast", "FastHttpUser"), ("user_class", "http", "HttpUser"),
])
def test_labels(name: str, value: object, label: str) -> None:
    assert by_name(name).label(value) == label


def test_two_envelopes_have_two_labels_and_two_tags() -> None:
    cpu = by_name("service_cpu")
    assert cpu.label("0.25") != cpu.label("0.5")
    assert cpu.tag("0.25") != cpu.tag("0.5")


def test_defaults_print_as_the_analysis_expects() -> None:
    assert [default_label(n) for n in series_dimensions()] == ["memory", "none", "none", "small"]


@pytest.mark.parametrize(("field", "given", "expected"), [
    ("service_cpu", "none,0.25, FARGATE-256,0.25,auto", ["none", "0.25", "fargate-256", "auto"]),
    ("rtt_delay", "none,10,40:5,0,20:0", ["none", "10", "40:5", "20"]),
    ("payload", ["small", "4096", "4k", "1000"], ["small", "4k", "1000"]),
    ("users", "1,10,10", [1, 10, 10]),
    ("stores", "memory,postgres,memory", ["memory", "postgres"]),
    ("repeats", "3", 3), ("processes", "auto", "auto"), ("processes", 2, 2),
    ("user_classes", "fast,http", ["fast", "http"]),
])
def test_settings_parse_and_normalise(field: str, given: object, expected: object) -> None:
    assert parse_setting(field, given, "--x") == expected


@pytest.mark.parametrize(("field", "given", "message"), [
    ("service_cpu", "lots", "--service-cpu: 'lots' is not a number of vCPUs"),
    ("service_cpu", "0.001", "vCPUs must be between 0.01 and 1024"),
    ("rtt_delay", "10:20", "the jitter at most the delay"),
    ("payload", "64k", "the service's limit"),
    ("users", "0", "--users: must be at least 1, got 0"),
    ("users", "1.5", "--users: expected a whole number, got '1.5'"),
    ("users", "", "--users: must not be empty"),
    ("user_classes", "slow", "unknown user class 'slow': choose from http, fast"),
    ("stores", "sqlite", "unknown store 'sqlite': choose from memory, postgres"),
    ("caches", "maybe", "unknown cache 'maybe'"),
])
def test_bad_values_give_one_line_naming_the_flag(field: str, given: str, message: str) -> None:
    flag = "--" + field.replace("_", "-")
    with pytest.raises(DimensionError) as caught:
        parse_setting(field, given, flag)
    text = str(caught.value)
    assert text.startswith(flag) and message in text and "\n" not in text


def test_every_setting_has_a_flag_a_toml_key_and_help() -> None:
    flags = [s.flag for d in DIMENSIONS for s in d.settings]
    assert len(flags) == len(set(flags))
    for dimension in DIMENSIONS:
        for entry in dimension.settings:
            assert entry.flag.startswith("--") and entry.toml_key and entry.help
        assert dimension.tag(dimension.default) == "" or dimension.role != "series"


def test_backend_is_one_notion() -> None:
    assert Backend.parse("postgres+cache") == Backend("postgres", "on")
    assert Backend.parse(None).name == "memory"
    assert [b.name for b in values.backends(["memory", "postgres"], ["off", "on"])] == [
        "memory", "postgres", "postgres+cache"]
    assert [b.tag for b in values.backends(["memory", "postgres"], ["off", "on"])] == [
        "", "pg-", "pgcache-"]
    with pytest.raises(DimensionError, match="in front of PostgreSQL"):
        Backend("memory", "on")
    with pytest.raises(DimensionError, match="unknown backend"):
        Backend.parse("postgres+disk")


def test_an_alternative_of_users_is_one_entry() -> None:
    """The open model's arrival rate (issue 21): one registry entry, and the point ids, the
    point keys and the load dimension follow."""
    assert by_name("arrival_rate").alternative_to == "users"
    assert parse_setting("arrival_rates", "50,100,12.5", "--arrival-rate") == [50, 100, 12.5]
    with pytest.raises(DimensionError, match="--arrival-rate: must be a rate above 0"):
        parse_setting("arrival_rates", "50,0", "--arrival-rate")
    closed = {"user_class": "fast", "mix": "read-heavy", "users": 50, "repeat": 1}
    assert point_id(closed) == "fast-read-heavy-u0050-r1"
    assert point_id({**closed, "arrival_rate": 200}) == "fast-read-heavy-a200-r1"
    assert dimensions.load_dimension({"arrival_rate": 200}).name == "arrival_rate"
    assert "arrival_rate" in point_keys()


def test_registry_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_name("users").title = "people"  # type: ignore[misc]


def test_the_registrys_user_classes_are_the_locustfiles() -> None:
    """runmodel names the classes; scenarios/user_classes.py maps the same short names to the
    locustfile's classes (runmodel cannot import scenarios, so this test holds them together)."""
    from runmodel.dimensions import USER_CLASS_NAMES
    from scenarios.user_classes import USER_CLASSES

    assert set(USER_CLASS_NAMES) == set(USER_CLASSES)
