"""Recompute every figure that docs/study/README.md's v3 section quotes, from docs/study/data/v3/.

    .venv/bin/python docs/study/recompute.py [--data docs/study/data/v3] [--json OUT]

Each sweep of `make study-v3` (docs/study/run_study_v3.sh) is committed as
``data/v3/<name>.tar.gz``: its manifest.json and, for every run, run.json, locust.json and
evidence/ (the HDR histograms): what `analysis` needs to load it. This script unpacks each into
a temporary directory, loads it with ``analysis.loading.load_sweep`` and prints one line per
figure, ``KEY = VALUE`` (``--json`` writes them too). The README quotes a figure as
``VALUE<!--fig:KEY-->``; tests/docs/test_study_recompute.py recomputes them and fails on a
quoted figure that the data do not give (to the precision quoted) or that has no key here.

Figures are means over the valid repeats of a configuration, with ``.lo``/``.hi`` the interval
``analysis.stats.mean_interval`` gives (a Student-t 95% CI from 3 repeats; the range of 2)
and ``.n`` the valid repeats; ``.runs`` counts all its repeats.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analysis.loading import load_sweep  # noqa: E402  (the repository's own packages)
from analysis.stats import mean_interval  # noqa: E402
from runmodel.verdicts import is_trusted  # noqa: E402

DATA = ROOT / "docs" / "study" / "data" / "v3"


def _put(figures: dict[str, float], key: str, values: Iterable[float], runs: int) -> None:
    clean = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    mean, low, high = mean_interval(clean)
    figures[key] = mean
    figures[f"{key}.lo"], figures[f"{key}.hi"] = low, high
    figures[f"{key}.n"], figures[f"{key}.runs"] = float(len(clean)), float(runs)


def _valid(group: Any) -> Any:
    return group[[is_trusted(str(s)) for s in group["status"]]]


def _both(figures: dict[str, float], key: str, group: Any, column: str) -> None:
    """``key`` over the valid repeats, ``key.all`` over every repeat whatever its verdict
    (for a look at untrusted data only: the README quotes the first)."""
    _put(figures, key, _valid(group)[column], len(group))
    _put(figures, f"{key}.all", group[column], len(group))


def _delay_name(label: str) -> str:
    return "none" if label == "none" else "lognormal" if label.startswith("lognormal") else label


def _proxy_blocks(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    """run_id -> the run.json ``rtt_delay`` block (the proxy's own figures)."""
    blocks = {}
    for run_json in sweep_dir.glob("runs/*/run.json"):
        run = json.loads(run_json.read_text(encoding="utf-8"))
        if run.get("final") and run.get("rtt_delay"):
            blocks[str(run["run_id"])] = run["rtt_delay"]
    return blocks


def _deployed(sweep_dir: Path, figures: dict[str, float]) -> None:
    """The write-up's test without and with the delay: client-seen rps, mean and p95, and the
    delay the proxy added; the base subtracted from the write-up's 44 and 110 ms."""
    points = load_sweep(sweep_dir).aggregated
    proxies = _proxy_blocks(sweep_dir)
    for label, group in points.groupby("rtt_delay"):
        name = f"deployed.{_delay_name(str(label))}"
        for metric in ("rps", "mean_ms", "p95_ms", "p99_ms"):
            _both(figures, f"{name}.{metric}", group, metric)
        for suffix, rows in (("", _valid(group)), (".all", group)):
            runs = [(proxies[r], m, q) for r, m, q in zip(rows["run_id"], rows["mean_ms"],
                                                           rows["p95_ms"], strict=True)
                    if r in proxies]
            if not runs:
                continue
            for metric in ("mean", "p95"):
                _put(figures, f"{name}.added_{metric}_ms{suffix}",
                     [b["added_ms"][metric] for b, _, _ in runs], len(group))
            _put(figures, f"{name}.lateness_mean_ms{suffix}",
                 [b["lateness_ms"]["mean"] for b, _, _ in runs], len(group))
            # the base with the proxy in the path: client-seen less the delay added, per run
            _put(figures, f"{name}.excess_mean_ms{suffix}",
                 [m - b["added_ms"]["mean"] for b, m, _ in runs], len(group))
            _put(figures, f"{name}.excess_p95_ms{suffix}",
                 [q - b["added_ms"]["p95"] for b, _, q in runs], len(group))
    for suffix in ("", ".all"):  # the write-up's figures less the base (proxy in the path)
        excess = figures.get(f"deployed.lognormal.excess_mean_ms{suffix}")
        if excess is not None and not math.isnan(excess):
            figures[f"deployed.fit.delay_mean_ms{suffix}"] = 44.0 - excess
            figures[f"deployed.fit.delay_p95_ms{suffix}"] = 110.0 - figures[
                f"deployed.lognormal.excess_p95_ms{suffix}"]


def _closed(sweep_dir: Path, figures: dict[str, float]) -> None:
    """Throughput per class, mix and users; each class's Locust CPU per request and so its
    requests/s per generator core; the proxy's busiest second and lateness over the sweep."""
    points = load_sweep(sweep_dir).aggregated
    for (user_class, mix, users), group in points.groupby(["user_class", "mix", "users"]):
        _both(figures, f"closed.{user_class}.{mix}.u{users}.rps", group, "rps")
        _both(figures, f"closed.{user_class}.{mix}.u{users}.p95_ms", group, "p95_ms")
    for user_class_key, group in points.groupby("user_class"):
        user_class = str(user_class_key)
        # Locust's CPU per request: its mean share of a core over the window / requests per s,
        # over every run of the class (its own cost, whatever the verdict; the interval then
        # spans users and mixes as well as repeats)
        per_request = [10.0 * cpu / rps for cpu, rps in zip(group["gen_cpu_mean"], group["rps"],
                                                            strict=True) if rps > 0]
        _put(figures, f"closed.{user_class}.gen_cpu_ms_per_request", per_request, len(group))
        _put(figures, f"closed.{user_class}.rps_per_generator_core",
             [1000.0 / ms for ms in per_request if ms > 0], len(group))
    _proxy_extremes(sweep_dir, "closed", figures)


def _proxy_extremes(sweep_dir: Path, name: str, figures: dict[str, float]) -> None:
    blocks = list(_proxy_blocks(sweep_dir).values())
    busiest = [float(b["cpu_cores_busiest"]) for b in blocks if b.get("cpu_cores_busiest")]
    late = [b["lateness_ms"]["mean"] for b in blocks if (b.get("lateness_ms") or {}).get("mean")
            is not None]
    if busiest:
        figures[f"{name}.proxy.cpu_cores_busiest_max"] = max(busiest)
    if late:
        figures[f"{name}.proxy.lateness_mean_ms_max"] = max(late)


def _open(sweep_dir: Path, figures: dict[str, float]) -> None:
    """Latency from the intended start (p50, p95, p99) and the rate achieved, per class, mix
    and arrival rate."""
    points = load_sweep(sweep_dir).aggregated
    for (user_class, mix, rate), group in points.groupby(["user_class", "mix", "arrival_rate"]):
        key = f"open.{user_class}.{mix}.a{float(str(rate)):g}"
        _both(figures, f"{key}.rps", group, "rps")
        for q in ("p50", "p95", "p99"):
            _both(figures, f"{key}.intended_{q}_ms", group, f"open_intended_{q}_ms")
    _proxy_extremes(sweep_dir, "open", figures)


def recompute(data: Path = DATA) -> dict[str, float]:
    """Every figure of the committed sweeps under ``data``, by key."""
    figures: dict[str, float] = {}
    for name, compute in (("deployed", _deployed), ("closed", _closed), ("open", _open)):
        archive = data / f"{name}.tar.gz"
        if not archive.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            compute(Path(tmp) / name, figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docs/study/recompute.py", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"docs/study/recompute.py: --data {args.data}: no such directory", file=sys.stderr)
        return 2
    figures = recompute(args.data)
    for key in sorted(figures):
        print(f"{key} = {figures[key]:.6g}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
