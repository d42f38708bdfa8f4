"""``--service-cpu auto``: size the service's CPU envelope so that the service saturates first.

Machines differ 3-5x in speed, so no fixed vCPU figure puts the service, not the generator, at
the limit everywhere. Before the sweep, on the machine at hand and with the sweep's own pinning,
one short probe per user class and mix (``PROBE_USERS`` users or more, no wait,
``PROBE_WINDOW_S``) measures:

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

The probes run in the conditions the sweep will use (issue 20: probes of an unlimited service
with no delay chose 0.033 to 0.12 vCPU on one machine and day). Both costs depend on them: on
2026-12-04 the service's cost per HttpUser request was 0.043-0.055 ms unlimited and 0.050-0.100
ms under a quota of 0.038-0.07 vCPU (it runs in bursts, then waits for the next period), and a
delay changes how many requests are in flight. So the sizing is a fixed point,
in up to ``ROUNDS`` rounds on one fresh service: the first probes it without a quota (a first
guess), each later one under the quota of the guess before it, in a CPU envelope with the
sweep's period (``--cpu-period``, the period and quota read back as applied), all behind the
delaying proxy with the sweep's smallest ``--rtt-delay`` (the busiest service: the lowest cost
per request), with enough users to fill the guessed capacity through the delay. The service's
CPU is read to the nanosecond (the scheduler's statistics): under a 4 ms quota a probe's
service spends about 130 ms of CPU, which clock ticks of 10 ms would blur by several percent.
It stops when a round chooses within ``CONVERGED`` of the quota it ran under. Every round is
recorded (``rounds``). ``bench/auto_envelope.py`` runs the sizing three times and prints the
spread.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import psutil

from runmodel.delays import DelaySpec
from scenarios.runner.config import SweepConfig, mix_weights
from scenarios.runner.generator import LocustForkServer, LocustOptions, short_run
from scenarios.runner.target import (
    CpuEnvelope,
    CpuLimitError,
    DelayProxy,
    TargetError,
    parse_rtt_delay,
    seed_pipelined,
    start_proxy,
    start_service,
)
from scenarios.user_classes import USER_CLASSES

GENERATOR_SHARE = 0.4  # of one core, per Locust process, at the service's saturation
PROBE_USERS = 20  # at least; more behind a delay (``probe_users``)
MAX_PROBE_USERS = 200
PROBE_WINDOW_S = 3.0
MIN_VCPU = 0.01
ROUNDS = 3  # the unlimited first guess, then up to two rounds under the guessed quota
CONVERGED = 0.10  # a round that chooses within this share of its own quota ends the sizing


class AutoEnvelopeError(RuntimeError):
    """The probes could not measure what the sizing needs; the message is one line."""


def _schedstat_s(pid: int) -> float | None:
    """The CPU time of every live thread of ``pid`` in seconds, to the nanosecond (Linux's
    ``/proc/PID/task/*/schedstat``), or None where it cannot be read."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def _tree_cpu_s(pid: int) -> float:
    """The CPU time of a process and its descendants: to the nanosecond where the kernel's
    scheduler statistics can be read (a service under a 4 ms quota spends about 130 ms of CPU in
    a probe: the 10 ms ticks of ``/proc/PID/stat`` would blur it by several percent), else in
    clock ticks (psutil)."""
    try:
        root = psutil.Process(pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            precise = _schedstat_s(process.pid)
            if precise is None:
                times = process.cpu_times()
                precise = times.user + times.system
            total += precise
        return total
    except psutil.Error:
        return math.nan


def _probe(server: LocustForkServer, url: str, service_pid: int, short_name: str,
           mix_args: list[str], config: SweepConfig, cpus: list[int] | None,
           users: int = PROBE_USERS) -> dict[str, Any]:
    service_cpu: dict[str, float] = {}

    def on_edge(edge: str) -> None:
        service_cpu[edge] = _tree_cpu_s(service_pid)

    options = LocustOptions(config.locustfile, url, USER_CLASSES[short_name], users,
                            float(users), PROBE_WINDOW_S + 1, mix_args, "none",
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


class ProbeTarget:
    """One fresh service (seeded unlimited), behind the delay when there is one, and one Locust
    fork server: every round's probes run against it, the envelope set between rounds."""

    def __init__(self, config: SweepConfig, placement: dict[str, Any], service_log: Path,
                 delay: DelaySpec | None = None) -> None:
        self.config, self.placement = config, placement
        self.service = start_service(service_log, 1, placement.get("service_cpus"))
        self.server: LocustForkServer | None = None
        self.proxy: DelayProxy | None = None
        self.envelope: CpuEnvelope | None = None
        try:
            self.service.wait_healthy()
            seed_pipelined(self.service.url, config.seed_products)  # unlimited: quick
            if delay is not None:
                self.proxy = start_proxy(self.service.url, delay, placement.get("service_cpus"))
            self.server = LocustForkServer()
        except BaseException:
            self.close()
            raise
        self.url = self.proxy.url if self.proxy else self.service.url

    def limit(self, vcpu: float, period_ms: float) -> dict[str, int | None]:
        """Put the service in a CPU envelope of ``vcpu`` (made on first use); the period and
        quota the kernel holds, read back."""
        if self.envelope is None:
            try:
                self.envelope = CpuEnvelope(period_ms)
            except CpuLimitError as exc:
                raise AutoEnvelopeError(f"--service-cpu auto: {exc}") from None
            self.envelope.admit(self.service.process.pid)
        self.envelope.set_limit(vcpu)
        return self.envelope.applied()

    def probe_all(self, classes: list[str], users: int = PROBE_USERS
                  ) -> dict[str, dict[str, Any]]:
        """One probe per class and mix (keys ``class/mix``)."""
        assert self.server is not None
        config = self.config
        probes: dict[str, dict[str, Any]] = {}
        for short_name in classes:
            for mix in mix_weights(config):
                mix_args = ["--weights", config.weights] if config.weights else ["--mix", mix]
                probes[f"{short_name}/{mix}"] = _probe(
                    self.server, self.url, self.service.process.pid, short_name, mix_args,
                    config, self.placement.get("generator_cpus"), users)
        return probes

    def close(self) -> None:
        if self.envelope is not None:
            self.envelope.close()
        if self.server is not None:
            self.server.close()
        if self.proxy is not None:
            self.proxy.stop()
        self.service.stop()


def probe_unlimited(config: SweepConfig, placement: dict[str, Any], service_log: Path,
                    classes: list[str]) -> dict[str, dict[str, Any]]:
    """One probe per class and mix against one fresh, unlimited service with no delay."""
    target = ProbeTarget(config, placement, service_log)
    try:
        return target.probe_all(classes)
    finally:
        target.close()


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


def probe_delay(config: SweepConfig) -> DelaySpec | None:
    """The delay the probes run behind: the sweep's smallest (None: a point without one)."""
    specs = [parse_rtt_delay(value) for value in config.rtt_delay]
    if not specs or any(spec is None for spec in specs):
        return None
    return min((spec for spec in specs if spec is not None), key=lambda spec: spec.mean_ms)


def probe_users(capacity_rps: float | None, delay: DelaySpec | None) -> int:
    """Users enough to keep a service of ``capacity_rps`` busy through ``delay`` (1.5 times
    capacity x (delay + 2 ms)), at least ``PROBE_USERS``, at most ``MAX_PROBE_USERS``."""
    if delay is None or not capacity_rps:
        return PROBE_USERS
    wanted = math.ceil(1.5 * capacity_rps * (delay.mean_ms + 2.0) / 1000.0)
    return max(PROBE_USERS, min(MAX_PROBE_USERS, wanted))


def _choose(probes: dict[str, dict[str, Any]]) -> tuple[float, str]:
    """The vCPUs the probes choose (the tightest probe's, two figures, rounded down)."""
    _size_probes(probes)
    tightest = min(probes, key=lambda key: probes[key]["vcpu_at_share"])
    vcpu = max(MIN_VCPU, _two_figures_down(probes[tightest]["vcpu_at_share"]))
    for probe in probes.values():
        probe["vcpu_at_share"] = round(probe["vcpu_at_share"], 4)
    return vcpu, tightest


def converged(chosen: float, probed_at: float | None) -> bool:
    """A round run under ``probed_at`` vCPUs that chose ``chosen`` ends the sizing."""
    return probed_at is not None and abs(chosen - probed_at) <= CONVERGED * probed_at


def size_service_cpu(config: SweepConfig, placement: dict[str, Any],
                     log_dir: Path) -> dict[str, Any]:
    """Probe the generator and the service here, under the quota and the delay the sweep will
    use (module docstring); the chosen vCPUs and the figures behind it, every round's too."""
    delay = probe_delay(config)
    rounds: list[dict[str, Any]] = []
    guess: float | None = None
    capacity: float | None = None
    try:
        target = ProbeTarget(config, placement, log_dir / "auto-envelope-service.log", delay)
    except (TargetError, OSError, RuntimeError) as exc:
        raise AutoEnvelopeError(f"--service-cpu auto: {exc}") from None
    try:
        for number in range(1, ROUNDS + 1):
            applied: dict[str, int | None] = {}
            try:
                if guess is not None:
                    applied = target.limit(guess, config.cpu_period_ms)
                users = probe_users(capacity, delay)
                probes = target.probe_all(config.user_classes, users)
            except CpuLimitError as exc:
                raise AutoEnvelopeError(f"--service-cpu auto: round {number}: {exc}") from None
            vcpu, tightest = _choose(probes)
            rounds.append({"round": number, "probed_vcpu": guess,
                           "period_us": applied.get("period_us"),
                           "quota_us": applied.get("quota_us"),
                           "rtt_delay": delay.value if delay else "none",
                           "users": users, "vcpu": vcpu, "tightest": tightest,
                           "probes": probes})
            if converged(vcpu, guess):
                break
            service_ms = probes[tightest]["service_cpu_ms_per_request_used"]
            capacity = vcpu / (service_ms / 1000.0) if service_ms else None
            guess = vcpu
    finally:
        target.close()
    last = rounds[-1]
    return {"vcpu": last["vcpu"], "label": f"{last['vcpu']:g}",
            "generator_share": GENERATOR_SHARE, "probe_users": last["users"],
            "probe_window_s": PROBE_WINDOW_S, "tightest": last["tightest"],
            "probes": last["probes"], "under_quota": last["probed_vcpu"] is not None,
            "converged": converged(last["vcpu"], last["probed_vcpu"]),
            "rtt_delay": last["rtt_delay"], "rounds": rounds}
