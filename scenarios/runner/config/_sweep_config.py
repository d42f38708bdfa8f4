"""The sweep's settings as one checked value: ``SweepConfig``, with the mixes and the pacing it
names resolved (``mix_weights``, ``pacing_params``).

The matrix's dimensions among them (their defaults) come from runmodel's registry
(``runmodel.dimensions``); ``_resolve`` fills the rest from a preset, a TOML file and flags.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from runmodel import dimensions
from scenarios.mixes import MixError, resolve_mix
from scenarios.pacing import PacingError, parse_pacing
from scenarios.runner.config._byo import is_product, mix_name
from scenarios.runner.target import DEFAULT_PERIOD_MS
from scenarios.user_classes import LOCUSTFILE

__all__ = ["LOCUSTFILE_PACING", "ConfigError", "SweepConfig", "mix_weights", "pacing_params"]


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
