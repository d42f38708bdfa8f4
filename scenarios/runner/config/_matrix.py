"""The sweep's configuration: defaults, a TOML file, flags on top, and the matrix of points.

The matrix's dimensions (their flags, TOML keys, parsing, defaults and point-id tags) are
runmodel's registry (``runmodel.dimensions``); this module resolves the rest of the settings
and expands the matrix in run order.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from runmodel import dimensions
from runmodel.values import (
    CACHES,
    DEFAULT_PAYLOAD,
    STORES,
    Backend,
    DimensionError,
    WindowDuration,
    parse_payload,
    parse_service_cpu,
    rtt_delay_tag,
)
from runmodel.values import backends as backend_matrix  # (store, cache) lists -> Backends
from scenarios.mixes import MixError, resolve_mix
from scenarios.open_model.options import DEFAULT_EXPECTED_LATENCY_MS, default_pool
from scenarios.pacing import PacingError, parse_pacing
from scenarios.runner.config._byo import is_product, locust_args, mix_name, refused
from scenarios.runner.target import DEFAULT_PERIOD_MS
from scenarios.user_classes import LOCUSTFILE, USER_CLASSES

__all__ = ["CACHES", "PRESETS_DIR", "STORES", "USER_CLASSES", "ConfigError", "Point",
           "SweepConfig", "backends", "check_config", "expand", "load_toml", "mix_weights",
           "pacing_params", "resolve_config"]

PRESETS_DIR = Path(__file__).resolve().parents[2] / "sweeps"


def _default(field_name: str) -> Any:
    """A dimension setting's default, from the registry (a fresh list for a list)."""
    value = dimensions.setting(field_name).default
    return list(value) if isinstance(value, list) else value


# params.pacing of a file of the user's own whose classes wait between tasks (their own
# wait_time): not a closed model, think time unknown (runmodel.littles_law)
LOCUSTFILE_PACING = "locustfile"


class ConfigError(ValueError):
    """A flag, a TOML file or a value that cannot be used; the message is one line."""


@dataclass
class SweepConfig:
    """Every setting of a sweep, fully resolved (defaults, then the TOML file, then flags)."""

    preset: str | None = None
    config_file: str | None = None
    host: str | None = None
    # the matrix's dimensions: defaults from runmodel's registry
    user_classes: list[str] = field(default_factory=lambda: _default("user_classes"))
    mixes: list[str] = field(default_factory=lambda: _default("mixes"))
    stores: list[str] = field(default_factory=lambda: _default("stores"))
    caches: list[str] = field(default_factory=lambda: _default("caches"))
    service_cpu: list[str] = field(default_factory=lambda: _default("service_cpu"))  # vCPUs
    cpu_period_ms: float = DEFAULT_PERIOD_MS
    rtt_delay: list[str] = field(default_factory=lambda: _default("rtt_delay"))  # MS[:JITTER]
    payload: list[str] = field(default_factory=lambda: _default("payload"))  # description sizes
    weights: str | None = None
    users: list[int] = field(default_factory=lambda: _default("users"))
    # the open model (scenarios/open_model), the alternative to users: when set, the levels
    arrival_rates: list[float] = field(default_factory=lambda: _default("arrival_rates"))
    ramp_s: float = 2.0
    duration_s: float = 10.0  # the window; with duration_max_s, auto's minimum
    duration_max_s: float | None = None  # --duration auto[:[MIN:]MAX]: the longest window
    repeats: int = field(default_factory=lambda: _default("repeats"))
    processes: int | str = field(default_factory=lambda: _default("processes"))
    pacing: str = "none"
    seed_products: int = 1000
    out: str = "results"
    service_workers: int = 1
    service_cpus: list[int] | None = None
    generator_cpus: list[int] | None = None
    generator_cpu_threshold: float = 90.0
    error_threshold: float = 0.01
    min_requests: int = 100
    slo: str | None = None
    fail_fast: bool = False
    allow_tiny_envelope: bool = False  # a quota serving < 25 requests a period
    master_host: str | None = None
    expect_workers: int = 1
    locustfile: str = LOCUSTFILE
    # any other locustfile (runner/config/_byo.py): its own options, the service's side
    locust_args: list[str] = field(default_factory=list)  # passed through to Locust
    server_metrics: str | None = None  # a Prometheus endpoint's URL
    server_histogram: list[str] | None = None  # its request-duration histogram's names
    server_route_label: str | None = None
    service_pid: int | None = None  # a local service's CPU: the process and its children
    service_cgroup: str | None = None  # ... or every process of a cgroup v2 directory

    @property
    def product(self) -> bool:
        """True for the product scenario, False for a locustfile of the user's own."""
        return is_product(self.locustfile)

    @property
    def target(self) -> str:
        if self.master_host:
            return "remote-master"
        return "remote" if self.host else "local"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "target": self.target}


@dataclass(frozen=True)
class Point:
    """One cell of the matrix: CPU envelope x delay x backend x class x mix x users x repeat."""

    user_class: str
    mix: str
    weights: dict[str, int]
    users: int
    repeat: int
    store: str = "memory"
    cache: str = "off"
    service_cpu: str = "none"  # vCPUs of the service's envelope, a Fargate size, or none
    rtt_delay: str = "none"  # the added round-trip delay, MS[:JITTER_MS], or none
    payload: str = DEFAULT_PAYLOAD  # each product's description size: small (none), 4k, ...
    arrival_rate: float | None = None  # the open model's rate; ``users`` is then its pool

    @property
    def payload_bytes(self) -> int:
        return parse_payload(self.payload)

    @property
    def service_vcpu(self) -> float | None:
        return parse_service_cpu(self.service_cpu)

    @property
    def backend(self) -> str:
        """memory, postgres or postgres+cache."""
        return Backend(self.store, self.cache).name

    @property
    def point_id(self) -> str:
        """``fast-read-heavy-pg-cpu0.25-rtt10-pay4k-u0050-r1``: runmodel's point id (a
        dimension at its default adds no tag, so memory points keep the ids they always had)."""
        return dimensions.point_id({
            "user_class": self.user_class, "mix": self.mix, "users": self.users,
            "repeat": self.repeat, "backend": self.backend, "service_cpu": self.service_cpu,
            "rtt_delay": self.rtt_delay, "payload": self.payload,
            "arrival_rate": self.arrival_rate})

    def run_id(self, processes: int) -> str:
        return dimensions.run_id(self.point_id, processes)


_FIELD_NAMES = {f.name for f in fields(SweepConfig)}
# TOML keys (and flags) that name a field differently (the dimensions' from the registry).
_ALIASES = {"ramp": "ramp_s", "duration": "duration_s", "config": "config_file",
            "cpu_period": "cpu_period_ms",
            **{s.toml_key: s.field for s in dimensions.SETTINGS.values() if s.toml_key != s.field}}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$")


def parse_duration(value: Any, what: str) -> float:
    """``"2s"``, ``"500ms"``, ``"1m"`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected a duration such as 2s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(f"{what}: expected a duration such as 2s or 500ms, got {value!r}")
        unit = match.group(2) or "s"
        seconds = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0}[unit]
    if seconds < 0:
        raise ConfigError(f"{what}: must not be negative")
    return seconds


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        items: list[Any] = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise ConfigError(f"{what}: expected a list or a comma-separated string, got {value!r}")
    if not items:
        raise ConfigError(f"{what}: must not be empty")
    return items


def _as_int(value: Any, what: str, minimum: int) -> int:
    try:
        number = int(value)
        if isinstance(value, bool) or (isinstance(value, float | str) and float(value) != number):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{what}: must be at least {minimum}, got {number}")
    return number


def _as_float(value: Any, what: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: expected a number, got {value!r}") from None


def _normalise(key: str, value: Any, what: str) -> Any:
    """Check one setting's value and convert it to the field's type."""
    if key == "duration_s":  # a fixed window's seconds, or auto's WindowDuration
        try:
            window = dimensions.WINDOW.parse(value)
        except DimensionError as exc:
            raise ConfigError(f"{what}: {exc}") from None
        return window if window.auto else window.min_s
    if key == "ramp_s":
        return parse_duration(value, what)
    if key == "user_classes":  # a file's own class names: checked in resolve_config
        return list(dict.fromkeys(str(v) for v in _as_list(value, what)))
    if key == "locust_args":
        try:
            return locust_args(value, what)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if key == "server_histogram":
        return [str(v) for v in _as_list(value, what)]
    if key == "service_pid":
        return _as_int(value, what, 1)
    if key in dimensions.SETTINGS:  # the matrix's dimensions: runmodel's registry parses them
        # (service_cpu may be "auto": sized before the sweep, scenarios/runner/_auto_envelope.py)
        try:
            return dimensions.parse_setting(key, value, what)
        except DimensionError as exc:
            raise ConfigError(str(exc)) from None
    if key == "cpu_period_ms":
        text = str(value).strip()
        milliseconds = parse_duration(text if text[-1:].isalpha() else f"{text}ms", what)
        milliseconds *= 1000
        if not 1 <= milliseconds <= 1000:
            raise ConfigError(f"{what}: the kernel accepts a period from 1ms to 1s")
        return milliseconds
    if key in ("service_cpus", "generator_cpus"):
        return None if value is None else [_as_int(v, what, 0) for v in _as_list(value, what)]
    if key in ("service_workers", "expect_workers"):
        return _as_int(value, what, 1)
    if key in ("seed_products", "min_requests"):
        return _as_int(value, what, 0)
    if key in ("generator_cpu_threshold", "error_threshold"):
        return _as_float(value, what)
    if key in ("fail_fast", "allow_tiny_envelope"):
        if not isinstance(value, bool):
            raise ConfigError(f"{what}: expected true or false, got {value!r}")
        return value
    return None if value is None else str(value)


def rtt_delays(value: Any, what: str) -> list[str]:
    """``"none,10,40:5"`` or a list -> checked delays, normalised (``0`` is none, ``20:0`` 20)."""
    return list(_normalise("rtt_delay", value, what))


def rtt_tag(delay: str) -> str:
    """The point id's tag of a delay: ``rtt10-``, ``rtt40j5-``; none adds nothing."""
    return rtt_delay_tag(delay)


def _field_for(key: str) -> str | None:
    name = key.replace("-", "_")
    name = _ALIASES.get(name, name)
    return name if name in _FIELD_NAMES else None


def load_toml(path: Path) -> dict[str, Any]:
    """Read a sweep TOML file into checked settings; errors name the file and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    raw = raw.get("sweep", raw) if isinstance(raw.get("sweep"), dict) else raw
    settings: dict[str, Any] = {}
    for key, value in raw.items():
        name = _field_for(key)
        if name is None or name in ("preset", "config_file"):
            raise ConfigError(f"{path}: unknown setting {key!r}")
        settings[name] = _normalise(name, value, f"{path}: {key}")
    return settings


def preset_path(name: str) -> Path:
    path = PRESETS_DIR / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.toml")))
        raise ConfigError(f"--preset: unknown preset {name!r}: choose from {known}")
    return path


def resolve_config(flags: dict[str, Any]) -> SweepConfig:
    """Defaults, then the preset or --config file, then every flag that was given."""
    preset, config_file = flags.get("preset"), flags.get("config_file")
    if preset and config_file:
        raise ConfigError("--preset and --config: give one or the other")
    settings: dict[str, Any] = {}
    if preset:
        settings.update(load_toml(preset_path(preset)))
    elif config_file:
        settings.update(load_toml(Path(config_file)))
    source = {key: f"{config_file or preset}: {key}" for key in settings}
    for key, value in flags.items():
        if value is None or key in ("preset", "config_file"):
            continue
        source[key] = (dimensions.SETTINGS[key].flag if key in dimensions.SETTINGS
                       else "--" + key.replace("_", "-").removesuffix("-s"))
        settings[key] = _normalise(key, value, source[key])
    if is_product(str(settings.get("locustfile", LOCUSTFILE))):
        if "user_classes" in settings:  # the product's short names (runmodel's registry)
            try:
                dimensions.parse_setting("user_classes", settings["user_classes"],
                                         source["user_classes"])
            except DimensionError as exc:
                raise ConfigError(str(exc)) from None
    else:
        problem = refused(settings, asdict(SweepConfig()))
        if problem:
            raise ConfigError(problem)
        settings.setdefault("user_classes", [])  # none named: every class the file has
    window = settings.get("duration_s")
    if isinstance(window, WindowDuration):  # --duration auto: its minimum and maximum
        settings["duration_s"], settings["duration_max_s"] = window.min_s, window.max_s
    elif window is not None:
        settings["duration_max_s"] = None  # a fixed window given last replaces an auto one
    config = SweepConfig(preset=preset, config_file=config_file, **settings)
    check_config(config)
    return config


def check_config(config: SweepConfig) -> None:
    if config.master_host and not config.host:
        raise ConfigError("--master-host: also give --host, the target the workers load")
    if config.host and not re.match(r"^https?://", config.host):
        raise ConfigError(f"--host: expected a URL such as http://127.0.0.1:8080, "
                          f"got {config.host!r}")
    if config.master_host and not re.match(r"^https?://", config.master_host):
        raise ConfigError(f"--master-host: expected a URL, got {config.master_host!r}")
    if not config.generator_cpu_threshold > 0:
        raise ConfigError("--generator-cpu-threshold: must be above 0 (percent of one core)")
    if not 0 <= config.error_threshold <= 1:
        raise ConfigError("--error-threshold: a ratio between 0 and 1, e.g. 0.01 for 1%")
    if (config.stores != ["memory"] or config.caches != ["off"]) and config.target != "local":
        raise ConfigError("--store/--cache choose the backend of the local service the sweep "
                          "starts; a --host target reports its own in /health")
    if "on" in config.caches and "postgres" not in config.stores:
        raise ConfigError("--cache on: the cache sits in front of PostgreSQL; add "
                          "--store postgres")
    if "memory" in config.stores and config.service_workers > 1 and config.target == "local":
        raise ConfigError(f"--service-workers {config.service_workers} with --store memory: "
                          "each worker would have its own products; use --store postgres")
    mix_weights(config)  # unknown mixes and bad weights fail now, not mid-sweep
    pacing_params(config)
    if config.arrival_rates and (config.pacing != "none" or not config.product
                                 or config.master_host):
        raise ConfigError("--arrival-rate: the open model paces by its arrivals: it runs the "
                          "product scenario from a local generator, with --pacing none")


def pacing_params(config: SweepConfig) -> dict[str, Any]:
    if config.pacing == LOCUSTFILE_PACING:  # a file of the user's own whose classes wait
        return {"kind": LOCUSTFILE_PACING}
    try:
        return parse_pacing(config.pacing)
    except PacingError as exc:
        raise ConfigError(f"--pacing: {exc}") from None


def mix_weights(config: SweepConfig) -> dict[str, dict[str, int]]:
    """Each mix's name and full task weights (``custom`` when --weights is given); a
    locustfile of the user's own is its own mix, named after the file, weights unknown."""
    if not config.product:
        return {mix_name(config.locustfile): {}}
    try:
        if config.weights:
            name, weights = resolve_mix("custom", config.weights)
            return {name: weights}
        return dict(resolve_mix(mix) for mix in config.mixes)
    except MixError as exc:
        raise ConfigError(f"--{'weights' if config.weights else 'mixes'}: {exc}") from None


def backends(config: SweepConfig) -> list[tuple[str, str]]:
    """The (store, cache) pairs of the matrix: the cache only in front of postgres
    (``runmodel.values.backends``, in run order)."""
    return [(backend.store, backend.cache)
            for backend in backend_matrix(config.stores, config.caches)]


def expand(config: SweepConfig) -> list[Point]:
    """Every point of the matrix in run order.

    Repeats are the outer loop, so that drift on a shared machine spreads over all points
    instead of landing on one; within a repeat: CPU envelope, added round-trip delay,
    payload and backend (so the runner switches backends rarely), then the user classes and
    levels interleaved (``_interleaved``), so that neither lines up with the machine's drift.
    """
    weights = mix_weights(config)
    rates = bool(config.arrival_rates)  # open model: the levels are rates, users their pools
    return [
        Point(user_class, mix, weights[mix],
              default_pool(level, DEFAULT_EXPECTED_LATENCY_MS / 1000) if rates else int(level),
              repeat, store, cache, service_cpu, rtt_delay, payload,
              arrival_rate=float(level) if rates else None)
        for repeat in range(1, config.repeats + 1)
        for service_cpu in config.service_cpu
        for rtt_delay in config.rtt_delay
        for payload in config.payload
        for store, cache in backends(config)
        for level, user_class, mix in _interleaved(config, list(weights), repeat)
    ]


def _interleaved(config: SweepConfig, mixes: list[str],
                 repeat: int) -> list[tuple[float, str, str]]:
    """(users or arrival rate, user class, mix) in one repeat's order: the classes alternate
    at every level (their order swaps from one repeat to the next), and the levels run up in
    odd repeats and down in even ones, so that neither a class nor a level always runs early
    or late."""
    forward = repeat % 2 == 1
    load: list[float] = list(config.arrival_rates or config.users)
    levels = load if forward else list(reversed(load))
    classes = config.user_classes if forward else list(reversed(config.user_classes))
    return [(users, user_class, mix) for users in levels for user_class in classes
            for mix in mixes]
