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
    from scenarios.runner.config._matrix import (
        LOCUSTFILE_PACING,
        PRESETS_DIR,
        USER_CLASSES,
        ConfigError,
        Point,
        SweepConfig,
        backends,
        check_config,
        expand,
        load_toml,
        mix_weights,
        pacing_params,
        resolve_config,
    )
    from scenarios.runner.config._slo import Objective, parse_slo, violations

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
    "ConfigError": ("_matrix", "ConfigError"),
    "LOCUSTFILE_PACING": ("_matrix", "LOCUSTFILE_PACING"),
    "PLUGIN": ("_byo", "PLUGIN"),
    "is_product": ("_byo", "is_product"),
    "locust_files": ("_byo", "locust_files"),
    "locustfile_path": ("_byo", "locustfile_path"),
    "parse_locust_args": ("_byo", "locust_args"),
    "PRESETS_DIR": ("_matrix", "PRESETS_DIR"),
    "Point": ("_matrix", "Point"),
    "SweepConfig": ("_matrix", "SweepConfig"),
    "USER_CLASSES": ("_matrix", "USER_CLASSES"),
    "backends": ("_matrix", "backends"),
    "check_config": ("_matrix", "check_config"),
    "expand": ("_matrix", "expand"),
    "load_toml": ("_matrix", "load_toml"),
    "mix_weights": ("_matrix", "mix_weights"),
    "pacing_params": ("_matrix", "pacing_params"),
    "resolve_config": ("_matrix", "resolve_config"),
    "Objective": ("_slo", "Objective"),
    "parse_slo": ("_slo", "parse_slo"),
    "violations": ("_slo", "violations"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
