"""The values of the sweep's dimensions: how each is parsed, normalised, labelled and tagged.

One function per question and dimension, so that the runner (which parses the flags, names the
points and drives the mechanism) and the analysis (which labels the columns) give the same
answer. Every parser raises ``DimensionError`` (a ``ValueError``) with a one-line message that
the caller prefixes with the flag or TOML key.

- the service's CPU envelope (``--service-cpu``): ``none``, vCPUs (``0.25``) or a Fargate size
  (``fargate-256``); ``auto`` is a placeholder the runner replaces before the sweep;
- the added round-trip delay (``--rtt-delay``): ``none``, ``MS`` or ``MS:JITTER_MS``;
- the payload (``--payload``): ``small`` or a description size (``4k``, ``1000``);
- the storage backend (``--store``, ``--cache``): one ``Backend`` (store, cache), named
  ``memory``, ``postgres`` or ``postgres+cache``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AUTO", "CACHES", "DEFAULT_PAYLOAD", "FARGATE", "MAX_PAYLOAD_BYTES", "NONE", "STORES",
    "Backend", "DimensionError", "backends", "parse_payload", "parse_rtt_delay",
    "parse_service_cpu", "payload_label", "payload_tag", "rtt_delay_label", "rtt_delay_tag",
    "rtt_delay_value", "service_cpu_label", "service_cpu_tag", "service_cpu_value",
]

NONE = "none"
AUTO = "auto"


class DimensionError(ValueError):
    """A dimension's value that cannot be used; the message is one line."""


# --- the service's CPU envelope --------------------------------------------------------------

# Fargate task CPU sizes (CPU units / 1024 = vCPUs)
FARGATE = {"fargate-256": 0.25, "fargate-512": 0.5, "fargate-1024": 1.0, "fargate-2048": 2.0,
           "fargate-4096": 4.0, "fargate-8192": 8.0, "fargate-16384": 16.0}


def parse_service_cpu(text: str) -> float | None:
    """``none`` -> None; ``0.25`` or ``fargate-256`` -> vCPUs; DimensionError otherwise."""
    name = str(text).strip().lower()
    if name == NONE:
        return None
    if name in FARGATE:
        return FARGATE[name]
    try:
        vcpu = float(name)
    except ValueError:
        raise DimensionError(f"{text!r} is not a number of vCPUs, none, or one of "
                             f"{', '.join(FARGATE)}") from None
    if not 0.01 <= vcpu <= 1024:
        raise DimensionError(f"{text!r}: vCPUs must be between 0.01 and 1024")
    return vcpu


def service_cpu_value(text: str) -> str:
    """The envelope as the sweep keeps it: as given, lower-cased, checked (``auto`` allowed)."""
    name = str(text).strip().lower()
    if name != AUTO:
        parse_service_cpu(name)
    return name


def service_cpu_label(value: object) -> str:
    """``none``, ``0.25 vCPU`` or ``fargate-256 (0.25 vCPU)`` (a value it cannot read: as is;
    ``None``, from runs older than the envelope: none)."""
    if value is None or str(value) == NONE:
        return NONE
    try:
        vcpu = parse_service_cpu(str(value))
    except DimensionError:
        return str(value)
    if vcpu is None:
        return NONE
    cores = f"{vcpu:g} vCPU"
    return cores if str(value)[:1].isdigit() else f"{value} ({cores})"


def service_cpu_tag(value: object) -> str:
    """The point id's tag: ``cpu0.25-``, ``cpufargate-256-`` (the value as given); none: ""."""
    return "" if value is None or str(value) == NONE else f"cpu{value}-"


# --- the added round-trip delay ---------------------------------------------------------------

def parse_rtt_delay(text: str) -> tuple[float, float] | None:
    """``none`` -> None; ``20`` or ``20:5`` (milliseconds) -> (delay, jitter); else
    DimensionError."""
    if str(text).strip().lower() in ("", NONE, "0"):
        return None
    delay, _, jitter = str(text).partition(":")
    try:
        values = float(delay), float(jitter or 0)
    except ValueError:
        raise DimensionError(f"{text!r}: expected MS or MS:JITTER_MS, e.g. 20 or 20:5") from None
    if not (0 <= values[0] <= 10_000 and 0 <= values[1] <= values[0]):
        raise DimensionError(f"{text!r}: the delay must be 0-10000 ms and the jitter at most "
                             "the delay")
    return values


def rtt_delay_value(text: str) -> str:
    """The delay as the sweep keeps it: ``none``, ``10``, ``40:5`` (``0`` is none, ``20:0``
    is 20)."""
    parsed = parse_rtt_delay(str(text).strip().lower())
    if parsed is None:
        return NONE
    return f"{parsed[0]:g}" + (f":{parsed[1]:g}" if parsed[1] else "")


def rtt_delay_label(value: object) -> str:
    """``10 ms``, ``40±5 ms`` or none (also for runs older than the delay)."""
    if value is None or str(value).strip().lower() in ("", NONE, "0"):
        return NONE
    base, _, jitter = str(value).partition(":")
    try:
        millis, spread = float(base), float(jitter or 0)
    except ValueError:
        return str(value)
    return f"{millis:g}" + (f"±{spread:g}" if spread else "") + " ms"


def rtt_delay_tag(value: object) -> str:
    """The point id's tag: ``rtt10-``, ``rtt40j5-``; none adds nothing."""
    parsed = parse_rtt_delay(str(value)) if value is not None else None
    if parsed is None:
        return ""
    return f"rtt{parsed[0]:g}" + (f"j{parsed[1]:g}" if parsed[1] else "") + "-"


# --- the payload ------------------------------------------------------------------------------

DEFAULT_PAYLOAD = "small"
# The service's limit on a description (target_service/products.py MAX_DESCRIPTION_LENGTH).
MAX_PAYLOAD_BYTES = 32768
_SIZE = re.compile(r"(\d+)(k)?")


def parse_payload(text: str) -> int:
    """``small`` -> 0 (no description), ``4k`` -> 4096, ``1000`` -> 1000; DimensionError
    otherwise."""
    label = str(text).strip().lower()
    if label == DEFAULT_PAYLOAD:
        return 0
    match = _SIZE.fullmatch(label)
    if not match:
        raise DimensionError(f"bad payload {text!r}: use small, a size such as 1k, 4k or 16k, "
                             "or a number of bytes")
    size = int(match.group(1)) * (1024 if match.group(2) else 1)
    if not 1 <= size <= MAX_PAYLOAD_BYTES:
        raise DimensionError(f"bad payload {text!r}: the description must be 1 to "
                             f"{MAX_PAYLOAD_BYTES} bytes (32k), the service's limit")
    return size


def payload_label(text: str) -> str:
    """The canonical name of a payload: ``small``, ``4k`` (a multiple of 1024) or bytes."""
    size = parse_payload(text)
    if size == 0:
        return DEFAULT_PAYLOAD
    return f"{size // 1024}k" if size % 1024 == 0 else str(size)


def payload_tag(value: object) -> str:
    """The point id's tag: ``pay4k-``; small adds nothing."""
    return "" if value is None or str(value) == DEFAULT_PAYLOAD else f"pay{value}-"


# --- the storage backend ----------------------------------------------------------------------

STORES = ("memory", "postgres")
CACHES = ("off", "on")
_BACKEND_TAGS = {"memory": "", "postgres": "pg-", "postgres+cache": "pgcache-"}


@dataclass(frozen=True, order=True)
class Backend:
    """The service's storage: a store and whether a Redis cache sits in front of it."""

    store: str = "memory"
    cache: str = "off"

    def __post_init__(self) -> None:
        if self.store not in STORES:
            raise DimensionError(f"unknown store {self.store!r}: choose from {', '.join(STORES)}")
        if self.cache not in CACHES:
            raise DimensionError(f"unknown cache {self.cache!r}: choose from {', '.join(CACHES)}")
        if self.cache == "on" and self.store != "postgres":
            raise DimensionError("the cache sits in front of PostgreSQL; add --store postgres")

    @property
    def name(self) -> str:
        """``memory``, ``postgres`` or ``postgres+cache`` (run.json ``params.backend``)."""
        return self.store + ("+cache" if self.cache == "on" else "")

    @property
    def tag(self) -> str:
        """The point id's tag: ``pg-``, ``pgcache-``; memory adds nothing."""
        return _BACKEND_TAGS[self.name]

    @classmethod
    def parse(cls, name: object) -> Backend:
        """``postgres+cache`` -> Backend("postgres", "on"); None (older runs) is memory."""
        text = str(name or "memory").strip().lower()
        store, plus, cache = text.partition("+")
        if plus and cache != "cache":
            raise DimensionError(f"unknown backend {name!r}: choose from "
                                 f"{', '.join(_BACKEND_TAGS)}")
        return cls(store, "on" if plus else "off")


def backends(stores: list[str], caches: list[str]) -> list[Backend]:
    """The backends of a matrix, in run order: the cache only in front of postgres."""
    pairs = [(store, cache if store == "postgres" else "off")
             for store in stores for cache in caches]
    return [Backend(store, cache) for store, cache in dict.fromkeys(pairs)]
