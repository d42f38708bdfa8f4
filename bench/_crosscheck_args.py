"""The cross-check's command line (``bench/crosscheck_wrk.py``): its options and their parsers,
each refusing a bad value in one line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from scenarios.runner.target import DEFAULT_PERIOD_MS, parse_service_cpu


def _seconds(text: str) -> float:
    value = text.strip().lower()
    scale = 0.001 if value.endswith("ms") else 1.0
    number = value.removesuffix("ms").removesuffix("s")
    try:
        seconds = float(number) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (e.g. 8s, 500ms)") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: must be positive")
    return seconds


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad list {text!r} (e.g. 1,10,50)") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"bad list {text!r}: positive integers expected")
    return levels


def _rounds(text: str) -> int:
    try:
        rounds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad count {text!r} (e.g. 3)") from None
    if rounds < 1:
        raise argparse.ArgumentTypeError(f"bad count {text!r}: at least 1")
    return rounds


def _vcpu(text: str) -> float | None:
    try:
        return parse_service_cpu(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cpus(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad CPU list {text!r} (e.g. 1)") from None


def parser() -> argparse.ArgumentParser:
    """The cross-check's options (``--users``, ``--rounds``, ... ``--out``), with their
    defaults: the service on the first available CPU, Locust and wrk on the others."""
    available = sorted(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(
        prog="crosscheck_wrk.py",
        description="Locust (both user classes, GET by id only) against wrk at the same number "
                    "of connections on the same fresh service; writes OUT/crosscheck.md/.json.")
    parser.add_argument("--users", type=_levels, default=[1, 2, 5, 10, 20, 50],
                        help="concurrency levels (Locust users = wrk connections), "
                             "default 1,2,5,10,20,50")
    parser.add_argument("--rounds", type=_rounds, default=3,
                        help="rounds of [Locust fast, Locust http, wrk] after a first wrk run, "
                             "per level (default 3)")
    parser.add_argument("--ramp", type=_seconds, default=2.0, help="Locust's ramp (default 2s)")
    parser.add_argument("--duration", type=_seconds, default=8.0,
                        help="measured window of Locust and wrk's run (default 8s)")
    parser.add_argument("--seed-products", type=int, default=1000,
                        help="seeded products, the ids both tools ask for (default 1000)")
    parser.add_argument("--service-cpus", type=_cpus,
                        default=available[:1] if len(available) > 1 else [],
                        help="CPUs of the service (default: the first)")
    parser.add_argument("--generator-cpus", type=_cpus,
                        default=available[1:] if len(available) > 1 else [],
                        help="CPUs of Locust and wrk (default: the others)")
    parser.add_argument("--service-cpu", type=_vcpu, default=None,
                        help="the service's CPU envelope in vCPUs (a cgroup quota, as the "
                             "sweep's --service-cpu; default none)")
    parser.add_argument("--cpu-period", type=float, default=DEFAULT_PERIOD_MS,
                        help=f"the quota's period in ms (default {DEFAULT_PERIOD_MS:g})")
    parser.add_argument("--host", help="a running service instead of a fresh local one")
    parser.add_argument("--out", type=Path, default=None,
                        help="output dir (default results/crosscheck-<UTC time>)")
    return parser
