"""The registry of the sweep's dimensions: one entry each, everything the suite knows about it.

A *dimension* is a parameter that can differ between the runs of a sweep (the user class, the
mix, the users, the CPU envelope, ...). Its entry says how the command line and the TOML file
give it (``settings``: flag, TOML key, parser, default), how a value prints in tables
(``label``), in sentences (``phrase``) and in column headers (``title``), how it shows in a
point id (``tag``), and what role it plays: a *point key* varies between points and identifies
a configuration; a ``series`` dimension also names a series in the analysis when a sweep does
not leave it at its default. A dimension may be the alternative of another (``alternative_to``):
the open model's arrival rate is the alternative of ``users``; a point has one or the other.

Adding a dimension is one ``Dimension`` here (with its ``Setting``), its mechanism in the runner,
and its tests: the runner's configuration, the manifest, point ids, and the analysis' columns,
labels and series all read this registry (ARCHITECTURE.md, "Add a dimension").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runmodel import values as v
from runmodel.values import DimensionError

__all__ = ["DIMENSIONS", "SETTINGS", "USER_CLASS_NAMES", "WINDOW",
           "Dimension", "Setting", "by_name",
           "default_label", "load_dimension", "owner", "parse_list", "parse_setting", "point_id",
           "point_keys", "run_id", "series_dimensions", "setting"]

# The locustfile's user classes by short name, and the Locust class each one is.
USER_CLASS_NAMES = {"http": "HttpUser", "fast": "FastHttpUser"}

Role = Literal["series", "user_class", "mix", "load", "repeat", "processes"]


@dataclass(frozen=True)
class Setting:
    """How the command line and a sweep TOML file give a dimension (or part of one).

    ``field`` is the sweep configuration's attribute (and the manifest's ``config`` key);
    ``parse`` checks and normalises one item (DimensionError with a one-line message);
    ``many``: a comma-separated list (or a TOML list) of items, else one value.
    """

    flag: str
    field: str
    toml_key: str
    parse: Callable[[Any], Any]
    default: Any
    metavar: str
    help: str
    many: bool = True
    unique: bool = True  # a repeated item is dropped (users keep theirs, as given)


@dataclass(frozen=True)
class Dimension:
    """One dimension of the sweep; see the module's docstring."""

    name: str  # run.json params key, the runner's Point attribute, the analysis' column
    title: str  # its column's title in tables
    role: Role
    settings: tuple[Setting, ...]
    default: Any  # the value a run has when the sweep does not set it (also older runs)
    label: Callable[[Any], str] = str  # a value as it prints in tables
    tag: Callable[[Any], str] = lambda value: ""  # its part of the point id, "" at the default
    phrase: str = "{}"  # a label in a sentence ("+{} RTT"): capacity lines, headlines
    point_key: bool = True
    alternative_to: str | None = None  # a point has this dimension or that one, never both
    id_rank: int = 99  # position of the tag in the point id (ids predate most dimensions)


def _user_class(item: Any) -> str:
    name = str(item)
    if name not in USER_CLASS_NAMES:
        raise DimensionError(f"unknown user class {name!r}: choose from "
                             f"{', '.join(USER_CLASS_NAMES)}")
    return name


def _whole(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            number = int(value)
            if isinstance(value, bool) or (isinstance(value, float | str)
                                           and float(value) != number):
                raise ValueError
        except (TypeError, ValueError):
            raise DimensionError(f"expected a whole number, got {value!r}") from None
        if number < minimum:
            raise DimensionError(f"must be at least {minimum}, got {number}")
        return number
    return parse


def _processes(value: Any) -> int | str:
    return "auto" if str(value).strip() == "auto" else _whole(1)(value)


def _choice(allowed: tuple[str, ...], what: str) -> Callable[[Any], str]:
    def parse(item: Any) -> str:
        if str(item) not in allowed:
            raise DimensionError(f"unknown {what} {str(item)!r}: choose from "
                                 f"{', '.join(allowed)}")
        return str(item)
    return parse


def _rate(value: Any) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise DimensionError(f"expected a rate in iterations/s, got {value!r}") from None
    if isinstance(value, bool) or not 0 < rate <= 1_000_000 or rate != rate:
        raise DimensionError(f"must be a rate above 0 and at most 1000000/s, got {value!r}")
    return rate


def _rate_tag(rate: float) -> str:
    """``a200-``, ``a12.5-``."""
    return f"a{rate:g}-"


# Registry order is the order of the point keys: how configurations sort and group, and the
# order of the dimension columns in tables. ``id_rank`` orders the tags in a point id.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "service_cpu", "service CPU", "series", default=v.NONE, label=v.service_cpu_label,
        tag=v.service_cpu_tag, id_rank=3, settings=(Setting(
            "--service-cpu", "service_cpu", "service_cpu", v.service_cpu_value, [v.NONE],
            "LIST", "the local service's CPU envelope, a sweep dimension: vCPUs (any fraction, "
            "e.g. 0.1,0.25,1), Fargate sizes (fargate-256 = 0.25 vCPU, fargate-512, "
            "fargate-1024, ...), auto (sized here so that the service saturates before the "
            "generator) or none (default); a cgroup CPU quota on the service, its database and "
            "cache"),)),
    Dimension(
        "rtt_delay", "added RTT", "series", default=v.NONE, label=v.rtt_delay_label,
        tag=v.rtt_delay_tag, phrase="+{} RTT", id_rank=4, settings=(Setting(
            "--rtt-delay", "rtt_delay", "rtt_delay", v.rtt_delay_value, [v.NONE], "LIST",
            "round-trip delays added to every request, a sweep dimension: MS, MS:JITTER_MS "
            "(uniform jitter), lognormal:MEAN:P95 (ms) or file:PATH (delays in ms, one a "
            "line), e.g. none,10,40:5,lognormal:44:110 (default none); a delaying TCP proxy "
            "on the service's CPUs"),)),
    Dimension(
        "backend", "backend", "series", default="memory",
        label=lambda value: v.Backend.parse(value).name,
        tag=lambda value: v.Backend.parse(value).tag, id_rank=2, settings=(
            Setting("--store", "stores", "store", _choice(v.STORES, "store"), ["memory"], "LIST",
                    "the local service's backends: memory, postgres (default memory); "
                    "PostgreSQL is started by the sweep and reset before every point"),
            Setting("--cache", "caches", "cache", _choice(v.CACHES, "cache"), ["off"], "LIST",
                    "off, on: a Redis cache in front of postgres (default off)"))),
    Dimension(
        "payload", "payload", "series", default=v.DEFAULT_PAYLOAD, tag=v.payload_tag,
        phrase="{} payload", id_rank=5, settings=(Setting(
            "--payload", "payload", "payload", v.payload_label, [v.DEFAULT_PAYLOAD], "LIST",
            "each product's size, a sweep dimension: small (default: no description), or a "
            "description of 1k, 4k, 16k, ... or N bytes (at most 32k) in every product the "
            "scenario creates and seeds; pages list 20 products, so they grow too"),)),
    Dimension(
        "user_class", "class", "user_class", default="http",
        label=lambda value: USER_CLASS_NAMES.get(str(value), str(value)),
        tag=lambda value: f"{value}-", id_rank=0, settings=(Setting(
            "--user-classes", "user_classes", "user_classes", _user_class, ["http", "fast"],
            "LIST", "user classes (default http,fast)", unique=False),)),
    Dimension(
        "mix", "mix", "mix", default="read-heavy", tag=lambda value: f"{value}-", id_rank=1,
        settings=(Setting(
            "--mixes", "mixes", "mixes", str, ["read-heavy"], "LIST",
            "mixes among read-only, read-heavy, balanced, write-heavy (default read-heavy)",
            unique=False),)),
    Dimension(
        "users", "users", "load", default=1, tag=lambda value: f"u{int(value):04d}-",
        id_rank=6, settings=(Setting(
            "--users", "users", "users", _whole(1), [1, 10, 50, 100], "LIST",
            "concurrency levels (default 1,10,50,100)", unique=False),)),
    Dimension(  # the open model (scenarios/open_model): a rate of arrivals instead of users
        "arrival_rate", "arrivals/s", "load", default=None, alternative_to="users",
        label=lambda value: "-" if value is None else f"{float(value):g}",
        tag=lambda value: "" if value is None else _rate_tag(float(value)), phrase="{}/s",
        id_rank=6, settings=(Setting(
            "--arrival-rate", "arrival_rates", "arrival_rates", _rate, [], "LIST",
            "open model, the alternative to --users: arrival rates in iterations/s over all "
            "Locust processes, a sweep dimension, e.g. 50,100,200 (default: none, the closed "
            "model); latency is measured from each arrival's intended start"),)),
    Dimension(
        "repeat", "repeat", "repeat", default=1, point_key=False,
        tag=lambda value: f"r{int(value)}", id_rank=7, settings=(Setting(
            "--repeats", "repeats", "repeats", _whole(1), 5, "N",
            "runs of every point (default 5; with fewer than 3 the analysis shows ranges, not "
            "confidence intervals)", many=False),)),
    Dimension(
        "processes", "processes", "processes", default=1, point_key=False, settings=(Setting(
            "--processes", "processes", "processes", _processes, 1, "N|auto",
            "Locust processes per point (default 1); auto: add workers to a generator-bound "
            "point", many=False),)),
)

# Not a dimension (every point of a sweep has the same window), but parsed the same way: the
# measured window's duration, fixed or ``auto[:MAX]`` (runmodel.values.WindowDuration).
WINDOW = Setting(
    "--duration", "duration_s", "duration", v.parse_window_duration, v.DEFAULT_WINDOW_S,
    "DURATION|auto[:[MIN:]MAX]",
    "the measured window, opened once the ramp has settled (default 10s); auto: extended until "
    "the throughput's 95% batch-means interval is within ±5% of its mean, from MIN (default "
    "10s) to MAX (default 6 x MIN)", many=False)

_BY_NAME = {dimension.name: dimension for dimension in DIMENSIONS}
SETTINGS: dict[str, Setting] = {s.field: s for d in DIMENSIONS for s in d.settings}
_OWNER = {s.field: d for d in DIMENSIONS for s in d.settings}


def by_name(name: str) -> Dimension:
    """The registry entry of ``name``; KeyError for a name the registry does not know."""
    return _BY_NAME[name]


def setting(field_name: str) -> Setting:
    """The setting behind a configuration field (``service_cpu``, ``stores``, ``users``...)."""
    return SETTINGS[field_name]


def point_keys() -> tuple[str, ...]:
    """The dimensions that identify a configuration (its repeats share them), in sort order."""
    return tuple(d.name for d in DIMENSIONS if d.point_key)


def series_dimensions() -> tuple[str, ...]:
    """The dimensions beyond class, mix and load that name a series, in the ids' order."""
    return tuple(d.name for d in sorted(DIMENSIONS, key=lambda d: d.id_rank)
                 if d.role == "series")


def load_dimension(values: Mapping[str, Any]) -> Dimension:
    """The load dimension a point uses: ``users``, or an alternative of it that ``values``
    sets (e.g. an arrival rate)."""
    for dimension in DIMENSIONS:
        if dimension.alternative_to == "users" and values.get(dimension.name) is not None:
            return dimension
    return _BY_NAME["users"]


def default_label(name: str) -> str:
    """How a dimension's default prints: ``none``, ``memory``, ``small``."""
    dimension = _BY_NAME[name]
    return dimension.label(dimension.default)


def point_id(values: Mapping[str, Any]) -> str:
    """The point id of a point's dimension values (results/README.md, "Names").

    ``fast-read-heavy-u0050-r1``; a dimension away from its default adds its tag before the
    load (``fast-read-heavy-pg-cpu0.25-rtt10-pay4k-u0050-r1``). A dimension missing from
    ``values`` is at its default; an alternative (an arrival rate) replaces what it stands for.
    """
    load = load_dimension(values)
    skipped = {d.name for d in DIMENSIONS if d.role == "load" and d is not load}
    parts = []
    for dimension in sorted(DIMENSIONS, key=lambda d: d.id_rank):
        if dimension.name in skipped:
            continue
        parts.append(dimension.tag(values.get(dimension.name, dimension.default)))
    return "".join(parts)


def run_id(point: str, processes: int) -> str:
    """The run id of one attempt of a point: its id and its Locust processes."""
    return f"{point}-p{processes}"


def parse_list(value: Any, what: str) -> list[Any]:
    """A list setting's items: a list as given, or a comma-separated string split and stripped;
    DimensionError (naming ``what``) for anything else or for no item at all."""
    if isinstance(value, str):
        items: list[Any] = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise DimensionError(f"{what}: expected a list or a comma-separated string, "
                             f"got {value!r}")
    if not items:
        raise DimensionError(f"{what}: must not be empty")
    return items


def parse_setting(field_name: str, value: Any, what: str) -> Any:
    """Check a setting's value from the command line or a TOML file, normalised.

    ``what`` names the flag or ``file: key``; it starts every error's one line.
    """
    entry = SETTINGS[field_name]
    items = parse_list(value, what) if entry.many else [value]
    try:
        parsed = [entry.parse(item) for item in items]
    except DimensionError as exc:
        raise DimensionError(f"{what}: {exc}") from None
    if not entry.many:
        return parsed[0]
    return list(dict.fromkeys(parsed)) if entry.unique else parsed


def owner(field_name: str) -> Dimension:
    """The dimension a configuration field belongs to."""
    return _OWNER[field_name]
