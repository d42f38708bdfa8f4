"""run.json and manifest.json as typed records (results/README.md), and their readers.

The runner writes these files and the analysis reads them; both go through these models, so the
schema has one definition. Each model names the fields the suite relies on; every other field
is kept in ``extras``, so a record read and written again loses nothing (``to_dict`` gives back
the keys in their order). Blocks whose content is documented in results/README.md but read by
one side only (``cpu``, ``server``, ``verdict.evidence``, ...) stay plain dicts.

Schema 1 (before evidence/ and HDR percentiles) reads into the same models: its missing fields
are None, and the dimensions added since (``backend``, ``service_cpu``, ``rtt_delay``,
``payload``) read as their defaults through the dimension registry. A file that is not JSON,
not an object, of an unknown ``schema_version`` or without a field the models need raises
``RecordError`` with one line naming the file and the problem.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

__all__ = ["SCHEMA_VERSION", "SCHEMA_VERSIONS", "DelayRecord", "Manifest", "Params", "Record",
           "RecordError", "Requests", "RunRecord", "VerdictRecord", "Window", "load_manifest",
           "load_run", "read_document"]

SCHEMA_VERSION = 2  # what the runner writes
SCHEMA_VERSIONS = (1, 2)  # what the readers read (1: no evidence/, Locust's percentiles)


class RecordError(ValueError):
    """A run.json or manifest.json that cannot be used: one line naming the file and why."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


_R = TypeVar("_R", bound="Record")


@dataclass
class Record:
    """Known fields as attributes, every other key in ``extras``, the input's key order kept."""

    extras: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False)
    _order: tuple[str, ...] = field(default=(), kw_only=True, repr=False, compare=False)

    REQUIRED: ClassVar[tuple[str, ...]] = ()  # fields a reader cannot do without
    BLOCKS: ClassVar[dict[str, type[Record]]] = {}  # fields that are records themselves

    @classmethod
    def known(cls) -> tuple[str, ...]:
        """The field names this model knows, in the order the runner writes them."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.init and not f.kw_only)

    @classmethod
    def from_dict(cls: type[_R], data: Any, where: str = "") -> _R:
        """The record of a JSON object; KeyError/TypeError name a missing or malformed field."""
        if not isinstance(data, dict):
            raise TypeError(f"{where or 'the document'} is not a JSON object")
        for name in cls.REQUIRED:
            if data.get(name) is None:
                raise KeyError(f"{where}{name}")
        known = cls.known()
        values: dict[str, Any] = {}
        for name in known:
            if name in data:
                block = cls.BLOCKS.get(name)
                value = data[name]
                values[name] = (block.from_dict(value, f"{where}{name}.")
                                if block is not None and value is not None else value)
        extras = {key: value for key, value in data.items() if key not in known}
        return cls(**values, extras=extras, _order=tuple(data))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the read keys in their order, or (built in code) every known field
        that is set, in the model's order, then the extras."""
        known = self.known()
        order = self._order or (*[n for n in known if getattr(self, n) is not None],
                                *self.extras)
        out: dict[str, Any] = {}
        for name in order:
            if name in known:
                value = getattr(self, name)
                out[name] = value.to_dict() if isinstance(value, Record) else value
            elif name in self.extras:
                out[name] = self.extras[name]
        return out

    def get(self, name: str, default: Any = None) -> Any:
        """A field by name, known or extra (as a dict would answer)."""
        if name in self.known():
            value = getattr(self, name)
            return default if value is None else value
        return self.extras.get(name, default)


@dataclass
class Params(Record):
    """run.json ``params``: the point's dimensions and how it was run."""

    user_class: str
    mix: str
    weights: dict[str, int] | None = None
    users: int = 0
    repeat: int = 1
    processes: int = 1
    spawn_rate: float | None = None
    ramp_s: float | None = None
    duration_s: float | None = None
    pacing: dict[str, Any] | None = None
    host: str | None = None
    store: str | None = None  # the backend's parts (schema 1: absent, memory)
    cache: str | None = None
    backend: str | None = None
    service_cpu: str | None = None  # the CPU envelope as given (absent: none)
    service_vcpu: float | None = None
    rtt_delay: str | None = None  # the added round-trip delay (absent: none)
    payload: str | None = None  # the products' description size (absent: small)
    payload_bytes: int | None = None
    arrival_rate: float | None = None  # the open model's rate (absent: closed; users = pool)

    REQUIRED: ClassVar[tuple[str, ...]] = ("user_class", "mix", "users", "repeat")

    def dimension(self, name: str) -> Any:
        """A dimension's value, its registry default when the run predates it."""
        from runmodel.dimensions import by_name

        value = self.get(name)
        return by_name(name).default if value is None else value


@dataclass
class Window(Record):
    """run.json ``window``: the measured window (None when spawning never completed)."""

    start: str | None = None
    end: str | None = None
    seconds: float | None = None
    settle: dict[str, Any] | None = None  # when and why the window opened (the settle rule)
    duration: dict[str, Any] | None = None  # its rule (fixed, auto), why it closed, interval


@dataclass
class Requests(Record):
    """run.json ``requests``: the Aggregated figures of the window (None: no stats)."""

    total: int | None = None
    failures: int | None = None
    unexpected_failure_ratio: float | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None  # schema 2
    mean_ms: float | None = None  # schema 2
    avg_content_bytes: float | None = None
    avg_content_bytes_by_name: dict[str, float] | None = None
    latency_source: str | None = None  # schema 2: "hdr" or "locust"
    hdr_requests: int | None = None
    locust_p50_ms: float | None = None
    locust_p95_ms: float | None = None
    # requests open at the window's end, and the percentiles that are lower bounds for them
    # (runmodel.censoring; None where not recorded)
    censored: dict[str, Any] | None = None


@dataclass
class VerdictRecord(Record):
    """run.json ``verdict``: the status (runmodel.verdicts), why, and the figures behind it."""

    status: str = "unknown"
    reasons: list[str] = field(default_factory=list)
    causes: list[str] | None = None  # schema 2
    evidence: dict[str, Any] | None = None
    warnings: list[str] | None = None


@dataclass
class DelayRecord(Record):
    """run.json ``rtt_delay``: the added delay as applied (runmodel.delays) and what the delay
    proxy did (scenarios/runner/target/_delay_proxy.py): each ``*_ms`` block is count, mean,
    p50, p95, p99, max in ms over the proxy's life (ramp, window and stop)."""

    delay_ms: float | None = None  # the mean delay asked (a fixed delay: the delay)
    jitter_ms: float | None = None  # uniform: the half-width; else 0
    cpus: list[int] | None = None  # where the proxy ran
    distribution: dict[str, Any] | None = None  # DelaySpec.describe(): kind, mu, sigma, seed...
    mechanism: str | None = None
    proxy_url: str | None = None
    delayed: int | None = None  # delays drawn (one per request, or per write of a request)
    rides: int | None = None  # chunks sent on with the delay of a chunk before them
    connections: int | None = None
    intended_ms: dict[str, Any] | None = None  # the delays drawn
    added_ms: dict[str, Any] | None = None  # the delays actually added (arrival to send)
    lateness_ms: dict[str, Any] | None = None  # added - drawn: how late its timers fired
    cpu_s: float | None = None  # the proxy's own CPU seconds, from listening to its end
    wall_s: float | None = None
    cpu_cores: float | None = None  # cpu_s / wall_s
    cpu_cores_busiest: float | None = None  # its busiest second with traffic
    busy_seconds: int | None = None  # seconds with traffic
    stats_error: str | None = None  # why the proxy's own figures are missing


@dataclass
class RunRecord(Record):
    """One run.json."""

    schema_version: int
    run_id: str
    point_id: str
    final: bool = False
    attempt: int = 1
    params: Params | None = None
    started_at: str | None = None
    ended_at: str | None = None
    window: Window | None = None
    exit_code: int | None = None
    command: list[str] | None = None
    worker_commands: list[list[str]] | None = None
    cpu: dict[str, Any] | None = None
    requests: Requests | None = None
    verdict: VerdictRecord | None = None
    client_overhead: dict[str, Any] | None = None  # schema 2
    placement: dict[str, Any] | None = None
    slo: dict[str, Any] | None = None
    server: dict[str, Any] | None = None  # schema 2: the service's own /metrics view
    service: dict[str, Any] | None = None  # a local service's /health
    service_sockets: dict[str, Any] | None = None  # its socket queues at the window's edges
    cpu_limit: dict[str, Any] | None = None  # the CPU envelope's quota and throttling
    rtt_delay: DelayRecord | None = None  # the added delay and its proxy's own figures
    database: dict[str, Any] | None = None  # a postgres point's reset
    processes_auto: dict[str, Any] | None = None  # --processes auto's decision
    remote: dict[str, Any] | None = None  # a run on a remote master
    open_model: dict[str, Any] | None = None  # an open-model point's figures (arrivals, lag)
    server_queues: dict[str, Any] | None = None  # the service's queue times over the window
    latency_split: dict[str, Any] | None = None  # the client-seen mean attributed end to end

    REQUIRED: ClassVar[tuple[str, ...]] = ("schema_version", "run_id", "point_id", "params")
    BLOCKS: ClassVar[dict[str, type[Record]]] = {
        "params": Params, "window": Window, "requests": Requests, "verdict": VerdictRecord,
        "rtt_delay": DelayRecord}


@dataclass
class Manifest(Record):
    """One manifest.json."""

    schema_version: int
    sweep_id: str | None = None
    status: str | None = None  # running, complete, interrupted, failed
    created_at: str | None = None
    finished_at: str | None = None
    preset: str | None = None
    config: dict[str, Any] | None = None
    matrix: dict[str, Any] | None = None
    points: list[str] = field(default_factory=list)
    target: dict[str, Any] | None = None
    placement: dict[str, Any] | None = None
    code: dict[str, Any] | None = None
    versions: dict[str, Any] | None = None
    machine: dict[str, Any] | None = None
    command: list[str] | None = None
    resumed_at: list[str] | None = None
    calibration: dict[str, Any] | None = None  # schema 2
    deployment: dict[str, Any] | None = None  # a sweep run inside AWS: what was deployed

    REQUIRED: ClassVar[tuple[str, ...]] = ("schema_version",)


def read_document(path: Path) -> Any:
    """A JSON file's content; RecordError for a missing, unreadable or corrupt file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordError(path, "file is missing") from None
    except OSError as error:
        raise RecordError(path, f"cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise RecordError(path, "not UTF-8 text; truncated or corrupt?") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(path, f"not valid JSON ({error.msg} at line {error.lineno}); "
                                "truncated or corrupt?") from None


def _checked(document: Any, path: Path) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise RecordError(path, "expected a JSON object")
    version = document.get("schema_version")
    if version not in SCHEMA_VERSIONS or isinstance(version, bool):
        known = ", ".join(str(v) for v in SCHEMA_VERSIONS)
        raise RecordError(path, f"unknown schema_version {version!r} (this analysis reads "
                                f"{known})")
    return document


def _record(kind: type[_R], document: Any, path: Path) -> _R:
    try:
        return kind.from_dict(_checked(document, path))
    except (KeyError, TypeError, AttributeError) as error:
        raise RecordError(path, f"missing or malformed field {error}") from None


def load_run(path: Path | str) -> RunRecord:
    """Read and check a run.json (schema 1 or 2)."""
    path = Path(path)
    return _record(RunRecord, read_document(path), path)


def load_manifest(path: Path | str) -> Manifest:
    """Read and check a manifest.json (schema 1 or 2)."""
    path = Path(path)
    return _record(Manifest, read_document(path), path)
