"""Trust checks: Little's law per point, and which points may be used at all."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._locust import AGGREGATED, TRUSTED_STATUSES
from runmodel import littles_law as law
from runmodel import verdicts


def littles_law(points: pd.DataFrame) -> pd.DataFrame:
    """Little's law per point: users = throughput x (response time + think time).

    Returns the Aggregated rows with ``predicted_users`` = rps x (mean response time + think
    time) and ``residual`` = (users - predicted) / users. A large positive residual means the
    users spent time neither waiting for the service nor thinking: the load generator was busy
    (or requests queued inside it). Rate-paced points use their cycle time, 1 / per-user rate,
    so their check is trivially the rate itself and shows whether the generator kept up.
    With a think time the analysis cannot know (Locust's own ``wait_time``) the residual is NaN.
    ``measured_residual`` uses the generator's own count of requests in flight instead
    (``measured_in_flight``, closed-loop points of runs that recorded it): requests a service
    left unanswered all window are missing from the completed requests, not from that count.
    """
    rows = points[points["endpoint"] == AGGREGATED].copy()
    # runmodel.littles_law: the cycle is R + Z (NaN when the think time is not known), or
    # 1 / the per-user rate for rate-paced points
    rows["predicted_users"] = [
        rps * law.cycle_s(mean_ms, think_s, rate if pacing == "rate" else None)
        for rps, mean_ms, think_s, rate, pacing in zip(
            rows["rps"], rows["mean_ms"], rows["think_s"], rows["per_user_rps"], rows["pacing"],
            strict=True)]
    rows["residual"] = [law.residual(users, busy) for users, busy in
                        zip(rows["users"], rows["predicted_users"], strict=True)]
    measured = rows.get("measured_in_flight", np.nan)
    rows["measured_residual"] = [
        law.residual(users, busy) if law.closed_model(pacing) else np.nan
        for users, busy, pacing in zip(rows["users"], pd.Series(measured, index=rows.index),
                                       rows["pacing"], strict=True)]
    columns = ["point_id", "user_class", "mix", "users", "repeat", "rps", "mean_ms", "think_s",
               "predicted_users", "residual", "measured_residual", "status"]
    return rows[columns].reset_index(drop=True)


OWN_CPU = "own-cpu"
CONTENTION = "contention"
LOOP_LATE = "loop-late"
LITTLE = "littles-law"
EXPLANATIONS = {
    OWN_CPU: "Locust's own process was near a full core, so the figures describe Locust, "
             "not the service",
    CONTENTION: "the generator's CPUs were busy with other processes (contention), so Locust "
                "was starved of CPU although its own process was not near a full core",
    LOOP_LATE: "Locust's event loop ran late (its greenlets could not run on time), which "
               "inflates the response times it measures",
    LITTLE: "Little's law does not hold: the users spent much of the window outside their "
            "requests, or the window's count is not the window's",
    # every other status' own meaning, from the shared vocabulary
    **{status: meaning for status, meaning in verdicts.MEANINGS.items()
       if status not in (verdicts.VALID, verdicts.GENERATOR_BOUND)},
}


def causes(status: str, reasons: str) -> list[str]:
    """Why a point is not trustworthy, from its own verdict reasons (keys of ``EXPLANATIONS``).

    A ``generator-bound`` verdict has several causes the runner words differently: Locust's own
    process near a full core ("generator process ... at 95% of a core", or a remote worker),
    the generator's CPUs kept busy by other processes ("contention: ...", or in schema 1
    "... other processes compete ..."), a late event loop, or Little's law.
    """
    found = []
    for reason in reasons.split("; "):
        if ("other processes compete" in reason or reason.startswith("contention:")
                or reason.startswith("the generator's CPUs were")):
            found.append(CONTENTION)
        elif "event loop ran late" in reason:
            found.append(LOOP_LATE)
        elif reason.startswith("Little's law"):
            found.append(LITTLE)
        elif reason.startswith(("generator process", "remote worker")):
            found.append(OWN_CPU)
    if status == "generator-bound" and not found:
        found.append(OWN_CPU)  # an older runner's wording: its only cause was Locust's own CPU
    if status != "generator-bound" and status in EXPLANATIONS:
        found.insert(0, status)
    return list(dict.fromkeys(found))


def untrusted(points: pd.DataFrame) -> pd.DataFrame:
    """The points whose verdict is not ``valid``, one row per point, each with its reasons.

    ``cause`` is the first of ``causes()`` and ``why`` explains every cause in words.
    """
    rows = points[(points["endpoint"] == AGGREGATED) & ~points["status"].isin(TRUSTED_STATUSES)]
    found = [causes(str(status), str(reasons))
             for status, reasons in zip(rows["status"], rows["reasons"], strict=True)]
    rows = rows.assign(cause=[keys[0] if keys else "" for keys in found],
                       why=["; ".join(EXPLANATIONS[key] for key in keys) for keys in found])
    return rows[["point_id", "status", "cause", "why", "reasons", "gen_cpu_mean", "requests",
                 "failures"]].reset_index(drop=True)
