"""Statistics that say what they are: TOST, Holm, power, the compare's exit status, the USL peak.

Simulated data and the small real sweep (tests/data/sweep) copied and edited into sweeps of
known noise: quick tier, no load.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from _analysis_helpers import edit_json, final_run_dirs, run_cli

from analysis.capacity import capacity_table, fit_usl, knee_text, usl
from analysis.compare import (
    HIGHER,
    INCONCLUSIVE,
    LOWER,
    SAME,
    class_ratio,
    judge,
)
from analysis.inference import detectable_log, holm, log_welch
from analysis.power import power_summary

# Relative noise of five repeats (sample sd about 1.1%): a known, small run-to-run spread.
NOISE = [-0.012, -0.004, 0.0, 0.006, 0.011]


def test_tost_and_welch_on_known_cases() -> None:
    rng = np.random.default_rng(3)
    same = log_welch(rng.normal(1000, 10, 5), rng.normal(1000, 10, 5))
    different = log_welch(rng.normal(1000, 10, 5), rng.normal(1300, 13, 5))
    inconclusive = log_welch([1000.0, 1120.0], [1010.0, 1130.0 * 0.9])
    assert same and different and inconclusive
    found, p_diff, p_same = judge([same, different, inconclusive])
    assert found == [SAME, LOWER, INCONCLUSIVE], (found, p_diff, p_same)
    # the margin is stated and moves the answer: the same data are not within ±0.1%
    assert judge([same], margin=0.001)[0] == [INCONCLUSIVE]
    # a ratio of means, tested on the log scale, in both directions
    assert different.ratio < 0.8 and judge([log_welch([1300.0, 1310, 1290],
                                                      [1000.0, 1005, 995])])[0] == [HIGHER]


def test_holm_adjusts_step_down() -> None:
    adjusted = holm([0.01, 0.04, 0.03, 0.5, math.nan])
    assert np.allclose(adjusted[:4], [0.04, 0.09, 0.09, 0.5]) and math.isnan(adjusted[4])


def test_uncorrected_p_below_005_is_not_different_after_holm() -> None:
    # one comparison at p = 0.009 among four: alone it is "measurably different", in a table of
    # four with three null comparisons Holm makes it 0.038... and at five it is not
    odd = log_welch([103.0, 106.0, 101.0, 105.0, 104.0], [100.0, 102.0, 99.0, 101.0, 98.0])
    assert odd is not None and 0.005 < odd.p_value < 0.05
    null = log_welch([100.0, 101.0, 99.0, 100.5, 99.5], [100.2, 100.8, 99.1, 100.0, 99.9])
    assert judge([odd])[0] == [HIGHER]
    found, p_diff, _ = judge([odd, *[null] * 5])
    assert p_diff[0] >= 0.05 and found[0] != HIGHER, (found, p_diff)


def test_detectable_change_matches_the_textbook_sample_size() -> None:
    # two-sided 5%, 80% power, 5% noise, 5 vs 5 repeats: (t_0.975,8 + t_0.8,8) * 0.05 * sqrt(0.4)
    # = about 10%; with 2 vs 2 about 33%: why 2 repeats cannot see a 10% regression
    assert 0.095 <= math.expm1(detectable_log(0.05, 5, 5, 8.0)) <= 0.115
    assert math.expm1(detectable_log(0.05, 2, 2, 2.0)) > 0.25
    assert math.isnan(detectable_log(math.nan, 5, 5, 8.0))


def _class_points(fast: list[list[float]], http: list[list[float]]) -> pd.DataFrame:
    rows = []
    for user_class, levels in (("fast", fast), ("http", http)):
        for users, repeats in zip((1, 10, 50, 100), levels, strict=False):
            for value in repeats:
                rows.append({"user_class": user_class, "mix": "m", "users": users,
                             "endpoint": "Aggregated", "status": "valid", "rps": value,
                             "mean_ms": 1.0, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0})
    return pd.DataFrame(rows)


def test_class_ratios_say_different_same_or_inconclusive_after_holm() -> None:
    noise = np.array(NOISE)
    ratios = class_ratio(_class_points(
        fast=[list(2000 * (1 + noise)), list(1000 * (1 + noise)), [900.0, 1100.0]],
        http=[list(1000 * (1 - noise)), list(1000 * (1 + noise[::-1])), [1000.0, 950.0]]))
    assert list(ratios["rps_difference"]) == [HIGHER, SAME, INCONCLUSIVE]
    assert ratios["rps_finding"].iloc[1] == "no difference (within ±10%, TOST, n = 5/5)"
    assert ratios["rps_finding"].iloc[2] == "inconclusive at n = 2/2"
    assert ratios["rps_interval"].iloc[0] == "95% CI (Welch t, log scale, n=5/5)"
    assert ratios["rps_interval"].iloc[2] == "range of repeat ratios (n=2/2)"


def _steady_sweep(source: Path, dest: Path, scale: float = 1.0, repeats: int = 5) -> Path:
    """A copy of the small real sweep where every point has ``repeats`` valid repeats: copies of
    its first repeat whose throughput differs by ``NOISE`` (through the window's seconds), all
    figures' throughput multiplied by ``scale``."""
    shutil.copytree(source, dest)
    firsts = [d for d in final_run_dirs(dest) if "-r1-" in d.name]
    for first in firsts:
        seconds = json.loads((first / "run.json").read_text())["window"]["seconds"]
        for repeat in range(1, repeats + 1):
            target = first.parent / first.name.replace("-r1-", f"-r{repeat}-")
            if repeat > 1:
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(first, target)

            def change(run: dict[str, object], repeat: int = repeat,
                       seconds: float = seconds, target: Path = target) -> None:
                run["run_id"] = target.name
                run["point_id"] = str(run["point_id"]).replace("-r1", f"-r{repeat}")
                run["params"]["repeat"] = repeat  # type: ignore[index]
                run["window"]["seconds"] = seconds / (scale * (1 + NOISE[repeat - 1]))  # type: ignore[index]
                run["verdict"].update(status="valid", reasons=[])  # type: ignore[attr-defined]
            edit_json(target / "run.json", change)
    return dest


def test_compare_states_its_power_and_exits_0_when_it_could_have_seen_a_regression(
        sweep_dir: Path, tmp_path: Path) -> None:
    before = _steady_sweep(sweep_dir, tmp_path / "a")
    after = _steady_sweep(sweep_dir, tmp_path / "b")
    result = run_cli("compare", before, after)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smallest regression detectable at 80% power" in result.stdout
    assert "every metric at or below the threshold" in result.stdout
    power = json.loads(run_cli("compare", before, after, "--json").stdout)["power"]
    rps = next(row for row in power if row["metric"] == "rps")
    assert 0 < rps["detectable"] < 0.10 and rps["repeats"] == "5/5"
    # the latency figures are copies (no spread): no change could hide in them
    assert all(row["detectable"] < 1e-6 for row in power if row["metric"] != "rps")


def test_compare_finds_a_known_regression_at_5_repeats(sweep_dir: Path, tmp_path: Path) -> None:
    before = _steady_sweep(sweep_dir, tmp_path / "a")
    after = _steady_sweep(sweep_dir, tmp_path / "b", scale=0.8)  # throughput down 20%
    result = run_cli("compare", before, after)
    assert result.returncode == 1, result.stdout + result.stderr
    table = json.loads(run_cli("compare", before, after, "--json").stdout)["metrics"]
    rps = [row for row in table if row["metric"] == "rps"]
    assert len(rps) == 4 and all(row["regression"] for row in rps)
    assert all(math.isclose(row["change"], -0.2, abs_tol=0.001) for row in rps)
    assert all(row["p_holm"] < 0.05 for row in rps)


def test_compare_with_2_repeats_is_underpowered_and_exits_4(
        sweep_dir: Path, tmp_path: Path) -> None:
    # the real fixture: 2 noisy 3-second repeats per point cannot show a 10% regression
    before = tmp_path / "a"
    shutil.copytree(sweep_dir, before)
    for run_json in before.glob("runs/*/run.json"):
        edit_json(run_json, lambda run: run["verdict"].update(status="valid", reasons=[]))
    result = run_cli("compare", before, before)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "UNDERPOWERED" in result.stdout and "(n = 2/2)" in result.stdout
    summary = power_summary(pd.DataFrame(json.loads(run_cli(
        "compare", before, before, "--json").stdout)["metrics"]), 0.10)
    assert summary["underpowered"].all() and (summary["detectable"] > 0.10).all()
    # a regression still exits 1 first, however underpowered the rest
    slower = _steady_sweep(sweep_dir, tmp_path / "slow", scale=0.5, repeats=2)
    steady = _steady_sweep(sweep_dir, tmp_path / "steady", repeats=2)
    assert run_cli("compare", steady, slower).returncode == 1
    help_text = run_cli("compare", "--help").stdout
    assert "4 compare found no regression but is underpowered" in " ".join(help_text.split())


def test_usl_reports_a_peak_only_when_kappa_excludes_zero() -> None:
    rng = np.random.default_rng(20261204)
    users = np.repeat([1, 2, 5, 10, 20, 50, 100, 200], 3).astype(float)
    # kappa = 0: throughput levels off and never falls
    flat = fit_usl(users, usl(users, 100.0, 0.05, 0.0) * rng.normal(1, 0.03, users.size))
    assert flat is not None and not flat.peak_established
    assert knee_text(flat).startswith("no peak established")
    assert math.isnan(flat.capacity_rps)
    # a clear retrograde region: kappa's interval excludes 0 and the peak is inside the range
    peaked = fit_usl(users, usl(users, 100.0, 0.02, 0.0005) * rng.normal(1, 0.02, users.size))
    assert peaked is not None and peaked.kappa_ci[0] > 0 and peaked.peak_established
    assert 30 < peaked.peak_users < 60 and "throughput peaks near" in knee_text(peaked)
    table = capacity_table(pd.DataFrame({"endpoint": "Aggregated", "status": "valid",
                                         "user_class": "fast", "mix": "m", "users": users,
                                         "rps": usl(users, 100.0, 0.05, 1e-6)
                                         * rng.normal(1, 0.05, users.size), "p95_ms": 1.0}))
    row = table.iloc[0]
    # a tiny kappa inside the noise: its interval reaches 0, so no peak and no capacity
    assert not row["peak_established"] and math.isnan(row["max_rps"])
    assert row["knee"].startswith("no peak established")
