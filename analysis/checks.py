"""Trust checks: Little's law per point, and which points may be used at all."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED, TRUSTED_STATUSES


def littles_law(points: pd.DataFrame) -> pd.DataFrame:
    """Little's law per point: users = throughput x (response time + think time).

    Returns the Aggregated rows with ``predicted_users`` = rps x (mean response time + think
    time) and ``residual`` = (users - predicted) / users. A large positive residual means the
    users spent time neither waiting for the service nor thinking: the load generator was busy
    (or requests queued inside it). Rate-paced points use their cycle time, 1 / per-user rate,
    so their check is trivially the rate itself and shows whether the generator kept up.
    With a think time the analysis cannot know (Locust's own ``wait_time``) the residual is NaN.
    """
    rows = points[points["endpoint"] == AGGREGATED].copy()
    response_s = rows["mean_ms"] / 1000.0
    cycle_s = response_s + rows["think_s"]  # NaN when the think time is not known
    rate_paced = rows["pacing"] == "rate"
    cycle_s = cycle_s.where(~rate_paced, 1.0 / rows["per_user_rps"])
    rows["predicted_users"] = rows["rps"] * cycle_s
    rows["residual"] = (rows["users"] - rows["predicted_users"]) / rows["users"].replace(0, np.nan)
    columns = ["point_id", "user_class", "mix", "users", "repeat", "rps", "mean_ms", "think_s",
               "predicted_users", "residual", "status"]
    return rows[columns].reset_index(drop=True)


def untrusted(points: pd.DataFrame) -> pd.DataFrame:
    """The points whose verdict is not ``valid``, with the reasons, one row per point."""
    rows = points[(points["endpoint"] == AGGREGATED) & ~points["status"].isin(TRUSTED_STATUSES)]
    return rows[["point_id", "status", "reasons", "gen_cpu_mean", "requests", "failures"]
                ].reset_index(drop=True)
