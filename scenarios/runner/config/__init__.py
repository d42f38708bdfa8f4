r"""The sweep's configuration: flags, presets and TOML resolved into a checked ``SweepConfig``, its
matrix expanded into ``Point``\ s, and the SLO objectives. Pure: no process, no I/O beyond reading
the configuration file. A new sweep dimension's flag, parsing, default and point-id tag
are one entry in runmodel's registry (``runmodel.dimensions``); its run loop belongs here.

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner.config._byo import PLUGIN, is_product, locust_files, locustfile_path
    from scenarios.runner.config._byo import locust_args as parse_locust_args
    from scenarios.runner.config._matrix import USER_CLASSES, Point, backends, expand
    from scenarios.runner.config._resolve import (
        PRESETS_DIR,
        check_config,
        load_toml,
        resolve_config,
    )
    from scenarios.runner.config._slo import Objective, parse_slo, violations
    from scenarios.runner.config._sweep_config import (
        LOCUSTFILE_PACING,
        ConfigError,
        SweepConfig,
        mix_weights,
        pacing_params,
    )

__all__ = [
    "LOCUSTFILE_PACING",
    "PLUGIN",
    "PRESETS_DIR",
    "USER_CLASSES",
    "ConfigError",
    "Objective",
    "Point",
    "SweepConfig",
    "backends",
    "check_config",
    "expand",
    "is_product",
    "load_toml",
    "locust_files",
    "locustfile_path",
    "mix_weights",
    "pacing_params",
    "parse_locust_args",
    "parse_slo",
    "resolve_config",
    "violations",
]

_HOMES = {  # public name -> (module of this package, its name there)
    "ConfigError": ("_sweep_config", "ConfigError"),
    "LOCUSTFILE_PACING": ("_sweep_config", "LOCUSTFILE_PACING"),
    "PLUGIN": ("_byo", "PLUGIN"),
    "is_product": ("_byo", "is_product"),
    "locust_files": ("_byo", "locust_files"),
    "locustfile_path": ("_byo", "locustfile_path"),
    "parse_locust_args": ("_byo", "locust_args"),
    "PRESETS_DIR": ("_resolve", "PRESETS_DIR"),
    "Point": ("_matrix", "Point"),
    "SweepConfig": ("_sweep_config", "SweepConfig"),
    "USER_CLASSES": ("_matrix", "USER_CLASSES"),
    "backends": ("_matrix", "backends"),
    "check_config": ("_resolve", "check_config"),
    "expand": ("_matrix", "expand"),
    "load_toml": ("_resolve", "load_toml"),
    "mix_weights": ("_sweep_config", "mix_weights"),
    "pacing_params": ("_sweep_config", "pacing_params"),
    "resolve_config": ("_resolve", "resolve_config"),
    "Objective": ("_slo", "Objective"),
    "parse_slo": ("_slo", "parse_slo"),
    "violations": ("_slo", "violations"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
