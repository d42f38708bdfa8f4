"""A run's run.json (results/README.md): its parameters, timing, CPU evidence and verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runmodel.latency_split import from_blocks as latency_split
from runmodel.littles_law import closed_model
from runmodel.records import RunRecord
from scenarios.open_model import evidence as open_model_evidence
from scenarios.runner.config import Objective, Point, SweepConfig, pacing_params, violations
from scenarios.runner.evidence import (
    CpuSample,
    LatenessSecond,
    RunFacts,
    Thresholds,
    censored,
    judge,
    read_settle,
    settle_warning,
    steady_state,
    summarise,
    window_blocks,
    window_seconds,
)
from scenarios.runner.generator import aggregated_figures
from scenarios.runner.record._results_io import SCHEMA_VERSION, utc_iso


@dataclass(kw_only=True)
class RunOutcome:
    """What one Locust run (local or on a remote master) left behind; built by field name."""

    run_dir: Path
    host: str
    started_at: float
    ended_at: float
    window_start: float | None
    window_end: float | None
    exit_code: int | None  # None for a remote master: it has no exit code of its own
    interrupted: bool
    failure_note: str | None
    samples: list[CpuSample] = field(default_factory=list)
    busy: dict[str, list[float]] = field(default_factory=dict)  # role -> host CPU busy per sample
    commands: list[list[str]] = field(default_factory=list)
    remote_generator: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # added to run.json as is
    sample_interval_s: float = 1.0
    generator_host: list[tuple[float, float]] = field(default_factory=list)
    generator_cpu_count: int = 0
    lateness: dict[str, list[LatenessSecond]] | None = None  # None: not expected (remote)
    sampler_errors: list[dict[str, Any]] = field(default_factory=list)
    in_flight: dict[str, Any] | None = None  # the generator's own count (_evidence.read_in_flight)
    # each Locust process's event-loop stalls: (stopped_at, stall_ms), evidence/stalls-*.csv
    stalls: dict[str, list[tuple[float, float]]] | None = None

    @property
    def window_s(self) -> float | None:
        if self.window_start is None or self.window_end is None:
            return None
        return self.window_end - self.window_start


def _throttled_ratio(cpu_limit: dict[str, Any] | None) -> float | None:
    """The share of the envelope's periods in the window that were throttled, if limited."""
    if not cpu_limit or cpu_limit.get("quota_us") is None:
        return None
    counted = cpu_limit.get("throttling") or {}
    ratio = counted.get("throttled_ratio")
    return float(ratio) if ratio is not None else None


def _float(row: dict[str, Any] | None, column: str) -> float | None:
    try:
        return float(row[column]) if row and row[column] is not None else None
    except (KeyError, ValueError):
        return None


MOSTLY = 0.5  # a client-seen mean more than half client overhead is "mostly the client's"


def client_overhead(client_mean_ms: float | None, server: dict[str, Any] | None,
                    calibration: dict[str, Any] | None,
                    network_delay_ms: float | None = None) -> tuple[dict[str, Any], str | None]:
    """The run.json ``client_overhead`` block, and a warning when the figure is mostly client.

    ``network_delay_ms``: the delay the delaying proxy added per request (latency_split's
    part), which is neither the service's nor the client's: it is left out of the overhead."""
    load = (server or {}).get("load") or {}
    server_ms = load.get("mean_ms") if (server or {}).get("available") else None
    floor = (calibration or {}).get("floor_ms")
    block: dict[str, Any] = {"client_mean_ms": client_mean_ms, "server_mean_ms": server_ms,
                             "calibrated_floor_ms": floor,
                             "calibrated_cpu_ms_per_request":
                                 (calibration or {}).get("cpu_ms_per_request"),
                             "overhead_ms": None, "overhead_share": None, "mostly_client": None}
    if not client_mean_ms:
        return block, None
    if server_ms is not None:
        overhead = client_mean_ms - server_ms
        basis = f"server-side mean {server_ms:.3f} ms"
    elif floor is not None:
        overhead = min(client_mean_ms, floor)
        basis = "no server-side figure"
    else:
        return block, None
    if floor is not None:
        basis += f", calibrated client floor {floor:.3f} ms"
    if network_delay_ms and server_ms is not None:
        overhead -= network_delay_ms
        basis += f", less the {network_delay_ms:.3f} ms of added network delay"
        block["network_delay_ms"] = round(network_delay_ms, 4)
    share = overhead / client_mean_ms
    block.update(overhead_ms=round(overhead, 4), overhead_share=round(share, 3),
                 mostly_client=share > MOSTLY)
    if share <= MOSTLY:
        return block, None
    return block, (f"client overhead: {overhead:.3f} ms of the {client_mean_ms:.3f} ms "
                   f"client-seen mean ({share:.0%}) is outside the service ({basis}): the "
                   f"figure is mostly the client's")


def build_record(point: Point, processes: int, attempt: int, outcome: RunOutcome,
                 config: SweepConfig, thresholds: Thresholds, objectives: list[Objective],
                 placement: dict[str, Any], with_service: bool,
                 calibration: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run.json of one run, with ``final`` false until the runner decides."""
    window_s = outcome.window_s
    row = aggregated_figures(outcome.run_dir, window_s)
    total = int(float(row["Request Count"])) if row else None
    failures = int(float(row["Failure Count"])) if row else 0
    exit_code = 0 if outcome.remote_generator and outcome.exit_code is None else outcome.exit_code
    pacing = pacing_params(config)
    open_model = open_model_figures(outcome.run_dir) if point.arrival_rate is not None else None
    # an open-model point's SLO percentiles are its latency from the intended start
    intended = intended_percentile(outcome.run_dir) if open_model is not None else None
    slo_row = row if intended is None or row is None else {**row, "percentile": intended}
    window = ((outcome.window_start, outcome.window_end)
              if outcome.window_start is not None and outcome.window_end is not None else None)
    seconds = (window_seconds(outcome.run_dir / "locust_stats_history.csv", *window)
               if window is not None else [])
    floor = (calibration or {}).get("floor_ms")
    client_mean = _float(row, "Average Response Time")
    facts = RunFacts(
        stalls=outcome.stalls,
        steady_state=steady_state(seconds) if window is not None else None,
        asked_rps=(point.users * float(pacing["per_user_rps"])
                   if pacing.get("kind") == "rate" and pacing.get("per_user_rps") else None),
        client_share=(min(client_mean, float(floor)) / client_mean
                      if floor is not None and client_mean else None),
        exit_code=exit_code,
        interrupted=outcome.interrupted,
        requested_window_s=config.duration_s,
        window_s=window_s,
        total_requests=total,
        failures=failures,
        samples=outcome.samples,
        remote_generator=outcome.remote_generator,
        failure_note=outcome.failure_note,
        generator_cpus_busy=outcome.busy.get("generator", []),
        service_cpus_busy=outcome.busy.get("service", []) if with_service else [],
        generator_host=outcome.generator_host,
        generator_cpu_count=outcome.generator_cpu_count,
        lateness=outcome.lateness,
        window=window,
        sampler_errors=outcome.sampler_errors,
        users=point.users,
        # an open-model point's users are a pool: Little's law uses its offered rate instead
        closed_model=closed_model(pacing.get("kind")) and point.arrival_rate is None,
        rps=_float(row, "Requests/s"),
        mean_ms=_float(row, "Average Response Time"),
        service_throttled_ratio=_throttled_ratio(outcome.extra.get("cpu_limit")),
        in_flight=outcome.in_flight,
        service_sockets=outcome.extra.get("service_sockets") or {},
        open_model=open_model,
        service_utilisation=(outcome.extra.get("remote") or {}).get("service_utilisation"),
        delay_proxy=outcome.extra.get("rtt_delay"),  # with the proxy's own figures, if any
    )
    verdict = judge(facts, thresholds)
    split = latency_split(client_mean, outcome.extra.get("server"),
                          outcome.extra.get("server_queues"), outcome.extra.get("rtt_delay"),
                          calibration)
    overhead, warning = client_overhead(_float(row, "Average Response Time"),
                                        outcome.extra.get("server"), calibration,
                                        (split or {}).get("parts_ms", {}).get("network_delay"))
    if warning:
        verdict.warnings.append(warning)
    settled = read_settle(outcome.run_dir / "evidence")  # the window's opening and length
    verdict.warnings.extend(settle_warning(settled, config.duration_max_s is not None))
    spawn_rate = point.users / config.ramp_s if config.ramp_s > 0 else float(point.users)
    host_busy = {f"{role}_cpus": values for role, values in outcome.busy.items()
                 if role == "generator" or with_service}
    return RunRecord.from_dict({  # runmodel's run.json record: checked, nothing dropped
        "schema_version": SCHEMA_VERSION, "run_id": point.run_id(processes),
        "point_id": point.point_id, "final": False, "attempt": attempt,
        "params": {
            "user_class": point.user_class, "mix": point.mix, "weights": point.weights,
            "users": point.users, "repeat": point.repeat, "processes": processes,
            "spawn_rate": spawn_rate, "ramp_s": config.ramp_s, "duration_s": config.duration_s,
            "pacing": pacing, "host": outcome.host,
            "store": point.store, "cache": point.cache, "backend": point.backend.name,
            "service_cpu": point.service_cpu, "service_vcpu": point.service_vcpu,
            "rtt_delay": point.rtt_delay,
            "payload": point.payload, "payload_bytes": point.payload_bytes,
            **({} if point.arrival_rate is None else {"arrival_rate": point.arrival_rate}),
        },
        "started_at": utc_iso(outcome.started_at), "ended_at": utc_iso(outcome.ended_at),
        "window": {
            "start": utc_iso(outcome.window_start) if outcome.window_start is not None else None,
            "end": utc_iso(outcome.window_end) if outcome.window_end is not None else None,
            "seconds": round(window_s, 3) if window_s is not None else None,
            **window_blocks(settled),
        },
        "exit_code": outcome.exit_code,
        "command": outcome.commands[0] if outcome.commands else [],
        "worker_commands": outcome.commands[1:],
        "cpu": summarise(outcome.samples, outcome.sample_interval_s, with_service=with_service,
                         host=host_busy),
        "requests": {
            "total": total, "failures": failures if row else None,
            "unexpected_failure_ratio": verdict.evidence["unexpected_failure_ratio"],
            "rps": _float(row, "Requests/s"),
            "p50_ms": _float(row, "50%"), "p95_ms": _float(row, "95%"),
            "p99_ms": _float(row, "99%"), "mean_ms": _float(row, "Average Response Time"),
            "avg_content_bytes": _float(row, "Average Content Size"),
            "avg_content_bytes_by_name": row.get("content_by_name") if row else None,
            "latency_source": row.get("latency_source") if row else None,
            "hdr_requests": row.get("hdr_requests") if row else None,
            "locust_p50_ms": _float(row, "locust_50%"),
            "locust_p95_ms": _float(row, "locust_95%"),
            # the requests open at the window's end and the percentiles they make lower bounds
            "censored": censored(outcome.run_dir / "evidence", total, {
                "p50": _float(row, "50%"), "p95": _float(row, "95%"),
                "p99": _float(row, "99%")}) if row else None,
        },
        "verdict": verdict.to_dict(),
        "client_overhead": overhead,
        # the client-seen mean attributed end to end, with its unexplained remainder
        "latency_split": split,
        "placement": {"service_cpus": placement.get("service_cpus"),
                      "generator_cpus": placement.get("generator_cpus")},
        **({} if open_model is None else {"open_model": open_model}),
        "slo": {"objectives": [o.text for o in objectives],
                "violations": violations(objectives, slo_row) if objectives else [],
                **({} if open_model is None else {"latency": "intended-start"})},
        **outcome.extra,
    }).to_dict()


def open_model_figures(run_dir: Path) -> dict[str, Any] | None:
    """An open-model point's figures from its processes' evidence (results/README.md, "Open
    model"): counts, offered and achieved rates, and the latency from the intended start, the
    service time and the schedule lag in ms; None when no process wrote any."""
    document = open_model_evidence.read(run_dir / "evidence")
    if document is None:
        return None
    figures = open_model_evidence.summary(document)
    figures["pool"] = document.get("pool")
    figures["profile"] = document.get("profile")
    figures["processes"] = document.get("sources")
    return figures


def intended_percentile(run_dir: Path) -> Callable[[float], float | None] | None:
    """The open model's latency from the intended start, as an SLO row's ``percentile``
    function (fraction -> ms), or None when no process wrote its evidence."""
    document = open_model_evidence.read(run_dir / "evidence")
    if document is None:
        return None
    histogram = open_model_evidence.decode(document["histograms"]["intended_us"])
    if histogram.get_total_count() == 0:
        return None
    return lambda fraction: open_model_evidence.percentile_ms(histogram, fraction)
