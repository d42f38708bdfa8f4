"""The sentences of the report's answer, one function per kind of finding."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis._format import number
from analysis.compare import HIGHER, INCONCLUSIVE, LOWER, SAME, UNKNOWN


def slo_answer(fit: dict[Any, Any], label: str) -> str:
    """The highest valid measured point within the SLO (not a capacity), and the USL's view."""
    slo = str(fit["slo"])
    if math.isnan(float(fit["slo_rps"])):
        text = f"No valid point of {label} met the SLO {slo}."
    else:
        text = (f"Highest measured throughput among valid points with {slo} ({label}): "
                f"{number(fit['slo_rps'])} requests/s at {fit['slo_users']} users; a measured "
                "point, not a capacity (the service may sustain more between or beyond the "
                "user levels tried).")
    if not math.isnan(float(fit["max_rps"])):
        text += (f" USL-based estimate (throughput only, not the SLO): at most about "
                 f"{number(fit['max_rps'])} requests/s, near {number(fit['peak_users'], 0)} "
                 "users.")
    elif not math.isnan(float(fit["sigma"])):
        text += (" The USL gives no capacity here: no peak established (kappa's interval "
                 "includes 0, or the peak lies beyond the measured range).")
    return text


def class_answer(ratios: pd.DataFrame) -> list[str]:
    usable = ratios[ratios["rps"].notna()] if not ratios.empty else ratios
    if usable.empty:
        return ["FastHttpUser vs HttpUser: no (mix, users) cell has valid points of both "
                "classes, so no comparison is made (see the untrusted points below)."]
    margin = float(usable["margin"].iloc[0]) if "margin" in usable else 0.10
    clear = usable[usable["rps_difference"].isin([HIGHER, LOWER])]
    if clear.empty:
        lines = [f"FastHttpUser vs HttpUser: no measurable throughput difference after Holm's "
                 f"correction in any of the {len(usable)} comparable cells (Welch's t on the log "
                 f"ratio); that is not evidence of equality, which only TOST within "
                 f"±{margin:.0%} shows (counted per mix below)."]
    else:
        best = clear.assign(size=clear["rps"].map(lambda v: abs(math.log(v)))
                            ).sort_values("size").iloc[-1]
        faster = "FastHttpUser" if best["rps"] >= 1 else "HttpUser"
        factor = best["rps"] if best["rps"] >= 1 else 1 / best["rps"]
        lines = [f"Largest measurable throughput difference: {faster} gave {factor:.2f}x the "
                 f"other class at {int(best['users'])} users, mix {best['mix']} "
                 f"({_evidence(best)}); mean response-time ratio "
                 f"{number(best['mean_ms'], 2)} (FastHttpUser/HttpUser)."]
    for mix, group in usable.groupby("mix", sort=False):
        counts = group["rps_difference"].value_counts()
        lines.append(
            f"Mix {mix}, FastHttpUser/HttpUser throughput over {len(group)} comparable "
            f"cell(s) ({_users(group)} users; n={_span(group['n_fast'], 0)} FastHttpUser and "
            f"n={_span(group['n_http'], 0)} HttpUser repeats per cell): ratio "
            f"{_span(group['rps'])}; FastHttpUser "
            f"measurably higher in {counts.get(HIGHER, 0)}, HttpUser measurably higher in "
            f"{counts.get(LOWER, 0)} (Holm-corrected), no difference within ±{margin:.0%} "
            f"(TOST) in {counts.get(SAME, 0)}, inconclusive in "
            f"{counts.get(INCONCLUSIVE, 0) + counts.get(UNKNOWN, 0)}.")
    return lines


def _evidence(row: pd.Series) -> str:
    n = f"n={int(row['n_fast'])} FastHttpUser, n={int(row['n_http'])} HttpUser repeats"
    label = str(row.get("rps_interval") or "interval")
    if math.isnan(row["rps_lo"]):
        return f"{n}: no interval, a single repeat on a side"
    return (f"{n}; {label} of FastHttpUser/HttpUser {row['rps_lo']:.2f}-{row['rps_hi']:.2f}; "
            f"Holm-corrected p={row['rps_p_holm']:.3g}")


def _span(values: pd.Series, digits: int = 2) -> str:
    low, high = f"{values.min():.{digits}f}", f"{values.max():.{digits}f}"
    return low if low == high else f"{low} to {high}"


def _users(group: pd.DataFrame) -> str:
    return ", ".join(str(int(users)) for users in sorted(group["users"]))
