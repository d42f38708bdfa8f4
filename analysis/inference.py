"""Tests on ratios of means over repeats: Welch's t on the log scale, TOST, Holm, power.

Every comparison here is a ratio of means, mean(a) / mean(b), over the repeats of two
configurations (FastHttpUser / HttpUser, sweep B / sweep A). On the log scale the ratio is a
difference, d = ln mean(a) - ln mean(b), whose standard error the delta method gives from
the repeats' coefficients of variation: se^2 = cv_a^2 / n_a + cv_b^2 / n_b, with Welch's
degrees of freedom (``log_welch``). With a single repeat on a side there is no spread of its
own: the sweep's measured run-to-run spread (``stats.relative_spread``, pooled over its
trusted configurations) stands in for both sides, with its pooled degrees of freedom.

What may be said of a comparison:

- "measurably different" only when Welch's two-sided p-value, corrected by Holm's step-down
  method over every comparison in the same table (``holm``), is below ``ALPHA``;
- "no difference" only when the two one-sided tests (TOST, ``LogTest.p_equivalence``) put the
  ratio inside [1 - margin, 1 + margin] (margin 10% by default), again after Holm;
- otherwise "inconclusive at n = n_a/n_b": the data cannot tell.

``detectable`` is the smallest change a two-sided test at a given level would find with 80%
power, at the measured noise and the repeats at hand (the non-central t distribution).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ALPHA = 0.05
MARGIN = 0.10
POWER = 0.80


@dataclass(frozen=True)
class LogTest:
    """One ratio of means with its log-scale test, TOST and interval."""

    ratio: float
    n_a: int
    n_b: int
    se: float  # standard error of ln(ratio)
    df: float
    p_value: float  # two-sided: is the ratio 1?
    p_equivalence: float  # TOST: is the ratio inside [1 - margin, 1 + margin]?
    low: float  # the interval of the ratio (``label`` says which kind)
    high: float
    label: str
    method: str

    @property
    def counts(self) -> str:
        return f"n = {self.n_a}/{self.n_b}"

    def equivalence(self, margin: float) -> float:
        """The TOST p-value for "the ratio lies within [1 - margin, 1 + margin]"."""
        return tost(math.log(self.ratio), self.se, self.df, margin)


def tost(d: float, se: float, df: float, margin: float) -> float:
    """Two one-sided t-tests of a log ratio ``d`` against ln(1 - margin) and ln(1 + margin):
    the larger of the two p-values (small: the ratio is inside the margin)."""
    from scipy import stats as scipy_stats

    lower = math.log(1 - margin) if margin < 1 else -math.inf  # a margin of 100% or more
    upper = math.log(1 + margin)
    if se == 0:
        return 0.0 if lower < d < upper else 1.0
    return float(max(scipy_stats.t.sf((d - lower) / se, df),
                     scipy_stats.t.cdf((d - upper) / se, df)))


def _clean(values: Sequence[float] | np.ndarray | Any) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    return data[~np.isnan(data)]


def welch_df(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """Welch-Satterthwaite degrees of freedom of var_a / n_a + var_b / n_b."""
    first, second = var_a / n_a, var_b / n_b
    denominator = first**2 / (n_a - 1) + second**2 / (n_b - 1)
    return (first + second) ** 2 / denominator if denominator > 0 else float(n_a + n_b - 2)


def log_welch(a: Sequence[float] | np.ndarray | Any, b: Sequence[float] | np.ndarray | Any,
              margin: float = MARGIN, spread: float = math.nan, spread_df: float = 0.0,
              confidence: float = 1 - ALPHA) -> LogTest | None:
    """mean(a) / mean(b) tested on the log scale; None when it cannot be tested.

    Both sides with 2 or more repeats: Welch's t on ln(ratio) with the delta-method standard
    error. A side with one repeat: the pooled ``spread`` (a coefficient of variation with
    ``spread_df`` degrees of freedom) for both sides; None when that is unknown too. The
    interval is a 95% t-interval of the ratio when both sides have 3 or more repeats, else the
    range of the ratios of single repeats (min a / max b to max a / min b), labelled so.
    """
    from scipy import stats as scipy_stats  # imported here: scipy is slow to import

    xa, xb = _clean(a), _clean(b)
    if xa.size == 0 or xb.size == 0 or xa.mean() <= 0 or xb.mean() <= 0:
        return None
    ratio = float(xa.mean() / xb.mean())
    n_a, n_b = int(xa.size), int(xb.size)
    if n_a >= 2 and n_b >= 2:
        cv_a = float(xa.std(ddof=1) / xa.mean())
        cv_b = float(xb.std(ddof=1) / xb.mean())
        se = math.sqrt(cv_a**2 / n_a + cv_b**2 / n_b)
        df = welch_df(cv_a**2, n_a, cv_b**2, n_b)
        method = "Welch t on the log ratio"
    elif not math.isnan(spread) and spread_df >= 1:
        se = spread * math.sqrt(1 / n_a + 1 / n_b)
        df = float(spread_df)
        method = f"t on the log ratio, the sweep's measured spread {spread:.1%} (n = 1 on a side)"
    else:
        return None
    d = math.log(ratio)
    p_value = float(2 * scipy_stats.t.sf(abs(d) / se, df)) if se else float(d == 0)
    p_equivalence = tost(d, se, df, margin)
    if n_a >= 3 and n_b >= 3:
        t = float(scipy_stats.t.ppf((1 + confidence) / 2, df))
        low, high = math.exp(d - t * se), math.exp(d + t * se)
        label = f"{confidence:.0%} CI (Welch t, log scale, n={n_a}/{n_b})"
    elif n_a >= 2 or n_b >= 2:
        low, high = float(xa.min() / xb.max()), float(xa.max() / xb.min())
        label = f"range of repeat ratios (n={n_a}/{n_b})"
    else:
        low = high = math.nan
        label = f"no interval (n={n_a}/{n_b})"
    return LogTest(ratio, n_a, n_b, se, df, p_value, p_equivalence, low, high, label, method)


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and does not count as a test).

    Rejecting where the adjusted p is below alpha keeps the chance of any false "different"
    in the family at most alpha.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    running = 0.0
    for rank, index in enumerate(tested[np.argsort(p[tested], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * float(p[index])))
        adjusted[index] = running
    return adjusted


def detectable_log(spread: float, n_a: int, n_b: int, df: float, alpha: float = ALPHA,
                   power: float = POWER) -> float:
    """The smallest |ln ratio| a two-sided t-test at ``alpha`` finds with ``power``.

    ``spread`` is the coefficient of variation of one repeat; NaN when unknown.
    """
    if math.isnan(spread) or n_a < 1 or n_b < 1 or df < 1 or not 0 < alpha < 1:
        return math.nan
    if spread == 0:
        return 0.0
    from scipy import stats as scipy_stats
    from scipy.optimize import brentq

    critical = float(scipy_stats.t.ppf(1 - alpha / 2, df))

    def shortfall(ncp: float) -> float:
        reach = scipy_stats.nct.sf(critical, df, ncp) + scipy_stats.nct.cdf(-critical, df, ncp)
        return float(reach) - power

    # the usual approximation, critical + t(power), is the fallback where scipy's non-central
    # t gives no number (very large non-centralities)
    ncp = critical + float(scipy_stats.t.ppf(power, df))
    upper = critical + 10.0
    reach = shortfall(upper)
    while math.isfinite(reach) and reach < 0 and upper < 1e4:
        upper *= 2
        reach = shortfall(upper)
    if math.isfinite(reach) and reach >= 0:
        with contextlib.suppress(ValueError):  # NaN inside the bracket: the approximation
            ncp = float(brentq(shortfall, 0.0, upper))
    return ncp * spread * math.sqrt(1 / n_a + 1 / n_b)


def equal_df(n_a: int, n_b: int, pooled_df: float) -> float:
    """The degrees of freedom of the test a cell of n_a/n_b repeats gets (equal variances)."""
    if n_a >= 2 and n_b >= 2:
        return welch_df(1.0, n_a, 1.0, n_b)
    return pooled_df
