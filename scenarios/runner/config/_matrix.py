"""The matrix of a sweep: its points (``Point``) and their run order (``expand``).

The matrix's dimensions (their flags, TOML keys, parsing, defaults and point-id tags) are
runmodel's registry (``runmodel.dimensions``); the settings are resolved in ``_resolve``, and
this module expands them into points in run order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runmodel import dimensions
from runmodel.values import (
    CACHES,
    DEFAULT_PAYLOAD,
    STORES,
    Backend,
    parse_payload,
    parse_service_cpu,
)
from runmodel.values import backends as backend_matrix  # store and cache lists -> Backends
from scenarios.open_model.options import DEFAULT_EXPECTED_LATENCY_MS, default_pool
from scenarios.runner.config._sweep_config import SweepConfig, mix_weights
from scenarios.user_classes import USER_CLASSES

__all__ = ["CACHES", "STORES", "USER_CLASSES", "Point", "backends", "expand"]


@dataclass(frozen=True)
class Point:
    """One cell of the matrix: CPU envelope x delay x backend x class x mix x users x repeat."""

    user_class: str
    mix: str
    weights: dict[str, int]
    users: int
    repeat: int
    backend: Backend = field(default_factory=Backend)  # the service's store and cache
    service_cpu: str = "none"  # vCPUs of the service's envelope, a Fargate size, or none
    rtt_delay: str = "none"  # the added round-trip delay, MS[:JITTER_MS], or none
    payload: str = DEFAULT_PAYLOAD  # each product's description size: small (none), 4k, ...
    arrival_rate: float | None = None  # the open model's rate; ``users`` is then its pool

    @property
    def store(self) -> str:
        """The backend's store: memory or postgres (run.json ``params.store``)."""
        return self.backend.store

    @property
    def cache(self) -> str:
        """Whether a cache sits in front of the store: on or off (run.json ``params.cache``)."""
        return self.backend.cache

    @property
    def payload_bytes(self) -> int:
        return parse_payload(self.payload)

    @property
    def service_vcpu(self) -> float | None:
        return parse_service_cpu(self.service_cpu)

    @property
    def point_id(self) -> str:
        """``fast-read-heavy-pg-cpu0.25-rtt10-pay4k-u0050-r1``: runmodel's point id (a
        dimension at its default adds no tag, so memory points keep the ids they always had)."""
        return dimensions.point_id({
            "user_class": self.user_class, "mix": self.mix, "users": self.users,
            "repeat": self.repeat, "backend": self.backend.name,
            "service_cpu": self.service_cpu, "rtt_delay": self.rtt_delay,
            "payload": self.payload, "arrival_rate": self.arrival_rate})

    def run_id(self, processes: int) -> str:
        return dimensions.run_id(self.point_id, processes)


def backends(config: SweepConfig) -> list[Backend]:
    """The backends of the matrix: the cache only in front of postgres
    (``runmodel.values.backends``, in run order)."""
    return backend_matrix(config.stores, config.caches)


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
              repeat, backend, service_cpu, rtt_delay, payload,
              arrival_rate=float(level) if rates else None)
        for repeat in range(1, config.repeats + 1)
        for service_cpu in config.service_cpu
        for rtt_delay in config.rtt_delay
        for payload in config.payload
        for backend in backends(config)
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
