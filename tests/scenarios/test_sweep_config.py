"""The sweep runner's pure parts: matrix expansion, configuration precedence, bad input, SLOs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.runner.config import (
    ConfigError,
    Point,
    SweepConfig,
    expand,
    load_toml,
    parse_slo,
    resolve_config,
    violations,
)
from scenarios.sweep import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_expansion_covers_the_matrix_with_repeats_outermost() -> None:
    config = SweepConfig(user_classes=["http", "fast"], mixes=["read-heavy", "balanced"],
                         users=[1, 10, 50], repeats=2)
    points = expand(config)
    assert len(points) == 2 * 2 * 3 * 2
    assert len({p.point_id for p in points}) == len(points)
    assert points[0].point_id == "http-read-heavy-u0001-r1"
    # classes and levels interleaved: the classes alternate at every level, and the next
    # repeat runs the levels down with the classes swapped (no factor lines up with drift)
    assert [p.point_id for p in points[:4]] == [
        "http-read-heavy-u0001-r1", "http-balanced-u0001-r1", "fast-read-heavy-u0001-r1",
        "fast-balanced-u0001-r1"]
    assert points[12].point_id == "fast-read-heavy-u0050-r2"
    assert points[-1].point_id == "http-balanced-u0001-r2"
    assert [p.repeat for p in points[:12]] == [1] * 12
    assert points[0].run_id(3) == "http-read-heavy-u0001-r1-p3"
    assert points[0].weights["get_product"] == 80


def test_custom_weights_make_one_custom_mix() -> None:
    config = resolve_config({"weights": "get_product=1", "mixes": "balanced,write-heavy"})
    points = expand(config)
    assert {p.mix for p in points} == {"custom"}
    assert points[0].weights == {"get_product": 1, "list_products": 0, "create_product": 0,
                                 "create_duplicate": 0}


def test_flags_override_the_toml_file_which_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('users = [1, 2]\nduration = "5s"\nmixes = "balanced"\nramp = 0.5\n')
    config = resolve_config({"config_file": str(path), "users": "3,4", "ramp_s": "1500ms"})
    assert config.users == [3, 4]            # flag over file
    assert config.ramp_s == 1.5              # flag over file, with a unit
    assert config.duration_s == 5.0          # file over default
    assert config.mixes == ["balanced"]      # file over default
    assert config.repeats == 5               # default: enough for a t-interval
    assert config.target == "local"


def expand_with(config: SweepConfig, vcpu: str) -> list[Point]:
    """The matrix once `--service-cpu auto` has been sized (to ``vcpu``)."""
    config.service_cpu = [vcpu if label == "auto" else label for label in config.service_cpu]
    return expand(config)


def test_presets_load_and_stay_within_their_budgets() -> None:
    quick = resolve_config({"preset": "quick"})
    assert quick.user_classes == ["http", "fast"] and len(quick.users) == 3
    assert len(quick.mixes) == 1
    assert len(expand(quick)) * (quick.ramp_s + quick.duration_s) <= 100
    study = resolve_config({"preset": "study"})
    assert set(study.mixes) == {"read-heavy", "write-heavy"}
    assert min(study.users) == 1 and max(study.users) == 500  # the write-up's "500+ users"
    assert study.repeats == 2 and study.service_cpu == ["auto"]
    # measured windows and ramps alone: the headline leaves the rest of `make study`'s 45 min
    # (scenarios/sweeps/*.toml and docs/study/run_study.sh) to the other sweeps
    assert len(expand_with(study, "0.05")) * (study.ramp_s + study.duration_s) <= 12 * 60
    deployed = resolve_config({"preset": "deployed"})
    assert deployed.users == [50] and deployed.users[0] / deployed.ramp_s == 5.0
    assert deployed.service_cpu == ["fargate-256", "none"]
    assert len(expand(deployed)) * (deployed.ramp_s + deployed.duration_s) <= 5 * 60


@pytest.mark.parametrize(("text", "needle"), [
    ("users = [1, 2\n", "invalid TOML"),
    ("colour = 'red'\n", "unknown setting 'colour'"),
    ("users = ['many']\n", "users: expected a whole number"),
    ("mixes = ['spicy']\n", "unknown mix 'spicy'"),
    ("user-classes = ['slow']\n", "unknown user class 'slow'"),
    ("duration = 'soon'\n", "duration: expected a duration"),
    ("processes = 0\n", "processes: must be at least 1"),
])
def test_bad_toml_names_the_file_and_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        resolve_config({"config_file": str(path)})
    message = str(error.value)
    assert needle in message and "\n" not in message
    if needle != "unknown mix 'spicy'":
        assert str(path) in message


def test_missing_preset_and_file_are_named() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        resolve_config({"preset": "nope"})
    with pytest.raises(ConfigError, match="no such file"):
        load_toml(Path("/nonexistent/sweep.toml"))


@pytest.mark.parametrize(("argv", "needle"), [
    (["--users", "1,x"], "--users: expected a whole number"),
    (["--mixes", "spicy"], "unknown mix 'spicy'"),
    (["--user-classes", "slow"], "unknown user class 'slow'"),
    (["--pacing", "sometimes"], "--pacing: bad pacing"),
    (["--slo", "p95~200"], "--slo: bad objective"),
    (["--host", "localhost:8080"], "--host: expected a URL"),
    (["--duration", "0s"], "longer than 0s"),
    (["--preset", "quick", "--config", "x.toml"], "give one or the other"),
    (["--resume", "/nonexistent/sweep"], "no such file"),
])
def test_bad_flags_exit_2_with_one_line(argv: list[str], needle: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_unknown_flag_is_one_line_from_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "scenarios.sweep", "--colour", "red"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--colour" in done.stderr
    assert "Traceback" not in done.stderr


def test_slo_parsing_and_checking() -> None:
    objectives = parse_slo("p95<200ms, errors<1%, rps>100, p99<=0.5s")
    assert [(o.metric, o.op, o.value) for o in objectives] == [
        ("p95", "<", 200.0), ("errors", "<", 0.01), ("rps", ">", 100.0), ("p99", "<=", 500.0)]
    row = {"Request Count": "1000", "Failure Count": "20", "Requests/s": "150.0",
           "95%": "250", "99%": "400"}
    missed = violations(objectives, row)
    assert len(missed) == 2
    assert missed[0].startswith("p95<200ms: measured 250")
    assert missed[1].startswith("errors<1%: measured 2.00%")
    assert violations(objectives, None)[0].endswith("no figure in the stats")
    for bad in ("p95<20%", "errors<5ms", "rps>5%", "", "latency<2", "p0<5ms", "p100.5<5ms"):
        with pytest.raises(ValueError):
            parse_slo(bad)


def test_any_percentile_is_checked_off_the_histogram() -> None:
    # p90, p75 and p99.9 used to read a "90%"-style column that the stats row does not have,
    # so they always reported "no figure in the stats" (a missed SLO) on local runs.
    objectives = parse_slo("p90<5ms, p75<=3ms, p99.9<100ms")
    histogram = {1: 700, 3: 200, 8: 99, 150: 1}  # Locust's form: bucket (ms) -> count
    from scenarios.runner.generator import locust_percentile
    row = {"Request Count": 1000, "Failure Count": 0, "Requests/s": 100.0,
           "percentile": lambda fraction: locust_percentile(histogram, fraction)}
    missed = violations(objectives, row)
    assert missed == ["p90<5ms: measured 8", "p99.9<100ms: measured 150"]
