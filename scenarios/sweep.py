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

from runmodel import dimensions
from runmodel.values import parse_service_cpu
from scenarios.runner import (
    MIN_BATCH,
    AutoEnvelopeError,
    CapacitySweep,
    SweepRunner,
    capacity_flags,
    capacity_spec,
    measure_service_cost,
    size_service_cpu,
    tiny_envelopes,
)
from scenarios.runner.config import (
    LOCUSTFILE_PACING,
    PRESETS_DIR,
    ConfigError,
    SweepConfig,
    expand,
    locustfile_path,
    parse_slo,
    resolve_config,
)
from scenarios.runner.generator import probe_locustfile
from scenarios.runner.record import SCHEMA_VERSION, read_json
from scenarios.runner.target import TargetError, default_placement

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _DimensionFlags:
    """The matrix's flags from runmodel's registry (flag, metavar, help), in the order asked."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser, self.added = parser, set[str]()

    def add(self, field: str) -> None:
        """The flag of the dimension setting ``field`` (``users``, ``service_cpu``, ...)."""
        entry = dimensions.setting(field)
        self.parser.add_argument(entry.flag, dest=entry.field, metavar=entry.metavar,
                                 help=entry.help.replace("%", "%%"))
        self.added.add(field)

    def rest(self) -> None:
        """The flags of every setting not added yet (a dimension new to the registry)."""
        for field in dimensions.SETTINGS:
            if field not in self.added:
                self.add(field)


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
    dimension = _DimensionFlags(parser)  # the matrix's dimensions: runmodel's registry
    dimension.add("user_classes")
    dimension.add("mixes")
    add("--weights", metavar="SPEC", help="custom task weights, e.g. get_product=90,"
        "list_products=5,create_product=5 (the mix is then 'custom')")
    dimension.add("stores")
    dimension.add("caches")
    dimension.add("service_cpu")
    add("--cpu-period", dest="cpu_period_ms", metavar="DURATION",
        help="the CPU quota's period (default 20ms; the kernel's default is 100ms)")
    dimension.add("rtt_delay")
    dimension.add("payload")
    dimension.add("users")
    add("--ramp", dest="ramp_s", metavar="DURATION", help="spawning time (default 2s)")
    add(dimensions.WINDOW.flag, dest=dimensions.WINDOW.field, metavar=dimensions.WINDOW.metavar,
        help=dimensions.WINDOW.help.replace("%", "%%"))
    dimension.add("repeats")
    dimension.add("processes")
    dimension.rest()  # a dimension added to the registry since: its flag, with no edit here
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
    capacity = parser.add_argument_group(
        "capacity under an SLO (scenarios/runner/_capacity_search.py)",
        "--find-capacity searches, per configuration, the highest arrival rate at which every "
        "run meets --slo on the latency from the intended start, drops at most 0.1%% of its "
        "arrivals and is valid: it brackets from --arrival-rate (one rate, default 100), "
        "bisects to the resolution, repeats the deciding rates, and writes capacity.json.")
    capacity.add_argument("--find-capacity", action="store_true", default=None,
                          help="search the capacity under --slo instead of running a matrix")
    capacity.add_argument("--capacity-resolution", metavar="PERCENT",
                          help="stop bisecting when the bracket is this narrow (default 5%%)")
    capacity.add_argument("--capacity-repeats", metavar="N",
                          help="runs of each deciding rate; every one must pass (default 2)")
    capacity.add_argument("--capacity-max-runs", metavar="N",
                          help="the search's budget of runs per configuration (default 16)")
    add("--allow-tiny-envelope", action="store_true", default=None,
        help="run a --service-cpu quota that serves fewer than 25 requests per period (its "
        "latency is then the envelope's period, not the service's)")
    add("--master-host", metavar="URL", help="drive a running Locust master's web UI instead")
    add("--expect-workers", metavar="N", help="workers the remote master must have (default 1)")
    byo = parser.add_argument_group(
        "any locustfile (docs/byo/README.md)",
        "Sweep a locustfile of your own, unchanged, against your service: the suite's "
        "instrumentation is loaded beside it (scenarios/loadbench_plugin.py). The product-only "
        "dimensions (--mixes, --weights, --payload, --seed-products, --store, --cache, "
        "--pacing, --service-workers) are refused.")
    byo.add_argument("--locustfile", metavar="FILE",
                     help="a locustfile of your own (default: the product scenario, "
                          "scenarios/locustfile.py); give --host and --user-classes with the "
                          "file's own class names (default: every class it has)")
    byo.add_argument("--locust-arg", dest="locust_args", metavar="ARGS", action="append",
                     help='options the file defines, passed through to Locust, e.g. '
                          '--locust-arg "--projects 40" (repeatable; or a [locust_args] table '
                          "in the TOML file)")
    byo.add_argument("--server-metrics", metavar="URL",
                     help="the service's Prometheus endpoint: its request-duration histogram "
                          "is read at the window's edges into run.json (per route: count, "
                          "mean, p50, p95, p99)")
    byo.add_argument("--server-histogram", metavar="NAMES",
                     help="the histogram's names or patterns (default: the common ones, e.g. "
                          "http_server_request_duration_seconds (OpenTelemetry), "
                          "http_request_duration_seconds, *_request_duration_seconds)")
    byo.add_argument("--server-route-label", metavar="LABEL",
                     help="the histogram's route label, if not one of route, http_route, "
                          "handler, path, endpoint, ...")
    byo.add_argument("--service-pid", metavar="PID",
                     help="a local service's process: its CPU (and its children's) is sampled")
    byo.add_argument("--service-cgroup", metavar="PATH",
                     help="a local service's cgroup v2 directory: the CPU of its processes")
    return parser


def resume_config(sweep_dir: Path, flags: dict[str, Any]) -> tuple[SweepConfig, dict[str, Any]]:
    """``--resume DIR``: the sweep's own configuration and manifest, read back from DIR.

    ConfigError when DIR is no sweep of this schema version, or when ``flags`` set anything
    but ``--fail-fast`` (a resumed sweep keeps its own settings)."""
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
    if manifest.get("capacity"):  # its points were chosen as it went: nothing to finish
        raise ConfigError(f"--resume {sweep_dir}: a capacity search (--find-capacity) cannot "
                          "be resumed; start it again")
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


def _check_envelope(config: SweepConfig, prog: str,
                    auto_envelope: dict[str, Any] | None) -> dict[str, Any] | None:
    """Refuse an envelope too small to serve a batch of requests per period (one line naming
    the smallest vCPU allowed), unless --allow-tiny-envelope; the figures behind the check."""
    vcpus = [v for v in (parse_service_cpu(label) for label in config.service_cpu)
             if v is not None]
    if not vcpus or config.target != "local":
        return None
    if auto_envelope is not None:  # its probes measured the service's cost already
        cost = min(probe["service_cpu_ms_per_request_used"]
                   for probe in auto_envelope["probes"].values())
        check: dict[str, Any] = {"service_cpu_ms_per_request": cost, "source": "auto probes"}
    else:
        print(f"{prog}: --service-cpu: measuring the service's CPU per request here",
              file=sys.stderr)
        placement = default_placement(config.service_cpus, config.generator_cpus, True)
        try:
            with tempfile.TemporaryDirectory(prefix="loadbench-envelope-") as scratch:
                check = measure_service_cost(config, placement, Path(scratch))
        except (AutoEnvelopeError, TargetError) as exc:
            raise ConfigError(str(exc).replace("--service-cpu auto", "--service-cpu")) from None
        check["source"] = "FastHttpUser probe per mix"
    cost = check["service_cpu_ms_per_request"]
    tiny = tiny_envelopes(vcpus, config.cpu_period_ms, cost)
    check.update(min_requests_per_period=MIN_BATCH, tiny=tiny,
                 allowed=bool(config.allow_tiny_envelope))
    if tiny and not config.allow_tiny_envelope:
        first = tiny[0]
        raise ConfigError(
            f"--service-cpu {first['vcpu']:g}: a {first['quota_us'] / 1000:g} ms quota per "
            f"{first['period_us'] / 1000:g} ms period serves about {first['requests_per_period']:g}"
            f" requests at the {cost:g} ms of service CPU per request measured here (fewer than "
            f"{MIN_BATCH}: the latency would be the period's); the smallest envelope allowed is "
            f"{first['smallest_vcpu']:g} vCPU, or pass --allow-tiny-envelope")
    return check


def check_locustfile(config: SweepConfig) -> None:
    """A locustfile of the user's own: load it once (a child process), check the classes and
    the options passed through, and settle the classes and pacing; ConfigError otherwise."""
    if not config.host:
        raise ConfigError(f"--locustfile {config.locustfile}: give --host URL, the service the "
                          "file loads (the local target is the product service)")
    if config.master_host:
        raise ConfigError("--master-host: a remote master runs the product scenario; drop "
                          "--master-host or --locustfile")
    if config.service_pid and config.service_cgroup:
        raise ConfigError("--service-pid and --service-cgroup: give one or the other")
    answer = probe_locustfile(locustfile_path(config.locustfile), config.locust_args)
    if "error" in answer:
        raise ConfigError(f"{config.locustfile}: {answer['error']}")
    classes: dict[str, Any] = answer.get("classes") or {}
    if not classes:
        raise ConfigError(f"{config.locustfile}: defines no user class")
    for name in config.user_classes:
        if name not in classes:
            raise ConfigError(f"--user-classes: {config.locustfile} has no user class {name!r} "
                              f"(it has: {', '.join(sorted(classes))})")
    config.user_classes = config.user_classes or sorted(classes)
    waits = any(classes[name].get("waits") for name in config.user_classes)
    config.pacing = LOCUSTFILE_PACING if waits else "none"


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run the sweep, return the exit status."""
    parser = build_parser()
    flags = vars(parser.parse_args(argv))
    try:
        capacity = capacity_flags(flags)  # --find-capacity and its options, checked
        resume = flags.pop("resume")
        if flags.pop("target") == "local" and flags.get("host"):
            raise ConfigError("--target local and --host: give one or the other")
        if resume:
            config, manifest = resume_config(Path(resume), flags)
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
        envelope_check = _check_envelope(config, parser.prog, auto_envelope) if not resume \
            else None
        if not (Path(__file__).resolve().parent.parent / config.locustfile).is_file() \
                and not Path(config.locustfile).is_file():
            raise ConfigError(f"{config.locustfile}: no such locustfile")
        if not config.product and not resume:
            check_locustfile(config)
        points = expand(config)
        spec = capacity_spec(config, capacity) if capacity is not None else None
    except ConfigError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # parse_slo
        print(f"{parser.prog}: error: --slo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    runner = (CapacitySweep(config, points, objectives, spec) if spec is not None else
              SweepRunner(config, points, objectives, sweep_dir=sweep_dir, manifest=manifest))
    runner.auto_envelope = auto_envelope
    runner.envelope_check = envelope_check
    try:
        return runner.run()
    except TargetError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
