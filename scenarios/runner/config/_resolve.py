"""Resolving a sweep's settings: defaults, then a preset or a TOML file (``load_toml``), then
every flag given, into a checked ``SweepConfig`` (``resolve_config``, ``check_config``).

TOML keys and flags name the ``SweepConfig`` fields (the dimensions' keys from runmodel's
registry); every error is one line naming the flag, or the file and its key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from runmodel import dimensions
from runmodel.values import DimensionError, WindowDuration
from scenarios.runner.config._byo import is_product, refused
from scenarios.runner.config._settings import normalise
from scenarios.runner.config._sweep_config import (
    ConfigError,
    SweepConfig,
    mix_weights,
    pacing_params,
)
from scenarios.user_classes import LOCUSTFILE

__all__ = ["PRESETS_DIR", "check_config", "load_toml", "preset_path", "resolve_config"]

PRESETS_DIR = Path(__file__).resolve().parents[2] / "sweeps"

_FIELD_NAMES = {f.name for f in fields(SweepConfig)}
# TOML keys (and flags) that name a field differently (the dimensions' from the registry).
_ALIASES = {"ramp": "ramp_s", "duration": "duration_s", "config": "config_file",
            "cpu_period": "cpu_period_ms",
            **{s.toml_key: s.field for s in dimensions.SETTINGS.values() if s.toml_key != s.field}}


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
        settings[name] = normalise(name, value, f"{path}: {key}")
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
        settings[key] = normalise(key, value, source[key])
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
