from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.capacity import capacity_table, fit_usl, usl


def test_usl_fit_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(11)
    users = np.repeat([1, 2, 4, 8, 16, 32, 64, 128], 3)
    truth = usl(users, 500.0, 0.04, 0.0005)
    fit = fit_usl(users, truth * rng.normal(1.0, 0.01, users.size))
    assert fit is not None
    assert math.isclose(fit.lam, 500.0, rel_tol=0.05)
    assert math.isclose(fit.sigma, 0.04, rel_tol=0.25)
    assert math.isclose(fit.kappa, 0.0005, rel_tol=0.25)
    assert math.isclose(fit.peak_users, math.sqrt(0.96 / 0.0005), rel_tol=0.15)
    assert fit.r_squared > 0.99


def test_usl_without_coherency_has_no_peak() -> None:
    users = np.array([1, 2, 4, 8, 16, 32], dtype=float)
    fit = fit_usl(users, usl(users, 100.0, 0.1, 0.0))
    assert fit is not None and math.isinf(fit.peak_users)
    assert math.isclose(fit.max_rps, 1000.0, rel_tol=0.05)
    assert fit_usl(np.array([1, 2, 2]), np.array([1.0, 2.0, 2.1])) is None
    assert fit.extrapolated and math.isnan(fit.capacity_rps)


def test_three_levels_are_not_enough_for_three_parameters() -> None:
    # 3 points used to give a fit with R^2 = 1
    users = np.array([1.0, 10.0, 50.0])
    assert fit_usl(users, np.array([1000.0, 3500.0, 3600.0])) is None
    assert fit_usl(np.append(users, 100.0), np.array([1000.0, 3500.0, 3600.0, 3550.0]))


def test_coefficients_stay_non_negative_and_a_runaway_peak_is_no_capacity() -> None:
    # a near-linear throughput used to drive sigma to about 0 and print a capacity of 3.6e15
    users = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    fit = fit_usl(users, 1000.0 * users * np.array([1.0, 1.001, 0.999, 1.0, 1.0005]))
    assert fit is not None and fit.sigma >= 0 and fit.kappa >= 0
    assert fit.extrapolated and math.isnan(fit.capacity_rps)
    assert fit.sigma_ci[0] >= 0 and fit.kappa_ci[0] >= 0


def test_a_fitted_peak_above_every_measured_point_is_flagged() -> None:
    users = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    rps = usl(users, 100.0, 0.02, 0.0005)  # peak near 44 users: beyond 16
    fit = fit_usl(users, rps)
    assert fit is not None and fit.peak_users > 16 and fit.extrapolated
    table = capacity_table(pd.DataFrame({"endpoint": "Aggregated", "status": "valid",
                                         "user_class": "fast", "mix": "m", "users": users,
                                         "rps": rps, "p95_ms": 1.0}))
    row = table.iloc[0]
    assert row["extrapolated"] and math.isnan(row["max_rps"])
    assert "extrapolation" in row["knee"] and "not a capacity" in row["knee"]


def test_fit_reports_parameter_intervals_and_residuals() -> None:
    rng = np.random.default_rng(3)
    users = np.repeat([1, 2, 4, 8, 16, 32, 64, 128], 3).astype(float)
    rps = usl(users, 500.0, 0.04, 0.0005) * rng.normal(1.0, 0.02, users.size)
    fit = fit_usl(users, rps)
    assert fit is not None
    assert fit.lam_ci[0] < 500.0 < fit.lam_ci[1]
    assert fit.sigma_ci[0] < 0.04 < fit.sigma_ci[1]
    assert fit.kappa_ci[0] < 0.0005 < fit.kappa_ci[1]
    assert len(fit.residuals) == users.size and not fit.extrapolated
    assert fit.capacity_rps == fit.max_rps


def test_capacity_table_uses_valid_points_and_the_slo() -> None:
    users = [1, 5, 10, 20, 40, 80]
    rps = usl(np.array(users), 100.0, 0.05, 0.001)
    p95 = [5, 8, 20, 60, 150, 400]
    rows = [{"endpoint": "Aggregated", "status": "valid", "user_class": "fast", "mix": "m",
             "users": u, "rps": r, "p95_ms": p} for u, r, p in zip(users, rps, p95, strict=True)]
    rows.append({"endpoint": "Aggregated", "status": "generator-bound", "user_class": "fast",
                 "mix": "m", "users": 160, "rps": 99999.0, "p95_ms": 1.0})
    table = capacity_table(pd.DataFrame(rows), slo_ms=100.0)
    row = table.iloc[0]
    assert row["valid_points"] == 6
    assert row["slo_users"] == 20 and math.isclose(row["slo_rps"], rps[3])
    assert row["measured_max_rps"] < 99999.0
    assert math.isclose(row["sigma"], 0.05, rel_tol=0.05)
