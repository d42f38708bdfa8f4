"""The values of the sweep's dimensions: how each is parsed, normalised, labelled and tagged.

One function per question and dimension, so that the runner (which parses the flags, names the
points and drives the mechanism) and the analysis (which labels the columns) give the same
answer. Every parser raises ``DimensionError`` (a ``ValueError``) with a one-line message that
the caller prefixes with the flag or TOML key.

- the service's CPU envelope (``--service-cpu``): ``none``, vCPUs (``0.25``) or a Fargate size
  (``fargate-256``); ``auto`` is a placeholder the runner replaces before the sweep;
- the added round-trip delay (``--rtt-delay``): ``none``, ``MS``, ``MS:JITTER_MS``,
  ``lognormal:MEAN:P95`` or ``file:PATH`` (its distributions: ``runmodel.delays``);
- the payload (``--payload``): ``small`` or a description size (``4k``, ``1000``);
- the storage backend (``--store``, ``--cache``): one ``Backend`` (store, cache), named
  ``memory``, ``postgres`` or ``postgres+cache``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runmodel.delays import DelayError, DelaySpec, parse_delay

__all__ = [
    "AUTO", "AUTO_MAX_FACTOR", "CACHES", "DEFAULT_PAYLOAD", "DEFAULT_WINDOW_S", "FARGATE",
    "MAX_PAYLOAD_BYTES", "NONE", "STORES", "Backend", "DimensionError", "WindowDuration",
    "backends", "parse_payload", "parse_rtt_delay", "parse_service_cpu", "parse_window_duration",
    "payload_label", "payload_tag", "rtt_delay_label", "rtt_delay_tag", "rtt_delay_value",
    "service_cpu_label", "service_cpu_tag", "service_cpu_value",
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

def parse_rtt_delay(text: str) -> DelaySpec | None:
    """``none`` -> None; ``20``, ``20:5``, ``lognormal:44:110``, ``file:PATH`` (runmodel.delays)
    -> its ``DelaySpec``; else DimensionError."""
    try:
        return parse_delay(text)
    except DelayError as exc:
        raise DimensionError(str(exc)) from None


def rtt_delay_value(text: str) -> str:
    """The delay as the sweep keeps it: ``none``, ``10``, ``40:5``, ``lognormal:44:110``,
    ``file:PATH`` (``0`` is none, ``20:0`` is 20, ``lognormal:mean=44ms:p95=110ms`` is
    ``lognormal:44:110``)."""
    parsed = parse_rtt_delay(str(text).strip())
    return NONE if parsed is None else parsed.value


def _file_delay(value: str) -> tuple[str, str] | None:
    """A ``file:PATH[:seed=N]`` value's file name and seed tag, read without opening it."""
    head, _, rest = value.partition(":")
    if head.lower() != "file":
        return None
    path, _, seed = rest.rpartition(":seed=") if ":seed=" in rest else (rest, "", "")
    return path, seed


def rtt_delay_label(value: object) -> str:
    """``10 ms``, ``40±5 ms``, ``lognormal 44 ms, p95 110 ms``, ``file NAME`` or none (also for
    runs older than the delay); a value it cannot read: as is."""
    if value is None or str(value).strip().lower() in ("", NONE, "0"):
        return NONE
    text = str(value).strip()
    empirical = _file_delay(text)
    if empirical is not None:
        return f"file {empirical[0].rsplit('/', 1)[-1]}"
    try:
        parsed = parse_delay(text)
    except DelayError:
        return text
    return NONE if parsed is None else parsed.label


def rtt_delay_tag(value: object) -> str:
    """The point id's tag: ``rtt10-``, ``rtt40j5-``, ``rttln44p110-``, ``rttfileNAME-``; none
    adds nothing."""
    if value is None:
        return ""
    empirical = _file_delay(str(value).strip())
    if empirical is not None:
        stem = re.sub(r"[^A-Za-z0-9]+", "", empirical[0].rsplit("/", 1)[-1].rsplit(".", 1)[0])
        return f"rttfile{stem[:24]}" + (f"s{empirical[1]}" if empirical[1] else "") + "-"
    parsed = parse_rtt_delay(str(value))
    return "" if parsed is None else parsed.tag


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


# --- the measured window's duration (--duration) ---------------------------------------------

DEFAULT_WINDOW_S = 10.0  # the window when --duration is not given, and auto's minimum
AUTO_MAX_FACTOR = 6  # --duration auto without MAX: at most this many minimum windows
_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$")


@dataclass(frozen=True)
class WindowDuration:
    """The measured window: ``min_s`` long, or with ``max_s`` (``auto``) extended until the
    throughput's interval is within ±5% of its mean, at most ``max_s``."""

    min_s: float
    max_s: float | None = None  # None: a fixed window of min_s

    @property
    def auto(self) -> bool:
        return self.max_s is not None


def _seconds(text: str, what: str) -> float:
    match = _SECONDS.match(text)
    if not match:
        raise DimensionError(f"expected {what} such as 10s, 500ms or 1m, got {text!r}")
    unit = match.group(2) or "s"
    return float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0}[unit]


def parse_window_duration(value: object,
                          default_min_s: float = DEFAULT_WINDOW_S) -> WindowDuration:
    """``--duration``: ``DURATION`` (a fixed window), ``auto``, ``auto:MAX`` or ``auto:MIN:MAX``
    (an auto window; MIN defaults to ``default_min_s``, MAX to ``AUTO_MAX_FACTOR`` times MIN)."""
    if isinstance(value, bool):
        raise DimensionError(f"expected a duration such as 10s or auto[:MAX], got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
        if not seconds > 0:
            raise DimensionError("the measured window must be longer than 0s")
        return WindowDuration(seconds)
    text = str(value).strip()
    parts = text.split(":")
    if parts[0] != AUTO:
        seconds = _seconds(text, "a duration or auto[:MAX]")
        if not seconds > 0:
            raise DimensionError("the measured window must be longer than 0s")
        return WindowDuration(seconds)
    if len(parts) > 3:
        raise DimensionError(f"expected auto, auto:MAX or auto:MIN:MAX, got {text!r}")
    minimum = _seconds(parts[1], "a minimum") if len(parts) == 3 else default_min_s
    maximum = (_seconds(parts[-1], "a maximum") if len(parts) >= 2
               else AUTO_MAX_FACTOR * minimum)
    if not minimum > 0:
        raise DimensionError("auto: the minimum window must be longer than 0s")
    if maximum < minimum:
        raise DimensionError(f"auto: the maximum {maximum:g}s is shorter than the minimum "
                             f"window {minimum:g}s")
    return WindowDuration(minimum, maximum)
