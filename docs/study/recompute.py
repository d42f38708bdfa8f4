"""Recompute every figure docs/study/README.md quotes, from docs/study/data/v3/.

    .venv/bin/python docs/study/recompute.py [--data docs/study/data/v3] [--json OUT]

Each sweep of `make study-v3` (docs/study/run_study_v3.sh) is committed as
``data/v3/<name>.tar.gz``: its manifest.json (and capacity.json) and, per run, run.json,
locust.json, the CSVs and evidence/ (the HDR histograms). This script unpacks each into a
temporary directory, loads it with ``analysis.loading.load_sweep`` and prints one line per
figure, ``KEY = VALUE`` (``--json`` writes them too). The README quotes a figure as
``VALUE<!--fig:KEY-->``; tests/study/test_study_recompute.py recomputes them and fails on a
quoted figure the data do not give (to the precision quoted) or that has no key here.

Conventions. A figure is a mean over the runs of a configuration whose verdict is trusted
(``valid``); ``KEY.lo``/``KEY.hi`` its interval from ``analysis.stats.mean_interval`` (a
Student-t 95% CI from 3 runs, the range of 2, none from 1), ``KEY.n`` the runs it is over,
``KEY.runs`` all the configuration's runs; ``KEY.all`` (with its own .lo/.hi/.n) is the same
over every run whatever its verdict, for a look at untrusted data only. A ratio ``A_over_B``
carries ``.lo``/``.hi`` from ``analysis.compare.ratio_interval`` (Welch's t on the log ratio: a
95% CI with 3 or more runs a side). ``.finding_code`` is analysis.compare.judge's finding,
judged over its table (every cell of it at once, Holm's correction): 0 no difference (TOST
equivalence within ±``closed.compare.margin_pct``%), +1 A measurably higher, -1 A measurably
lower, 2 inconclusive, 3 not testable (a side has no trusted runs). Backends are ``memory``,
``postgres`` and ``postgres-cache`` (PostgreSQL behind Redis); classes ``fast``
(FastHttpUser) and ``http`` (HttpUser).

Keys, by sweep (``<name>.runs``, ``<name>.valid`` and ``<name>.status.<verdict>`` count each
sweep's runs; ``<name>.git_dirty`` is 1 when its manifest records a dirty tree):

- deployed: ``deployed.<none|lognormal>.<rps|mean_ms|p95_ms|p99_ms>``; the delay the proxy
  added, ``.added_mean_ms``/``.added_p95_ms``, its timers' ``.lateness_mean_ms``, the base
  (client-seen less added, per run) ``.excess_mean_ms``/``.excess_p95_ms``; the delay the fit
  should ask for, ``deployed.fit.delay_mean_ms``/``delay_p95_ms`` (44 and 110 ms less the base).
- closed: ``closed.<class>.<mix>.u<users>.<rps|mean_ms|p95_ms|p99_ms|gen_cpu_pct>`` (the last:
  Locust's mean share of a core, %); ``closed.<mix>.u<users>.fast_over_http`` (requests/s)
  with ``.finding_code``, ``.p_holm``, ``.p_equivalence``, ``.n_fast``, ``.n_http``;
  explanation (1): ``closed.<class>.gen_cpu_ms_per_request`` and
  ``closed.<class>.rps_per_generator_core`` (1000 / that, per run) over the runs at 50 users
  or more whose verdict is ``valid`` or ``generator-bound`` (the generator busy enough for its
  CPU per request to be measured well; ``.all``: every run), their ratio
  ``closed.core.fast_over_http``, and HttpUser's per core over FastHttpUser's trusted
  requests/s at the highest users level, ``closed.<mix>.http_core_over_capacity``;
  ``closed.proxy.cpu_cores_busiest_max``, ``closed.proxy.lateness_mean_ms_max``.
- open and open-http, over the runs ``valid`` or ``client-dominated`` (the capacity search's
  pass rule; ``.all`` as above): ``open.<class>.<mix>.<backend>.a<rate>.<rps|intended_p50_ms|
  intended_p95_ms|intended_p99_ms|service_p95_ms|dropped_pct>``;
  ``open.<class>.<mix>.a<rate>.<postgres-cache_over_postgres|postgres_over_memory>.<p95|rps>``
  with ``.finding_code`` and ``.p_holm`` (judged over the class's comparisons).
- payload: ``payload.<class>.<size>.<rps|mean_ms|p95_ms|p99_ms|gen_cpu_ms_per_request>``,
  ``payload.<size>.fast_over_http`` (as the closed one), ``payload.<class>.<size>_over_small``.
- capacity-p95, capacity-p99: ``capacity.<p95|p99>.<backend>.rate`` with ``.lo``/``.hi`` the
  search's bracket (passed / lowest failing rate: not a confidence interval), ``.runs``,
  ``.resolved``, ``.stopped_budget`` (1: the run budget stopped it), ``.disagreeing`` (rates
  whose runs split).
- across sweeps, as a share of ``capacity.p95.memory.rate`` (%): the write-up's test's rate,
  ``deployed.share_of_capacity_pct``, and one generator core's requests/s,
  ``closed.<class>.core_share_of_capacity_pct``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from v3figures import capacity, closed, deployed, open_model, payload  # noqa: E402  (beside)

from analysis.loading import Sweep, load_sweep  # noqa: E402  (the repository's own packages)

DATA = ROOT / "docs" / "study" / "data" / "v3"
Figures = dict[str, float]
SWEEPS: tuple[tuple[str, Callable[[Sweep, Figures], None]], ...] = (
    ("deployed", deployed),
    ("closed", closed),
    ("open", lambda sweep, figures: open_model(sweep, figures, "open")),
    ("open-http", lambda sweep, figures: open_model(sweep, figures, "open-http")),
    ("payload", payload),
    ("capacity-p95", lambda sweep, figures: capacity(sweep, figures, "capacity-p95")),
    ("capacity-p99", lambda sweep, figures: capacity(sweep, figures, "capacity-p99")),
)


def recompute(data: Path = DATA) -> Figures:
    """Every figure of the committed sweeps under ``data``, by key."""
    figures: Figures = {}
    for name, compute in SWEEPS:
        archive = data / f"{name}.tar.gz"
        if not archive.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            sweep = load_sweep(Path(tmp) / name)
            dirty = (sweep.manifest.get("code") or {}).get("git_dirty")
            if dirty is not None:
                figures[f"{name}.git_dirty"] = float(bool(dirty))
            compute(sweep, figures)
    _across(figures)
    return figures


def _across(figures: Figures) -> None:
    """Figures from two sweeps: the write-up's rate and HttpUser's core as shares of the
    capacity of the memory store under p95 < 110 ms (its search's passing rate)."""
    capacity = figures.get("capacity.p95.memory.rate", math.nan)
    if not capacity > 0:
        return
    shares = {"deployed.share_of_capacity_pct": "deployed.lognormal.rps",
              **{f"closed.{c}.core_share_of_capacity_pct": f"closed.{c}.rps_per_generator_core"
                 for c in ("fast", "http")}}
    for name, key in shares.items():
        if key in figures:
            figures[name] = 100.0 * figures[key] / capacity


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docs/study/recompute.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
