"""``--service-cpu auto``: size the service's CPU envelope so that the service saturates first.

Machines differ 3-5x in speed, so no fixed vCPU figure puts the service, not the generator, at
the limit everywhere. Before the sweep, on the machine at hand and with the sweep's own pinning,
one short probe per user class and mix (``PROBE_USERS`` users, no wait, ``PROBE_WINDOW_S``)
against an unlimited service measures:

- the generator's CPU per request (the Locust process's CPU time / requests), and
- the service's CPU per request (the service's process tree's CPU time / requests).

The service's work per request does not depend on which client sent it, but its CPU per request
does depend on how busy it is: a service that waits on a slow client (HttpUser) pays an event-loop
wake-up for nearly every request, one kept busy (FastHttpUser) handles several per wake-up, and
under its quota it is always busy. On 2026-12-02 the HttpUser probes measured 0.30-0.36 ms of
service CPU per request against FastHttpUser's 0.10-0.18 ms on the same service. So each mix's
service cost is the lowest any class's probe measured (``service_cpu_ms_per_request_used``).

A service limited to ``v`` vCPUs answers at most ``v / service_s`` requests/s; the generator
can send ``share / generator_s`` while using ``share`` of a core. The envelope is the largest
``v`` at which every (class, mix) probe's service saturates while its Locust uses at most
``GENERATOR_SHARE`` of a core: ``v = GENERATOR_SHARE x min(service_s / generator_s)``,
rounded down to two significant figures. ``GENERATOR_SHARE`` is well below the verdict's 90%
threshold because a service under a CPU quota answers in bursts (it runs for its quota, then
stalls): the generator must absorb a burst, not only the mean rate. The probes run against the
memory store; a database behind the service only makes each request cost the service more.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import psutil

from scenarios.runner.config import SweepConfig, mix_weights
from scenarios.runner.generator import LocustForkServer, LocustOptions, short_run
from scenarios.runner.target import seed_pipelined, start_service
from scenarios.user_classes import USER_CLASSES

GENERATOR_SHARE = 0.4  # of one core, per Locust process, at the service's saturation
MIN_BATCH = 25  # requests a quota must serve per period (--allow-tiny-envelope overrides)
MIN_QUOTA_US = 1000  # the kernel's smallest quota
PROBE_USERS = 20
PROBE_WINDOW_S = 3.0
MIN_VCPU = 0.01


class AutoEnvelopeError(RuntimeError):
    """The probes could not measure what the sizing needs; the message is one line."""


def _tree_cpu_s(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            times = process.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return math.nan


def _probe(server: LocustForkServer, url: str, service_pid: int, short_name: str,
           mix_args: list[str], config: SweepConfig, cpus: list[int] | None) -> dict[str, Any]:
    service_cpu: dict[str, float] = {}

    def on_edge(edge: str) -> None:
        service_cpu[edge] = _tree_cpu_s(service_pid)

    options = LocustOptions(config.locustfile, url, USER_CLASSES[short_name], PROBE_USERS,
                            float(PROBE_USERS), PROBE_WINDOW_S + 1, mix_args, "none",
                            config.seed_products, "autoenv")
    try:
        run = short_run(server, options, cpus, PROBE_WINDOW_S + 60, on_edge)
    except (OSError, RuntimeError) as exc:
        raise AutoEnvelopeError(f"--service-cpu auto: the {short_name} probe failed: "
                                f"{exc}") from None
    requests, window_s = run.requests, run.window_s
    if requests < 50 or run.locust_cpu_s is None or len(service_cpu) < 2:
        raise AutoEnvelopeError(f"--service-cpu auto: the {short_name} probe measured too little "
                                f"({requests} requests, Locust exit {run.exit_code})")
    generator_s = run.locust_cpu_s / requests
    service_s = (service_cpu["end"] - service_cpu["start"]) / requests
    if not (generator_s > 0 and service_s > 0):
        raise AutoEnvelopeError(f"--service-cpu auto: no CPU time measured in the {short_name} "
                                "probe")
    return {"requests": requests, "rps": round(requests / window_s, 1) if window_s else None,
            "generator_cpu_ms_per_request": round(generator_s * 1000, 4),
            "service_cpu_ms_per_request": round(service_s * 1000, 4),
            "service_s": service_s, "generator_s": generator_s}


def _probe_all(config: SweepConfig, placement: dict[str, Any], service_log: Path,
               classes: list[str]) -> dict[str, dict[str, Any]]:
    """One probe per class and mix (keys ``class/mix``) against one fresh, unlimited service."""
    service = start_service(service_log, 1, placement.get("service_cpus"))
    server = LocustForkServer()
    probes: dict[str, dict[str, Any]] = {}
    try:
        service.wait_healthy()
        seed_pipelined(service.url, config.seed_products)
        for short_name in classes:
            for mix in mix_weights(config):
                mix_args = ["--weights", config.weights] if config.weights else ["--mix", mix]
                probes[f"{short_name}/{mix}"] = _probe(
                    server, service.url, service.process.pid, short_name, mix_args, config,
                    placement.get("generator_cpus"))
    finally:
        server.close()
        service.stop()
    return probes


def _two_figures_down(value: float) -> float:
    exponent = math.floor(math.log10(value)) - 1
    return float(f"{math.floor(value / 10**exponent)}e{exponent}")  # exact: 0.059, not ...04


def _size_probes(probes: dict[str, dict[str, Any]]) -> None:
    """Each probe's ``vcpu_at_share`` from its generator cost and its mix's lowest service cost
    over the classes (``class/mix`` keys)."""
    lowest: dict[str, float] = {}
    for key, probe in probes.items():
        mix = key.split("/", 1)[1]
        lowest[mix] = min(lowest.get(mix, math.inf), probe["service_s"])
    for key, probe in probes.items():
        service_s = lowest[key.split("/", 1)[1]]
        generator_s = probe.pop("generator_s")
        probe.pop("service_s")
        probe["service_cpu_ms_per_request_used"] = round(service_s * 1000, 4)
        probe["vcpu_at_share"] = GENERATOR_SHARE * service_s / generator_s


def size_service_cpu(config: SweepConfig, placement: dict[str, Any],
                     log_dir: Path) -> dict[str, Any]:
    """Probe the generator and the service here; the chosen vCPUs and the figures behind it."""
    probes = _probe_all(config, placement, log_dir / "auto-envelope-service.log",
                        config.user_classes)
    _size_probes(probes)
    tightest = min(probes, key=lambda key: probes[key]["vcpu_at_share"])
    vcpu = max(MIN_VCPU, _two_figures_down(probes[tightest]["vcpu_at_share"]))
    for probe in probes.values():
        probe["vcpu_at_share"] = round(probe["vcpu_at_share"], 4)
    return {"vcpu": vcpu, "label": f"{vcpu:g}", "generator_share": GENERATOR_SHARE,
            "probe_users": PROBE_USERS, "probe_window_s": PROBE_WINDOW_S,
            "tightest": tightest, "probes": probes}


def period_and_quota(vcpu: float, period_ms: float) -> tuple[int, int]:
    """The period and quota (µs) the envelope applies for ``vcpu`` (as ``CpuEnvelope`` does)."""
    period = min(1_000_000, max(round(period_ms * 1000), math.ceil(MIN_QUOTA_US / vcpu)))
    return period, max(MIN_QUOTA_US, round(vcpu * period))


def tiny_envelopes(vcpus: list[float], period_ms: float,
                   service_ms: float) -> list[dict[str, Any]]:
    """The envelopes whose quota serves fewer than ``MIN_BATCH`` requests per period at
    ``service_ms`` of service CPU per request, each with the smallest vCPU allowed.

    Under a quota a saturated service runs for its quota and then waits for the next period: a
    quota that holds only a few requests makes every response wait a period or more, so the
    latency measured is the envelope's period, not the service (issue 20: at 0.033 vCPU the
    median latencies were whole numbers of periods)."""
    smallest = MIN_BATCH * service_ms * 1000 / (period_ms * 1000)
    found = []
    for vcpu in vcpus:
        period, quota = period_and_quota(vcpu, period_ms)
        batch = quota / (service_ms * 1000)
        if batch < MIN_BATCH:
            found.append({"vcpu": vcpu, "period_us": period, "quota_us": quota,
                          "requests_per_period": round(batch, 1),
                          "smallest_vcpu": math.ceil(smallest * 1000) / 1000})
    return found


def measure_service_cost(config: SweepConfig, placement: dict[str, Any],
                         log_dir: Path) -> dict[str, Any]:
    """The service's CPU per request here: one FastHttpUser probe per mix against an unlimited
    service (the lowest cost: a busy service handles several requests per wake-up)."""
    probes = _probe_all(config, placement, log_dir / "envelope-check-service.log", ["fast"])
    lowest = min(probe["service_s"] for probe in probes.values())
    for probe in probes.values():
        probe.pop("service_s")
        probe.pop("generator_s")
    return {"service_cpu_ms_per_request": round(lowest * 1000, 4), "probes": probes}
