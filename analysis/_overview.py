"""The report's first screen as data: what ran where and when, trust, the answer, capacity."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd

from analysis._format import number
from analysis._locust import TRUSTED_STATUSES
from analysis.checks import EXPLANATIONS
from analysis.compare import HIGHER, INCONCLUSIVE, LOWER, SAME
from analysis.dimensions import EXTRA_KEYS, class_name, named_dimensions, series_name
from analysis.loading import Sweep


def _when(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _seconds(value: object) -> str:
    seconds = float(value)  # type: ignore[arg-type]
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def facts(sweep: Sweep) -> dict[str, str]:
    """Three short lines: what was run, on what, and when (from the manifest)."""
    manifest = sweep.manifest
    matrix = manifest.get("matrix") or {}
    points = sweep.aggregated
    classes = matrix.get("user_classes") or list(dict.fromkeys(points["user_class"]))
    mixes = matrix.get("mixes") or list(dict.fromkeys(points["mix"]))
    users = matrix.get("users") or sorted(set(points["users"]))
    what = (f"{', '.join(class_name(c) for c in classes)} × mix {', '.join(map(str, mixes))} × "
            f"{', '.join(map(str, users))} users")
    for name in named_dimensions(points):
        what += f" × {name} {', '.join(sorted(set(points[name].dropna().astype(str))))}"
    if matrix.get("repeats"):
        what += f" × {matrix['repeats']} repeat(s)"
    if matrix.get("duration_s") is not None:
        what += (f"; {_seconds(matrix.get('ramp_s', 0))} ramp + "
                 f"{_seconds(matrix['duration_s'])} window per point")
    pacing = (matrix.get("pacing") or {}).get("kind")
    if pacing:
        what += f"; pacing {pacing}"
    if manifest.get("preset"):
        what += f" (preset {manifest['preset']})"
    target = manifest.get("target") or {}
    placement = manifest.get("placement") or {}
    machine = manifest.get("machine") or {}
    if target.get("kind") == "local":
        on = (f"local service ({target.get('service_workers', 1)} worker(s), CPUs "
              f"{_cpus(placement.get('service_cpus'))}), Locust on CPUs "
              f"{_cpus(placement.get('generator_cpus'))}")
    elif target:
        on = f"service at {target.get('host', '?')}"
    else:
        on = "plain Locust output (no runner metadata)"
    if machine:
        memory = machine.get("memory_bytes")
        on += (f"; host {machine.get('hostname', '?')}: {machine.get('cpu_count', '?')} × "
               f"{machine.get('cpu_model', 'CPU')}"
               + (f", {memory / 2**30:.0f} GiB" if memory else ""))
    versions, code = manifest.get("versions") or {}, manifest.get("code") or {}
    if versions:
        on += f"; Locust {versions.get('locust', '?')}"
    if code.get("git_revision"):
        on += (f", loadbench {str(code['git_revision'])[:7]}"
               + (" (uncommitted changes)" if code.get("git_dirty") else ""))
    start, end = _when(manifest.get("created_at")), _when(manifest.get("finished_at"))
    when = start.strftime("%Y-%m-%d %H:%M UTC") if start else "time not recorded"
    if start and end:
        when += f", {_seconds(round((end - start).total_seconds()))} in all"
    when += f"; status {manifest.get('status', '?')}"
    return {"what": what, "on": on, "when": when}


def _cpus(cpus: object) -> str:
    return ", ".join(map(str, cpus)) if isinstance(cpus, list) and cpus else "any"


def config_keys(points: pd.DataFrame) -> list[str]:
    return ["user_class", "mix", "users", *[d for d in EXTRA_KEYS if d in points]]


def trust(sweep: Sweep, untrusted: pd.DataFrame) -> dict[str, Any]:
    """Trusted points and configurations (k of n repeats trusted), causes counted and grouped."""
    points = sweep.aggregated
    trusted = points["status"].isin(TRUSTED_STATUSES)
    per_config = trusted.groupby([points[k] for k in config_keys(points)]).agg(["sum", "count"])
    return {"points": len(points), "trusted": int(trusted.sum()),
            "configs": len(per_config),
            "configs_trusted": int((per_config["sum"] == per_config["count"]).sum()),
            "configs_partly": int(((per_config["sum"] > 0)
                                   & (per_config["sum"] < per_config["count"])).sum()),
            "groups": untrusted_groups(untrusted),
            "missing": sweep.missing_points}


# Causes in a few words for the first screen; the full explanation (``checks.EXPLANATIONS``)
# is one click away. A cause not listed here is shown by its full explanation.
SHORT = {"own-cpu": "Locust's own process near a full core",
         "contention": "the generator's CPUs busy with other processes",
         "loop-late": "Locust's event loop ran late",
         "littles-law": "Little's law does not hold",
         "sut-errors": "too many unexpected errors from the service",
         "too-few-samples": "too few requests or samples in the window",
         "failed": "Locust failed", "interrupted": "stopped before the window ended"}


def untrusted_groups(bad: pd.DataFrame) -> list[dict[str, Any]]:
    """One group per (verdict, cause), largest first: count, short, why, and the point ids."""
    groups = []
    for (status, cause), group in bad.groupby(["status", "cause"], sort=False):
        why = EXPLANATIONS.get(str(cause), str(status))
        short = SHORT.get(str(cause), why)
        if cause == "contention":
            cpu = group["gen_cpu_mean"].dropna()
            if len(cpu):
                low, high = f"{cpu.min():.0f}%", f"{cpu.max():.0f}%"
                level = low if low == high else f"{low} to {high}"
                why += f" (Locust itself at {level} of a core)"
                short += f" (Locust at {level} of a core)"
        groups.append({"count": len(group), "status": str(status), "why": why, "short": short,
                       "points": [str(p) for p in group["point_id"]]})
    return sorted(groups, key=lambda g: -int(g["count"]))


def comparison(ratios: pd.DataFrame, mix_order: list[str]) -> list[dict[str, str]]:
    """FastHttpUser / HttpUser throughput per mix, where both classes have trusted points."""
    if ratios.empty or "rps" not in ratios:
        return []
    rows = []
    mixes = [m for m in mix_order if m in set(ratios["mix"])] + sorted(
        set(ratios["mix"]) - set(mix_order))
    named = named_dimensions(ratios)  # e.g. the storage backend, when the sweep varies it
    cells = [(mix, dict(zip(named, values, strict=True)))
             for mix in mixes for values in
             (sorted(set(map(tuple, ratios.loc[ratios["mix"] == mix, list(named)].values)))
              if named else [()])]
    for mix, where in cells:
        chosen = ratios["mix"] == mix
        for name, value in where.items():
            chosen &= ratios[name] == value
        group = ratios[chosen & ratios["rps"].notna()].sort_values("users")
        label = ", ".join([str(mix), *map(str, where.values())])
        if group.empty:
            rows.append({"mix": label, "ratio": "-", "detail": "no user level with trusted "
                         "points of both classes"})
            continue
        top = group.iloc[-1]
        kind = str(top.get("rps_interval") or "")
        ci = (f"{kind}: {top['rps_lo']:.2f}–{top['rps_hi']:.2f}"
              if not math.isnan(top["rps_lo"]) else kind or "no interval")
        users = int(top["users"])
        detail = (f"at {users} user{'s' if users != 1 else ''} ({ci}; "
                  f"{top.get('rps_finding') or 'not judged'})")
        if len(group) > 1:
            counts = group["rps_difference"].value_counts()
            detail += (f"; {group['rps'].min():.2f}–{group['rps'].max():.2f}× over "
                       f"{len(group)} levels: measurably different at "
                       f"{counts.get(HIGHER, 0) + counts.get(LOWER, 0)}, no difference "
                       f"(±{float(group['margin'].iloc[0]):.0%}) at {counts.get(SAME, 0)}, "
                       f"inconclusive at {counts.get(INCONCLUSIVE, 0)} (Holm-corrected)")
        rows.append({"mix": label, "ratio": f"{top['rps']:.2f}×", "detail": detail})
    return rows


def capacity(table: pd.DataFrame) -> list[str]:
    """The knee per series where the USL could be fitted, else one sentence why not."""
    if table.empty:
        return ["Not estimated: no trusted points to fit."]
    fitted = table[table["sigma"].notna()]
    lines = []
    for fit in fitted.to_dict(orient="records"):
        label = series_name(fit)  # every dimension away from its default, the envelope too
        measured = (f"; {number(fit['measured_max_rps'], 0)} requests/s measured at most"
                    if "measured_max_rps" in fit else "")
        if math.isinf(float(fit["peak_users"])):
            knee = (f"no peak established: throughput still rising at the highest trusted "
                    f"level{measured}")
        elif not (float(fit.get("kappa_lo", math.nan)) > 0):
            knee = (f"no peak established: the coherency kappa's 95% CI includes 0, so the "
                    f"fitted peak near {number(fit['peak_users'], 0)} users may not "
                    f"exist{measured}")
        elif fit.get("extrapolated"):
            knee = (f"the fitted peak (near {number(fit['peak_users'], 0)} users) lies beyond "
                    f"the highest trusted level: not a capacity{measured}")
        else:
            knee = (f"peaks near {number(fit['peak_users'], 0)} users at about "
                    f"{number(fit['max_rps'], 0)} requests/s")
        note = f" ({fit['note']})" if fit.get("note") else ""
        lines.append(f"{label}: {knee} (USL fit on {fit['valid_points']} trusted points, "
                     f"R² {number(fit['r_squared'], 2)}){note}.")
    if len(fitted) < len(table):
        missing = table[table["sigma"].isna()]
        reason = str(missing["note"].iloc[0]) or "the fit failed"
        lines.append(f"{'Not estimated' if fitted.empty else 'Elsewhere not estimated'}: "
                     f"{reason[0].lower() if reason[1:2].islower() else reason[0]}"
                     f"{reason[1:]}" + (f", for {len(missing)} of {len(table)} class/mix "
                                        "series." if len(table) > 1 else "."))
    return lines
