"""The write-up's own test on 0.25 vCPU, without and with the fitted delay (``deployed.*``)."""

from __future__ import annotations

import math
from pathlib import Path

from analysis.loading import Sweep

from ._common import Figures, both, proxy_blocks, put, trusted

WRITE_UP_MEAN_MS, WRITE_UP_P95_MS, WRITE_UP_RPS = 44.0, 110.0, 32.7


def _delay_name(label: str) -> str:
    return "none" if label == "none" else "lognormal" if label.startswith("lognormal") else label


def deployed(sweep: Sweep, figures: Figures) -> None:
    """Client-seen rps, mean, p95 and p99 per delay; the delay the proxy added (mean, p95) and
    its timers' lateness; the base (client-seen less added, per run); the write-up's figures
    less that base (``deployed.fit.*``: the delay the fit should ask for)."""
    points = sweep.aggregated
    proxies = proxy_blocks(Path(sweep.path))
    for label, group in points.groupby("rtt_delay"):
        name = f"deployed.{_delay_name(str(label))}"
        for metric in ("rps", "mean_ms", "p95_ms", "p99_ms"):
            both(figures, f"{name}.{metric}", group, metric)
        for suffix, rows in (("", trusted(group)), (".all", group)):
            runs = [(proxies[r], m, q) for r, m, q in zip(rows["run_id"], rows["mean_ms"],
                                                           rows["p95_ms"], strict=True)
                    if r in proxies]
            if not runs:
                continue
            for metric in ("mean", "p95"):
                put(figures, f"{name}.added_{metric}_ms{suffix}",
                    [b["added_ms"][metric] for b, _, _ in runs], len(group))
            put(figures, f"{name}.lateness_mean_ms{suffix}",
                [b["lateness_ms"]["mean"] for b, _, _ in runs], len(group))
            put(figures, f"{name}.excess_mean_ms{suffix}",
                [m - b["added_ms"]["mean"] for b, m, _ in runs], len(group))
            put(figures, f"{name}.excess_p95_ms{suffix}",
                [q - b["added_ms"]["p95"] for b, _, q in runs], len(group))
    for suffix in ("", ".all"):
        excess = figures.get(f"deployed.lognormal.excess_mean_ms{suffix}")
        if excess is not None and not math.isnan(excess):
            figures[f"deployed.fit.delay_mean_ms{suffix}"] = WRITE_UP_MEAN_MS - excess
            figures[f"deployed.fit.delay_p95_ms{suffix}"] = WRITE_UP_P95_MS - figures[
                f"deployed.lognormal.excess_p95_ms{suffix}"]
