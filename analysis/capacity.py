"""Capacity: the Universal Scalability Law fitted to throughput vs users, and the SLO limit.

USL (Gunther): X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1)), where lambda is
the throughput of one user, sigma the contention (serialised share) and kappa the coherency
(crosstalk) coefficient. Throughput peaks at N* = sqrt((1 - sigma) / kappa).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED, TRUSTED_STATUSES


@dataclass(frozen=True)
class UslFit:
    """A USL fit: coefficients, the peak, and how many points it rests on."""

    lam: float
    sigma: float
    kappa: float
    points: int
    r_squared: float

    @property
    def peak_users(self) -> float:
        """N* where throughput peaks (inf when kappa is 0: no retrograde region)."""
        if self.kappa <= 0:
            return math.inf
        return math.sqrt(max(1 - self.sigma, 0.0) / self.kappa)

    @property
    def max_rps(self) -> float:
        """Throughput at the peak (the asymptote lambda / sigma when kappa is 0)."""
        if math.isinf(self.peak_users):
            return self.lam / self.sigma if self.sigma > 0 else math.inf
        return float(usl(np.array([self.peak_users]), self.lam, self.sigma, self.kappa)[0])


def usl(users: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    """Throughput the USL predicts at ``users``."""
    n = np.asarray(users, dtype=float)
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def fit_usl(users: np.ndarray | pd.Series, rps: np.ndarray | pd.Series) -> UslFit | None:
    """Least-squares USL fit (sigma in [0, 1], kappa >= 0); None with under 3 distinct users."""
    n = np.asarray(users, dtype=float)
    x = np.asarray(rps, dtype=float)
    keep = ~(np.isnan(n) | np.isnan(x)) & (n > 0)
    n, x = n[keep], x[keep]
    if len(np.unique(n)) < 3:
        return None
    from scipy.optimize import OptimizeWarning, curve_fit  # slow to import: only when fitting

    lam0 = float(np.max(x[n == n.min()]) / n.min())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, _ = curve_fit(usl, n, x, p0=[lam0, 0.05, 0.001],
                                  bounds=([0, 0, 0], [np.inf, 1, np.inf]), maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    lam, sigma, kappa = (float(value) for value in params)
    kappa = 0.0 if kappa < 1e-12 else kappa  # the optimiser's rounding of a zero bound
    residual = x - usl(n, lam, sigma, kappa)
    spread = float(((x - x.mean()) ** 2).sum())
    r_squared = 1 - float((residual**2).sum()) / spread if spread > 0 else math.nan
    return UslFit(lam, sigma, kappa, len(n), r_squared)


def capacity_table(points: pd.DataFrame, slo_ms: float = 100.0,
                   slo_metric: str = "p95_ms") -> pd.DataFrame:
    """Per user class and mix: the USL fit on valid points and the best throughput within SLO.

    ``slo_rps`` is the highest mean throughput among user counts whose every valid repeat met
    ``slo_metric < slo_ms``; ``slo_users`` is where it was measured.
    """
    valid = points[(points["endpoint"] == AGGREGATED) & points["status"].isin(TRUSTED_STATUSES)]
    rows = []
    for (user_class, mix), group in valid.groupby(["user_class", "mix"], sort=True):
        fit = fit_usl(group["users"], group["rps"])
        by_users = group.groupby("users").agg(rps=("rps", "mean"), worst=(slo_metric, "max"))
        within = by_users[by_users["worst"] < slo_ms].sort_values("rps")
        best_users = int(within.index[-1]) if len(within) else None
        best_rps = float(within["rps"].iloc[-1]) if len(within) else math.nan
        rows.append({
            "user_class": user_class, "mix": mix, "valid_points": len(group),
            "lambda": fit.lam if fit else math.nan, "sigma": fit.sigma if fit else math.nan,
            "kappa": fit.kappa if fit else math.nan,
            "r_squared": fit.r_squared if fit else math.nan,
            "peak_users": fit.peak_users if fit else math.nan,
            "max_rps": fit.max_rps if fit else math.nan,
            "measured_max_rps": float(by_users["rps"].max()),
            "slo": f"{slo_metric.removesuffix('_ms')} < {slo_ms:g} ms",
            "slo_rps": best_rps,
            "slo_users": best_users,
            "note": "" if fit else "USL needs valid points at 3 or more user counts",
        })
    return pd.DataFrame(rows)
