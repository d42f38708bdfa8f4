"""run.json and manifest.json records: the fixture sweeps (schema 1 and 2) read into the models
and write back unchanged; bad input is one RecordError line naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runmodel.records import (
    SCHEMA_VERSION,
    Manifest,
    RecordError,
    RunRecord,
    load_manifest,
    load_run,
)

DATA = Path(__file__).resolve().parents[1] / "data"
RUNS = sorted(DATA.glob("sweep*/runs/*/run.json"))


def test_schema_version() -> None:
    assert SCHEMA_VERSION == 2


@pytest.mark.parametrize("path", RUNS, ids=lambda p: f"{p.parts[-4]}/{p.parts[-2]}")
def test_fixture_runs_round_trip(path: Path) -> None:
    document = json.loads(path.read_text())
    run = load_run(path)
    assert run.to_dict() == document
    assert list(run.to_dict()) == list(document)
    assert run.params is not None and run.params.user_class in ("http", "fast")
    assert run.verdict is not None and run.verdict.status == document["verdict"]["status"]


def test_schema1_runs_read_the_newer_dimensions_as_their_defaults() -> None:
    run = load_run(next(p for p in RUNS if "sweep-schema1" in str(p)))
    assert run.schema_version == 1 and run.params is not None
    assert [run.params.dimension(n) for n in ("backend", "service_cpu", "rtt_delay",
                                              "payload")] == ["memory", "none", "none", "small"]
    assert run.requests is not None and run.requests.p99_ms is None


@pytest.mark.parametrize("name", ["sweep", "sweep-schema1"])
def test_fixture_manifests_round_trip(name: str) -> None:
    path = DATA / name / "manifest.json"
    manifest = load_manifest(path)
    assert manifest.to_dict() == json.loads(path.read_text())
    assert manifest.points and manifest.status == "complete"


def test_unknown_fields_are_kept(tmp_path: Path) -> None:
    document = json.loads(RUNS[0].read_text())
    document["future_block"] = {"x": 1}
    document["params"]["future_param"] = 200
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document))
    run = load_run(path)
    assert run.extras == {"future_block": {"x": 1}}
    assert run.params is not None and run.params.extras == {"future_param": 200}
    assert run.to_dict() == document


def test_a_record_built_in_code_writes_its_set_fields_in_order() -> None:
    built = RunRecord.from_dict({"schema_version": 2, "run_id": "r-p1", "point_id": "r",
                                 "params": {"user_class": "http", "mix": "m", "users": 1,
                                            "repeat": 1}})
    fresh = RunRecord(2, "r-p1", "r", params=built.params, exit_code=None)
    assert list(fresh.to_dict())[:5] == ["schema_version", "run_id", "point_id", "final",
                                         "attempt"]
    assert Manifest(2, sweep_id="s").to_dict() == {"schema_version": 2, "sweep_id": "s",
                                                   "points": []}


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"schema_version": 99}', "unknown schema_version 99"),
    ('{"schema_version": 2, "run_id": "x", "point_id": "x"}', "missing or malformed field"),
    ('{"schema_version": 2, "run_id": "x", "point_id": "x", "params": {"mix": "m"}}',
     "params.user_class"),
])
def test_bad_run_json_is_one_line(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(content)
    with pytest.raises(RecordError) as caught:
        load_run(path)
    assert str(caught.value).startswith(str(path)) and problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="file is missing"):
        load_manifest(tmp_path / "manifest.json")
