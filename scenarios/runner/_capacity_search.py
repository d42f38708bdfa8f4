"""Capacity under an SLO (``--find-capacity``): the search over arrival rates, a pure state machine.

The capacity of one configuration is the highest arrival rate at which a run *passes*: its
verdict is ``valid`` (or ``client-dominated``: its latency then includes the client's own
time, so an SLO met on it is met by the service too), its SLO holds on the latency from the
intended start, and its generator dropped at most ``DROPPED_LIMIT`` of the arrivals.

The search:

1. **brackets**: the start rate, then doubling while runs pass (halving while they fail), until
   one rate passed and a higher one failed;
2. **bisects** the bracket [highest passing, lowest failing] at its midpoint (rounded to three
   significant figures) until ``lowest failing - highest passing <= resolution x highest
   passing`` (5% by default);
3. **repeats the deciding rates**: the highest passing and the lowest failing rate are each run
   until they have ``repeats`` runs (2 by default). A rate passes only when *every* one of its
   runs passed: a repeat that fails at the highest passing rate makes it a failing rate, and the
   search bisects below it again; a repeat that passes at the lowest failing rate leaves it
   failing, and the rate is reported as *disagreeing* (its runs split).

It stops when the bracket is resolved and its rates repeated, when ``max_runs`` runs are spent,
when no failing rate is found up to ``MAX_RATE`` (or no passing one down to ``min_rate``: the
rate whose window holds 10% more than the verdict's ``--min-requests``), or at
a run that says nothing about its rate (``UNUSABLE``: too few samples for the verdict, a run
that broke, no open-model evidence): moving the rate would not cure that.
The interval reported is that bracket: a search bracket under the assumption that a higher
rate does not pass where a lower one failed, not a confidence interval. Runs are handed in by
the caller (``record``), so the logic is tested against a simulated service.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runmodel import dimensions
from runmodel.values import DimensionError
from scenarios.runner.config import PRESETS_DIR, ConfigError, SweepConfig, load_toml

DEFAULT_START = 100.0
DEFAULT_RESOLUTION = 0.05
DEFAULT_REPEATS = 2
DEFAULT_MAX_RUNS = 16
GROWTH = 2.0
MIN_RATE = 0.5
MAX_RATE = 1_000_000.0
DROPPED_LIMIT = 0.001  # the verdict's dropped-arrivals threshold (0.1% of the intended)
PASSING_STATUSES = ("valid", "client-dominated")
# a run failing on these says nothing about the rate (too short a window, a broken run): the
# search stops there ("unusable-run") instead of moving the rate
UNUSABLE = ("no-evidence", "verdict:too-few-samples", "verdict:failed", "verdict:interrupted")
INTERVAL_KIND = "bracket"
INTERVAL_LABEL = ("search bracket [highest rate that passed every run, lowest rate that failed "
                  "a run]; it holds the capacity if a rate above a failing one would fail too; "
                  "not a confidence interval")
RULE = ("a rate passes when every run at it passed: verdict valid or client-dominated, SLO met "
        "on the latency from the intended start, at most 0.1% of arrivals dropped; a repeat "
        "that disagrees fails the rate (a highest passing rate that fails a repeat becomes "
        "failing and the search bisects below it; a lowest failing rate that passes a repeat "
        "stays failing and is listed as disagreeing)")


class CapacityError(ConfigError):
    """A capacity-search option that cannot be used; the message is one line."""


@dataclass(frozen=True)
class CapacitySpec:
    """How a search runs: the first rate, the resolution, the deciding rates' runs, a budget."""

    start: float = DEFAULT_START
    resolution: float = DEFAULT_RESOLUTION
    repeats: int = DEFAULT_REPEATS
    max_runs: int = DEFAULT_MAX_RUNS
    # the lowest rate worth a run: below it a window holds fewer requests than the verdict's
    # --min-requests (too-few-samples), so halving stops there
    min_rate: float = MIN_RATE

    def __post_init__(self) -> None:
        if not MIN_RATE <= self.start <= MAX_RATE:
            raise CapacityError(f"--arrival-rate: a capacity search starts at one rate from "
                                f"{MIN_RATE:g} to {MAX_RATE:g}/s, got {self.start:g}")
        if not 0.001 <= self.resolution <= 0.5:
            raise CapacityError("--capacity-resolution: from 0.1% to 50%, got "
                                f"{self.resolution:.3%}")
        if not 1 <= self.repeats <= 10:
            raise CapacityError(f"--capacity-repeats: 1 to 10 runs, got {self.repeats}")
        if not 2 <= self.max_runs <= 200:
            raise CapacityError(f"--capacity-max-runs: 2 to 200 runs, got {self.max_runs}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_resolution(text: str) -> float:
    """``5%``, ``2.5%`` or ``0.05`` -> 0.05; CapacityError otherwise."""
    raw = str(text).strip()
    try:
        value = float(raw.removesuffix("%")) / (100.0 if raw.endswith("%") else 1.0)
    except ValueError:
        raise CapacityError(f"--capacity-resolution: expected e.g. 5% or 0.05, got {text!r}")\
            from None
    if not math.isfinite(value):
        raise CapacityError(f"--capacity-resolution: expected e.g. 5% or 0.05, got {text!r}")
    return value


FLAGS = ("find_capacity", "capacity_resolution", "capacity_repeats", "capacity_max_runs")


def _whole(text: Any, flag: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise CapacityError(f"{flag}: expected a whole number, got {text!r}") from None


def capacity_flags(flags: dict[str, Any]) -> dict[str, Any] | None:
    """Take the capacity search's flags out of ``flags`` (the rest resolve as a sweep's) and
    check what they cannot go with; None without --find-capacity. CapacityError: one line."""
    given = {key: flags.pop(key, None) for key in FLAGS}
    if not given["find_capacity"]:
        extra = [key for key in FLAGS[1:] if given[key] is not None]
        if extra:
            raise CapacityError(f"--{extra[0].replace('_', '-')}: only with --find-capacity")
        return None
    from_file = _file_settings(flags)
    if from_file.get("users") is not None:
        raise CapacityError(f"--find-capacity: {_file_name(flags)} sets users; a capacity search "
                            f"sets arrival rates, not users: drop users from it")
    for key, problem in (("resume", "a capacity search cannot be resumed; start it again"),
                         ("users", "a capacity search sets arrival rates, not users; drop "
                                   "--users"),
                         ("repeats", "a capacity search repeats only its deciding rates; use "
                                     "--capacity-repeats"),
                         ("fail_fast", "a capacity search runs failing rates on purpose; drop "
                                       "--fail-fast")):
        if flags.get(key) is not None:
            raise CapacityError(f"--find-capacity with --{key.replace('_', '-')}: {problem}")
    spec: dict[str, Any] = {}
    if given["capacity_resolution"] is not None:
        spec["resolution"] = parse_resolution(given["capacity_resolution"])
    if given["capacity_repeats"] is not None:
        spec["repeats"] = _whole(given["capacity_repeats"], "--capacity-repeats")
    if given["capacity_max_runs"] is not None:
        spec["max_runs"] = _whole(given["capacity_max_runs"], "--capacity-max-runs")
    if flags.get("arrival_rates") is None and from_file.get("arrival_rates") is None:
        flags["arrival_rates"] = f"{DEFAULT_START:g}"  # the open model's checks apply at once
    CapacitySpec(**spec)  # bad values fail before anything runs
    return spec


def _file_name(flags: dict[str, Any]) -> str:
    return str(flags.get("config_file") or PRESETS_DIR / f"{flags.get('preset')}.toml")


def _file_settings(flags: dict[str, Any]) -> dict[str, Any]:
    """What the preset or --config file sets (read again by ``resolve_config``, which reports
    its errors: an unreadable file here is left to it)."""
    if not flags.get("preset") and not flags.get("config_file"):
        return {}
    try:
        return load_toml(Path(_file_name(flags)))
    except ConfigError:
        return {}


def capacity_spec(config: SweepConfig, settings: dict[str, Any]) -> CapacitySpec:
    """The search of a resolved configuration: one starting rate, an SLO to search under."""
    if not config.slo:
        raise CapacityError("--find-capacity: give --slo, e.g. --slo 'p99<100ms' (the "
                            "objective the capacity is searched under)")
    if len(config.arrival_rates) != 1:
        raise CapacityError(f"--arrival-rate: a capacity search starts from one rate, got "
                            f"{len(config.arrival_rates)}")
    try:
        start = dimensions.parse_setting("arrival_rates", [config.arrival_rates[0]],
                                         "--arrival-rate")[0]
    except DimensionError as exc:
        raise CapacityError(str(exc)) from None
    floor = round_rate(max(MIN_RATE, config.min_requests / config.duration_s * 1.1))
    return CapacitySpec(start=float(start), min_rate=min(floor, float(start)), **settings)


def round_rate(rate: float) -> float:
    """A rate to three significant figures (point ids stay short: ``a1230-``)."""
    if rate <= 0:
        return rate
    digits = 2 - math.floor(math.log10(rate))
    return float(round(rate, digits))


@dataclass(frozen=True)
class Trial:
    """One run of the search: its rate, why it ran, whether it passed and why not."""

    rate: float
    phase: str  # bracket, bisect or repeat
    run_id: str
    passed: bool
    failed_on: tuple[str, ...] = ()  # "slo", "dropped", "verdict:<status>", "no-evidence"
    reasons: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def unusable(self) -> bool:
        """The run failed only for reasons that say nothing about its rate (``UNUSABLE``): a
        run that also missed the SLO or dropped arrivals is a failing rate (an overloaded
        service can leave too few answered requests for the verdict)."""
        return (any(kind in UNUSABLE for kind in self.failed_on)
                and not {"slo", "dropped"} & set(self.failed_on))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed_on": list(self.failed_on), "reasons": list(self.reasons)}


def judge_run(record: dict[str, Any], phase: str) -> Trial:
    """A run.json record as a trial of the search (the pass rule of the module's docstring)."""
    verdict = record.get("verdict") or {}
    status = str(verdict.get("status"))
    figures = record.get("open_model") or {}
    slo = record.get("slo") or {}
    failed_on: list[str] = []
    reasons: list[str] = []
    if slo.get("violations"):
        failed_on.append("slo")
        reasons.extend(f"SLO missed: {line}" for line in slo["violations"])
    dropped = figures.get("dropped_share")
    if not figures:
        failed_on.append("no-evidence")
        reasons.append("no open-model evidence (latency from the intended start, drops)")
    elif dropped is not None and float(dropped) > DROPPED_LIMIT:
        failed_on.append("dropped")
        reasons.append(f"dropped {figures.get('dropped')} of {figures.get('intended')} arrivals "
                       f"({float(dropped):.2%})")
    if status not in PASSING_STATUSES:
        failed_on.append(f"verdict:{status}")
        reasons.append(f"verdict {status}: " + "; ".join(verdict.get("reasons") or []))
    params = record.get("params") or {}
    requests = record.get("requests") or {}
    shown = {"status": status, "achieved_rps": requests.get("rps"),
             "offered_rps": figures.get("offered_rps"), "dropped_share": dropped,
             **{key: figures.get(key) for key in ("intended_p50_ms", "intended_p95_ms",
                                                  "intended_p99_ms", "service_p99_ms",
                                                  "lag_p99_ms")}}
    return Trial(float(params.get("arrival_rate") or 0.0), phase, str(record.get("run_id")),
                 not failed_on, tuple(failed_on), tuple(reasons), shown)


class CapacitySearch:
    """The search's state: ``next_step`` says which rate to run next, ``record`` takes its run."""

    def __init__(self, spec: CapacitySpec) -> None:
        self.spec = spec
        self.trials: list[Trial] = []
        self.stopped: str | None = None  # why the search ended (result's ``stopped``)

    # --- what the runs say ---------------------------------------------------------------------
    def runs(self, rate: float) -> list[Trial]:
        return [trial for trial in self.trials if trial.rate == rate]

    def passes(self, rate: float) -> bool | None:
        """True when every run at ``rate`` passed, False when one failed, None when untried."""
        runs = self.runs(rate)
        return None if not runs else all(trial.passed for trial in runs)

    def bracket(self) -> tuple[float | None, float | None]:
        """(highest passing rate below the lowest failing one, lowest failing rate)."""
        rates = sorted({trial.rate for trial in self.trials})
        failing = [rate for rate in rates if self.passes(rate) is False]
        high = failing[0] if failing else None
        passing = [rate for rate in rates if self.passes(rate) and (high is None or rate < high)]
        return (passing[-1] if passing else None), high

    def resolved(self) -> bool:
        low, high = self.bracket()
        return (low is not None and high is not None
                and (high - low <= self.spec.resolution * low
                     or round_rate((low + high) / 2) in (low, high)))

    # --- the next run --------------------------------------------------------------------------
    def next_step(self) -> tuple[float, str] | None:
        """(rate, phase) of the next run, or None when the search is over (``stopped`` says why)."""
        if self.stopped is not None:
            return None
        low, high = self.bracket()
        step = self._step(low, high)
        if step is not None and len(self.trials) >= self.spec.max_runs:
            self.stopped = "budget"
            return None
        return step

    def _step(self, low: float | None, high: float | None) -> tuple[float, str] | None:
        if low is None and high is None:
            return round_rate(self.spec.start), "bracket"
        if high is None:
            assert low is not None
            if low >= MAX_RATE:
                self.stopped = "no-failing-rate"
                return None
            return min(MAX_RATE, round_rate(low * GROWTH)), "bracket"
        if low is None:
            if high <= self.spec.min_rate:
                self.stopped = "no-passing-rate"
                return None
            return max(self.spec.min_rate, round_rate(high / GROWTH)), "bracket"
        if not self.resolved():
            return round_rate((low + high) / 2), "bisect"
        for rate in (low, high):
            if len(self.runs(rate)) < self.spec.repeats:
                return rate, "repeat"
        self.stopped = "resolved"
        return None

    def record(self, trial: Trial) -> None:
        """Add a run's trial (its ``rate`` is the rate ``next_step`` gave); an unusable run
        (``Trial.unusable``) ends the search."""
        self.trials.append(trial)
        if trial.unusable:
            self.stopped = "unusable-run"

    # --- the answer ----------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        """The capacity, its bracket, the runs that decided it and every run of the search."""
        low, high = self.bracket()
        rates = sorted({trial.rate for trial in self.trials})
        disagreeing = [rate for rate in rates
                       if len({trial.passed for trial in self.runs(rate)}) > 1]
        above = [rate for rate in rates if high is not None and rate > high and self.passes(rate)]
        deciding = [trial.run_id for rate in (low, high) if rate is not None
                    for trial in self.runs(rate)]
        bound = sorted({kind for trial in self.runs(high) for kind in trial.failed_on}) \
            if high is not None else []
        return {
            "capacity_rps": low,
            "interval": {"kind": INTERVAL_KIND, "low": low, "high": high,
                         "label": INTERVAL_LABEL},
            "relative_width": (high - low) / low if low and high else None,
            "resolution": self.spec.resolution,
            "resolved": self.resolved() and self.stopped == "resolved",
            "stopped": self.stopped or "running",
            "repeats": self.spec.repeats,
            "rule": RULE,
            "deciding_runs": deciding,
            "failing_rate_failed_on": bound,
            "disagreeing_rates": disagreeing,
            "passing_above_failing": above,
            "runs": len(self.trials),
            "trials": [trial.to_dict() for trial in self.trials],
        }


def describe(result: dict[str, Any]) -> str:
    """One line: ``capacity 480/s (bracket [480, 500]/s, resolved to 5%, 9 runs)``."""
    low, high = result["interval"]["low"], result["interval"]["high"]
    if low is None:
        return (f"no passing rate (lowest tried failed: {high:g}/s; stopped: "
                f"{result['stopped']}, {result['runs']} runs)")
    upper = f"{high:g}" if high is not None else "none failed"
    state = (f"resolved to {result['resolution']:.0%}" if result["resolved"]
             else f"not resolved: {result['stopped']}")
    return (f"capacity {low:g}/s ({result['interval']['kind']} [{low:g}, {upper}]/s, {state}, "
            f"{result['runs']} runs)")
