"""Capacity: the Universal Scalability Law fitted to throughput vs users, and the SLO limit.

USL (Gunther): X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1)), where lambda is
the throughput of one user, sigma the contention (serialised share) and kappa the coherency
(crosstalk) coefficient. Throughput peaks at N* = sqrt((1 - sigma) / kappa).

A peak is reported only when it is established: kappa's 95% interval excludes 0 (a kappa
whose interval reaches 0 is as consistent with a throughput that levels off and never falls)
and N* lies inside the measured range. Otherwise the fit says "no peak established".

The open model's capacity is measured, not fitted: ``--find-capacity`` searches the highest
arrival rate meeting an SLO and writes ``capacity.json``; ``load_capacity`` reads it,
``capacity_sentence`` says it with its search bracket, ``hockey_stick_table`` gives the runs
behind the hockey-stick figure (``plots.hockey_stick``).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MIN_LEVELS = 4  # three parameters: three levels always fit exactly (R^2 = 1)


@dataclass(frozen=True)
class UslFit:
    """A USL fit: coefficients with 95% CIs from the fit's covariance, the peak, R^2, residuals.

    sigma and kappa are bounded at 0 (a negative contention or coherency has no meaning), so
    their intervals are clipped at 0. ``max_users`` is the highest user count measured: a peak
    beyond it (or no peak at all) is an extrapolation, never a capacity.
    """

    lam: float
    sigma: float
    kappa: float
    points: int
    r_squared: float
    levels: int = 0
    max_users: float = math.nan
    lam_ci: tuple[float, float] = (math.nan, math.nan)
    sigma_ci: tuple[float, float] = (math.nan, math.nan)
    kappa_ci: tuple[float, float] = (math.nan, math.nan)
    residuals: tuple[tuple[float, float, float], ...] = ()  # (users, measured, fitted)

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

    @property
    def extrapolated(self) -> bool:
        """True when the peak lies beyond the highest measured user count (or does not exist)."""
        return not self.peak_users <= self.max_users

    @property
    def kappa_excludes_zero(self) -> bool:
        """True when kappa's interval is known and its low end is above 0."""
        low = self.kappa_ci[0]
        return self.kappa > 0 and not math.isnan(low) and low > 0

    @property
    def peak_established(self) -> bool:
        """A peak the data support: kappa's interval excludes 0 and N* was measured past."""
        return self.kappa_excludes_zero and not self.extrapolated

    @property
    def capacity_rps(self) -> float:
        """The peak throughput when the peak is established (``peak_established``), else NaN."""
        return self.max_rps if self.peak_established else math.nan


def usl(users: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    """Throughput the USL predicts at ``users``."""
    n = np.asarray(users, dtype=float)
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def fit_usl(users: np.ndarray | pd.Series, rps: np.ndarray | pd.Series,
            confidence: float = 0.95) -> UslFit | None:
    """Bounded least-squares USL fit (lambda, sigma, kappa >= 0, sigma <= 1).

    None with fewer than ``MIN_LEVELS`` distinct user counts: three parameters through three
    levels fit exactly and say nothing.
    """
    n = np.asarray(users, dtype=float)
    x = np.asarray(rps, dtype=float)
    keep = ~(np.isnan(n) | np.isnan(x)) & (n > 0)
    n, x = n[keep], x[keep]
    if len(np.unique(n)) < MIN_LEVELS:
        return None
    from scipy import stats as scipy_stats
    from scipy.optimize import OptimizeWarning, curve_fit  # slow to import: only when fitting

    lam0 = float(np.max(x[n == n.min()]) / n.min())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            params, covariance = curve_fit(usl, n, x, p0=[lam0, 0.05, 0.001],
                                           bounds=([0, 0, 0], [np.inf, 1, np.inf]),
                                           maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    lam, sigma, kappa = (float(value) for value in params)
    kappa = 0.0 if kappa < 1e-12 else kappa  # the optimiser's rounding of a zero bound
    sigma = 0.0 if sigma < 1e-12 else sigma
    fitted = usl(n, lam, sigma, kappa)
    residual = x - fitted
    spread = float(((x - x.mean()) ** 2).sum())
    r_squared = 1 - float((residual**2).sum()) / spread if spread > 0 else math.nan
    freedom = max(len(n) - 3, 1)
    t = float(scipy_stats.t.ppf((1 + confidence) / 2, freedom))
    errors = np.sqrt(np.clip(np.diag(covariance), 0, None)) if np.all(
        np.isfinite(covariance)) else np.full(3, math.nan)

    def interval(value: float, error: float, upper: float = math.inf) -> tuple[float, float]:
        if math.isnan(error):
            return math.nan, math.nan
        return max(value - t * error, 0.0), min(value + t * error, upper)

    order = np.argsort(n, kind="stable")
    return UslFit(lam, sigma, kappa, len(n), r_squared, len(np.unique(n)), float(n.max()),
                  interval(lam, float(errors[0])), interval(sigma, float(errors[1]), 1.0),
                  interval(kappa, float(errors[2])),
                  tuple((float(n[i]), float(x[i]), float(fitted[i])) for i in order))


def knee_text(fit: UslFit) -> str:
    """The fit's peak in words: a capacity only when the peak is established."""
    if math.isinf(fit.peak_users):
        return ("no peak established: kappa = 0, throughput keeps rising within the fit; an "
                "extrapolated ceiling is not a capacity")
    if not fit.kappa_excludes_zero:
        low, high = fit.kappa_ci
        interval = ("no interval for kappa" if math.isnan(low) else
                    f"kappa's 95% CI [{low:.2g}, {high:.2g}] includes 0")
        return (f"no peak established: {interval}, so the fitted peak (near "
                f"{fit.peak_users:,.0f} users) may not exist")
    if fit.extrapolated:
        return (f"the fitted peak (near {fit.peak_users:,.0f} users) lies beyond the highest "
                f"measured {fit.max_users:,.0f} users: an extrapolation, not a capacity")
    return (f"throughput peaks near {fit.peak_users:,.0f} users at about {fit.max_rps:,.0f} "
            "requests/s (inside the measured range)")


def capacity_table(points: pd.DataFrame, slo_ms: float = 100.0,
                   slo_metric: str = "p95_ms") -> pd.DataFrame:
    """Per user class and mix: the USL fit on trusted configurations and the best within SLO.

    Only configurations whose every repeat is valid enter (``stats.trusted_points``).
    ``slo_rps`` is the highest mean throughput among user counts whose every repeat met
    ``slo_metric < slo_ms``; ``slo_users`` is where it was measured. ``max_rps`` is the USL
    peak only when it is established (``peak_established``: kappa's interval excludes 0 and
    the peak lies inside the measured range), else NaN.
    """
    from analysis.loading import POINT_KEYS
    from analysis.stats import trusted_points

    valid = trusted_points(points)
    rows = []
    keys = [key for key in POINT_KEYS if key != "users"]
    for values, group in valid.groupby(keys, sort=True):
        fit = fit_usl(group["users"], group["rps"])
        by_users = group.groupby("users").agg(rps=("rps", "mean"), worst=(slo_metric, "max"))
        within = by_users[by_users["worst"] < slo_ms].sort_values("rps")
        best_users = int(within.index[-1]) if len(within) else None
        best_rps = float(within["rps"].iloc[-1]) if len(within) else math.nan
        levels = int(group["users"].nunique())
        nan2 = (math.nan, math.nan)
        rows.append({
            **dict(zip(keys, values, strict=True)),
            "valid_points": len(group),
            "valid_levels": levels,
            "lambda": fit.lam if fit else math.nan,
            "lambda_lo": (fit.lam_ci if fit else nan2)[0],
            "lambda_hi": (fit.lam_ci if fit else nan2)[1],
            "sigma": fit.sigma if fit else math.nan,
            "sigma_lo": (fit.sigma_ci if fit else nan2)[0],
            "sigma_hi": (fit.sigma_ci if fit else nan2)[1],
            "kappa": fit.kappa if fit else math.nan,
            "kappa_lo": (fit.kappa_ci if fit else nan2)[0],
            "kappa_hi": (fit.kappa_ci if fit else nan2)[1],
            "r_squared": fit.r_squared if fit else math.nan,
            "residuals": "; ".join(f"{u:g}: {m - f:+,.0f}" for u, m, f in fit.residuals)
            if fit else "",
            "peak_users": fit.peak_users if fit else math.nan,
            "extrapolated": fit.extrapolated if fit else False,
            "peak_established": fit.peak_established if fit else False,
            "max_rps": fit.capacity_rps if fit else math.nan,
            "knee": knee_text(fit) if fit else "",
            "measured_max_rps": float(by_users["rps"].max()),
            "slo": f"{slo_metric.removesuffix('_ms')} < {slo_ms:g} ms",
            "slo_rps": best_rps,
            "slo_users": best_users,
            "note": "" if fit else (f"USL needs trusted configurations at {MIN_LEVELS} or more "
                                    f"user counts (has {levels})"),
        })
    return pd.DataFrame(rows)


# --- the open model: capacity under an SLO (capacity.json) and the hockey stick -------------
CAPACITY_FILE = "capacity.json"  # written by ``python -m scenarios.sweep --find-capacity``
HOCKEY_COLUMNS = ("open_intended_p50_ms", "open_intended_p95_ms", "open_intended_p99_ms",
                  "open_service_p50_ms", "open_service_p99_ms", "open_offered_rps", "rps",
                  "open_dropped", "open_intended")


def load_capacity(sweep_dir: Path | str) -> list[dict[str, Any]]:
    """The searches of a sweep's ``capacity.json`` (results/README.md, "Capacity"); [] when the
    sweep has none or the file is unreadable (the report then shows no capacity)."""
    path = Path(sweep_dir) / CAPACITY_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    searches = document.get("searches") if isinstance(document, dict) else None
    if not isinstance(searches, list):
        return []
    slo = ", ".join(str(text) for text in document.get("slo") or [])
    return [{**search, "slo": slo} for search in searches if isinstance(search, dict)]


def _rate(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.4g}"


def capacity_sentence(search: dict[str, Any]) -> str:
    """One search in words: the capacity, its interval named as what it is, how it was found."""
    from analysis.dimensions import DEFAULTS, label_of

    parts = []
    for key, value in (search.get("configuration") or {}).items():
        try:
            label = label_of(key, value)
        except KeyError:
            label = str(value)
        if key in ("user_class", "mix") or label != DEFAULTS.get(key, label + "?"):
            parts.append(f"{label} added RTT" if key == "rtt_delay" else label)
    where = ", ".join(parts)
    interval = search.get("interval") or {}
    low, high = interval.get("low"), interval.get("high")
    slo = search.get("slo") or "the SLO"
    runs = f"{search.get('runs', 0)} runs"
    if low is None:
        return (f"Capacity under {slo} ({where}): no rate passed (the lowest tried, "
                f"{_rate(high)}/s, failed; search stopped: {search.get('stopped')}, {runs}).")
    upper = (f"{_rate(high)}/s" if high is not None else "no failing rate found")
    state = (f"resolved to {float(search.get('resolution') or 0):.0%}, deciding rates run "
             f"{search.get('repeats')}× each" if search.get("resolved")
             else f"not resolved: {search.get('stopped')}")
    split = search.get("disagreeing_rates") or []
    disagree = (f"; runs disagreed at {', '.join(_rate(r) for r in split)}/s (counted failing)"
                if split else "")
    return (f"Capacity under {slo} ({where}, latency from the intended start): "
            f"{_rate(low)} arrivals/s — search bracket [{_rate(low)}/s passed every run, "
            f"{upper} failed], not a confidence interval ({state}, {runs}{disagree}).")


def hockey_stick_table(points: pd.DataFrame) -> pd.DataFrame:
    """The open-model runs (Aggregated rows with an arrival rate): offered rate, achieved
    throughput, latency from the intended start and service time, one row per run."""
    if "arrival_rate" not in points or "open_intended_p99_ms" not in points:
        return pd.DataFrame()
    rows = points[points["endpoint"] == "Aggregated"] if "endpoint" in points else points
    rates = pd.to_numeric(rows["arrival_rate"], errors="coerce")
    rows = rows.assign(offered=rates)[rates.notna() & rows["open_intended_p99_ms"].notna()]
    return rows.sort_values("offered").reset_index(drop=True)
