"""One point on a remote Locust master (``--master-host``), through
scenarios/runner/generator/remote_master.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from scenarios.runner.config import USER_CLASSES, Point, SweepConfig
from scenarios.runner.evidence import CpuSample, cpu_csv
from scenarios.runner.generator import (
    RemoteMasterError,
    master_config,
    run_remote_point,
    wait_for_workers,
)
from scenarios.runner.record import RunOutcome, write_atomic
from scenarios.runner.remote._service_metrics import from_environment as service_from_environment


def check_master(config: SweepConfig, timeout_s: float = 30.0) -> dict[str, Any]:
    """Preflight: the master answers, has its workers and can label points (its options).

    Returns the master's configuration; RemoteMasterError with a clear message otherwise.
    """
    assert config.master_host is not None
    deadline = time.monotonic() + timeout_s
    while True:  # a master that is still starting refuses connections for a moment
        try:
            wait_for_workers(config.master_host, config.expect_workers,
                             max(1.0, deadline - time.monotonic()))
            break
        except RemoteMasterError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
    return master_config(config.master_host)


def run_on_master(config: SweepConfig, point: Point, run_tag: str, run_dir: Path,
                  stop_event: threading.Event) -> RunOutcome:
    """Swarm, ramp, reset, measure and download; the workers' cpu_usage is the CPU evidence."""
    assert config.master_host is not None and config.host is not None
    options: dict[str, Any] = ({"weights": config.weights} if point.mix == "custom"
                               else {"mix": point.mix})
    # user_classes is honoured by a master started with --class-picker (checked by check_master)
    options.update(pacing=config.pacing, seed_products=config.seed_products, run_tag=run_tag,
                   user_classes=USER_CLASSES[point.user_class])
    if point.payload_bytes:  # only then: a master of an older suite still accepts the rest
        options["payload_bytes"] = point.payload_bytes
    spawn_rate = point.users / config.ramp_s if config.ramp_s > 0 else float(point.users)
    started = time.time()
    remote = {"master_host": config.master_host, "expect_workers": config.expect_workers}
    try:
        result = run_remote_point(config.master_host, config.expect_workers, point.users,
                                  spawn_rate, config.ramp_s, config.duration_s, config.host,
                                  options, run_dir, stop_event)
    except RemoteMasterError as exc:
        write_atomic(run_dir / "cpu.csv", cpu_csv([]))
        return RunOutcome(run_dir=run_dir, host=config.host, started_at=started,
                          ended_at=time.time(), window_start=None, window_end=None,
                          exit_code=None, interrupted=stop_event.is_set(), failure_note=str(exc),
                          remote_generator=True, extra={"remote": remote})
    samples = [CpuSample(row["t"], "generator", 0, row["name"], row["cpu_percent"], "",
                         bool(row["in_window"])) for row in result.cpu_rows()]
    write_atomic(run_dir / "cpu.csv", cpu_csv(samples))
    remote.update(ramp_done_at=result.ramp_done_at, missing_files=result.missing,
                  registered_workers=result.registered_workers)
    # The service's CPU and memory over the window (CloudWatch), where the sweep task names it
    utilisation = service_from_environment(result.window_start, result.window_end)
    if utilisation is not None:
        remote["service_utilisation"] = utilisation
    return RunOutcome(run_dir=run_dir, host=config.host, started_at=result.swarm_at,
                      ended_at=result.stopped_at, window_start=result.window_start,
                      window_end=result.window_end, exit_code=None,
                      interrupted=result.interrupted, failure_note=None, samples=samples,
                      busy={}, commands=[], remote_generator=True, extra={"remote": remote})
