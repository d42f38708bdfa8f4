"""The test session's calibration reuse (tests/conftest.py, scenarios/runner/generator/
_calibration.py): figures are reused only under the test-only variable and only for the same
key; without either, nothing is read. No Locust runs here (the reuse answers before one would)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scenarios.runner.generator import calibrate
from tests.conftest import CALIBRATION_CACHE_ENV, without_calibration_cache

FIGURES = {"endpoint": "GET /health", "users": 1, "requests": 900, "floor_ms": 0.2}


class NoServer:
    """A fork server that must not be asked for a Locust."""

    def fork(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("calibrated although the figures were there to reuse")


def test_the_same_key_reuses_the_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CALIBRATION_CACHE_ENV, str(tmp_path))
    (tmp_path / "fast-g1-s0-w1-memory-off.json").write_text(json.dumps(FIGURES))
    reused = calibrate(NoServer(), "http://127.0.0.1:9", "fast", [1],  # type: ignore[arg-type]
                       "g1-s0-w1-memory-off")
    assert reused == FIGURES


def test_another_key_or_no_key_or_no_cache_reads_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fast-g1-s0-w1-memory-off.json").write_text(json.dumps(FIGURES))
    # nothing listens on port 9: a calibration that runs fails, and says so, instead of reusing
    for env, key in ((str(tmp_path), "g0,1-s0-w1-memory-off"), (str(tmp_path), None),
                     (None, "g1-s0-w1-memory-off")):
        if env is None:
            monkeypatch.delenv(CALIBRATION_CACHE_ENV, raising=False)
        else:
            monkeypatch.setenv(CALIBRATION_CACHE_ENV, env)
        with pytest.raises(AssertionError, match="calibrated although"):
            calibrate(NoServer(), "http://127.0.0.1:9", "fast", [1], key)  # type: ignore[arg-type]
    assert CALIBRATION_CACHE_ENV not in without_calibration_cache()


def test_the_envelope_check_shares_its_figures_per_mix_within_a_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The envelope check's measurement is kept under the same variable, per mix (and seed,
    locustfile, CPUs): a second sweep of the session with the same mix reuses it, one with
    another mix or outside the tests measures."""
    from scenarios.runner import measure_service_cost
    from scenarios.runner.config import SweepConfig

    home = sys.modules[measure_service_cost.__module__]  # where the probe is looked up

    measured: list[list[str]] = []

    def probe(config: SweepConfig, placement: object, log: Path,
              classes: list[str]) -> dict[str, dict[str, float]]:
        measured.append(list(config.mixes))
        return {f"fast/{config.mixes[0]}": {"service_s": 0.00005, "generator_s": 0.0002}}

    monkeypatch.setattr(home, "probe_unlimited", probe)
    placement = {"service_cpus": [0], "generator_cpus": [1]}
    read, write = SweepConfig(mixes=["read-heavy"]), SweepConfig(mixes=["write-heavy"])
    monkeypatch.setenv(CALIBRATION_CACHE_ENV, str(tmp_path))
    first = measure_service_cost(read, placement, tmp_path)
    assert first["service_cpu_ms_per_request"] == 0.05 and measured == [["read-heavy"]]
    assert measure_service_cost(read, placement, tmp_path) == first
    assert measured == [["read-heavy"]]  # reused
    measure_service_cost(write, placement, tmp_path)
    assert measured == [["read-heavy"], ["write-heavy"]]  # another mix: measured
    monkeypatch.delenv(CALIBRATION_CACHE_ENV)
    measure_service_cost(read, placement, tmp_path)
    assert measured[-1] == ["read-heavy"] and len(measured) == 3  # outside the tests: measured
