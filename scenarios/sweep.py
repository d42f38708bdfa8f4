"""``python -m scenarios.sweep``: run the matrix user class x mix x users x repeats, headless.

Each point is one headless Locust run against the target (by default a fresh local service per
point, on its own CPU). Every run is judged from its CPU samples and stats (``valid``,
``generator-bound``, ...) and written to ``OUT/<sweep_id>/`` in the format of
``results/README.md``. Exit status: 0 every point valid, 1 some point not valid or an SLO
missed, 2 a usage, configuration or preflight error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from scenarios.runner._auto_envelope import AutoEnvelopeError, size_service_cpu
from scenarios.runner._local_target import TargetError, default_placement
from scenarios.runner._matrix import PRESETS_DIR, ConfigError, SweepConfig, expand, resolve_config
from scenarios.runner._results_io import SCHEMA_VERSION, read_json
from scenarios.runner._runner import SweepRunner
from scenarios.runner._slo import parse_slo

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m scenarios.sweep",
        description="Run a headless Locust sweep and write it under results/ "
                    "(format: results/README.md). Flags override the --preset/--config file.",
        argument_default=None,
    )
    add = parser.add_argument
    presets = ", ".join(sorted(path.stem for path in PRESETS_DIR.glob("*.toml"))) or "none found"
    add("--preset", metavar="NAME", help=f"load scenarios/sweeps/NAME.toml ({presets})")
    add("--config", dest="config_file", metavar="FILE", help="load a sweep TOML file")
    add("--resume", metavar="DIR", help="finish the sweep in DIR: re-run only unfinished points")
    add("--target", choices=["local"], help="local (default): start the service on loopback")
    add("--host", metavar="URL", help="a running target instead of a local service")
    add("--user-classes", metavar="LIST", help="user classes (default http,fast)")
    add("--mixes", metavar="LIST", help="mixes among read-only, read-heavy, balanced, write-heavy "
        "(default read-heavy)")
    add("--weights", metavar="SPEC", help="custom task weights, e.g. get_product=90,"
        "list_products=5,create_product=5 (the mix is then 'custom')")
    add("--store", dest="stores", metavar="LIST",
        help="the local service's backends: memory, postgres (default memory); PostgreSQL is "
             "started by the sweep and reset before every point")
    add("--cache", dest="caches", metavar="LIST",
        help="off, on: a Redis cache in front of postgres (default off)")
    add("--service-cpu", dest="service_cpu", metavar="LIST",
        help="the local service's CPU envelope, a sweep dimension: vCPUs (any fraction, e.g. "
             "0.1,0.25,1), Fargate sizes (fargate-256 = 0.25 vCPU, fargate-512, fargate-1024, "
             "...), auto (sized here so that the service saturates before the generator) or none "
             "(default); a cgroup CPU quota on the service, its database and cache")
    add("--cpu-period", dest="cpu_period_ms", metavar="DURATION",
        help="the CPU quota's period (default 20ms; the kernel's default is 100ms)")
    add("--rtt-delay", dest="rtt_delay", metavar="LIST",
        help="round-trip delays added to every request, a sweep dimension: MS or MS:JITTER_MS "
             "(uniform jitter), e.g. none,10,40:5 (default none); a delaying TCP proxy on the "
             "service's CPUs")
    add("--payload", metavar="LIST",
        help="each product's size, a sweep dimension: small (default: no description), or a "
             "description of 1k, 4k, 16k, ... or N bytes (at most 32k) in every product the "
             "scenario creates and seeds; pages list 20 products, so they grow too")
    add("--users", metavar="LIST", help="concurrency levels (default 1,10,50,100)")
    add("--ramp", dest="ramp_s", metavar="DURATION", help="spawning time (default 2s)")
    add("--duration", dest="duration_s", metavar="DURATION",
        help="the measured window after the ramp (default 10s)")
    add("--repeats", metavar="N", help="runs of every point (default 1)")
    add("--processes", metavar="N|auto",
        help="Locust processes per point (default 1); auto: add workers to a "
        "generator-bound point")
    add("--pacing", metavar="SPEC", help="none, constant:S, between:MIN:MAX, rate:RPS, ...")
    add("--seed-products", metavar="N", help="products created before each run (default 1000)")
    add("--out", metavar="DIR", help="parent folder of the sweep (default results)")
    add("--service-workers", metavar="N", help="the local service's --workers (default 1)")
    add("--service-cpus", metavar="LIST", help="CPUs of the local service (default: the first)")
    add("--generator-cpus", metavar="LIST", help="CPUs of Locust (default: the others)")
    add("--generator-cpu-threshold", metavar="PERCENT",
        help="a generator process at this mean %% of one core is generator-bound (default 90)")
    add("--error-threshold", metavar="RATIO", help="unexpected failures above it: sut-errors "
        "(default 0.01)")
    add("--min-requests", metavar="N", help="fewer requests: too-few-samples (default 100)")
    add("--slo", metavar="SPEC", help='objectives such as "p95<200ms,errors<1%%,rps>100"')
    add("--fail-fast", action="store_true", default=None, help="stop at the first invalid point")
    add("--master-host", metavar="URL", help="drive a running Locust master's web UI instead")
    add("--expect-workers", metavar="N", help="workers the remote master must have (default 1)")
    add("--locustfile", metavar="FILE", help=argparse.SUPPRESS)
    return parser


def _resume_config(sweep_dir: Path, flags: dict[str, Any]) -> tuple[SweepConfig, dict[str, Any]]:
    manifest_path = sweep_dir / "manifest.json"
    try:
        manifest = read_json(manifest_path)
        stored = dict(manifest["config"])
    except FileNotFoundError:
        raise ConfigError(f"{manifest_path}: no such file (not a sweep directory)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{manifest_path}: unreadable manifest: {exc}") from None
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(f"{manifest_path}: schema_version {manifest.get('schema_version')!r}, "
                          f"this runner resumes only version {SCHEMA_VERSION} sweeps")
    given = sorted(k for k, v in flags.items()
                   if v is not None and k not in ("resume", "fail_fast"))
    if given:
        raise ConfigError(f"--resume: the sweep keeps its own settings; drop --{given[0]}")
    stored.pop("target", None)
    if isinstance(stored.get("rtt_delay"), str):  # sweeps from before the delay was a dimension
        stored["rtt_delay"] = [stored["rtt_delay"]]
    if flags.get("fail_fast") is not None:
        stored["fail_fast"] = True
    try:
        config = SweepConfig(**stored)
    except TypeError as exc:
        raise ConfigError(f"{manifest_path}: config does not match this runner: {exc}") from None
    return config, manifest


def _size_auto_envelope(config: SweepConfig, prog: str) -> dict[str, Any] | None:
    """Replace ``auto`` in --service-cpu by the vCPUs sized here (runner/_auto_envelope.py)."""
    if "auto" not in config.service_cpu:
        return None
    print(f"{prog}: --service-cpu auto: probing the generator and the service on this machine",
          file=sys.stderr)
    placement = default_placement(config.service_cpus, config.generator_cpus, True)
    try:
        with tempfile.TemporaryDirectory(prefix="loadbench-auto-") as scratch:
            sizing = size_service_cpu(config, placement, Path(scratch))
    except (AutoEnvelopeError, TargetError) as exc:
        raise ConfigError(str(exc)) from None
    print(f"{prog}: --service-cpu auto = {sizing['label']} vCPU (tightest: {sizing['tightest']}: "
          f"generator {sizing['probes'][sizing['tightest']]['generator_cpu_ms_per_request']} ms, "
          f"service {sizing['probes'][sizing['tightest']]['service_cpu_ms_per_request_used']} "
          "ms of CPU per request)", file=sys.stderr)
    config.service_cpu = list(dict.fromkeys(
        sizing["label"] if label == "auto" else label for label in config.service_cpu))
    return sizing


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run the sweep, return the exit status."""
    parser = build_parser()
    flags = vars(parser.parse_args(argv))
    try:
        resume = flags.pop("resume")
        if flags.pop("target") == "local" and flags.get("host"):
            raise ConfigError("--target local and --host: give one or the other")
        if resume:
            config, manifest = _resume_config(Path(resume), flags)
            sweep_dir: Path | None = Path(resume)
        else:
            config, manifest, sweep_dir = resolve_config(flags), {}, None
        if config.target != "local" and (config.service_cpu != ["none"]
                                          or config.rtt_delay != ["none"]):
            print(f"{parser.prog}: note: --service-cpu and --rtt-delay are a local emulation; "
                  f"skipped for the remote target {config.host}", file=sys.stderr)
            config.service_cpu, config.rtt_delay = ["none"], ["none"]
        objectives = parse_slo(config.slo) if config.slo else []
        auto_envelope = _size_auto_envelope(config, parser.prog)
        points = expand(config)
        if not (Path(__file__).resolve().parent.parent / config.locustfile).is_file() \
                and not Path(config.locustfile).is_file():
            raise ConfigError(f"{config.locustfile}: no such locustfile")
    except ConfigError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # parse_slo
        print(f"{parser.prog}: error: --slo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    runner = SweepRunner(config, points, objectives, sweep_dir=sweep_dir, manifest=manifest)
    runner.auto_envelope = auto_envelope
    try:
        return runner.run()
    except TargetError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
