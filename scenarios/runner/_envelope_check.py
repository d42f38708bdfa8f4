"""The envelope check: refuse a ``--service-cpu`` too small to serve a batch of requests per
CPU period, from the service's CPU per request measured here.

Under a quota a saturated service runs for its quota, then waits for the next period. A quota
that holds only a few requests makes every response wait a period or more, and the latency
measured is the envelope's period, not the service (issue 20: at 0.033 vCPU the median latencies
were whole numbers of periods). The kernel's smallest quota is 1 ms, so at the default 100 ms
period an envelope can be refused only where a request costs more than 1 ms / ``MIN_BATCH`` of
service CPU. The period and quota are those the envelope applies (``target.period_and_quota``).
The sweep (``scenarios/sweep.py``) runs the check before its first point; ``--service-cpu
auto`` (``_auto_envelope``) supplies its own probes' figures instead of a new measurement.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from scenarios.runner._auto_envelope import probe_unlimited
from scenarios.runner.config import SweepConfig, mix_weights
from scenarios.runner.generator import keep_in_session_cache, session_cache
from scenarios.runner.target import period_and_quota

MIN_BATCH = 25  # requests a quota must serve per period (--allow-tiny-envelope overrides)


def tiny_envelopes(vcpus: list[float], period_ms: float,
                   service_ms: float) -> list[dict[str, Any]]:
    """The envelopes whose quota serves fewer than ``MIN_BATCH`` requests per period at
    ``service_ms`` of service CPU per request, each with the smallest vCPU allowed."""
    smallest = MIN_BATCH * service_ms * 1000 / (period_ms * 1000)
    found = []
    for vcpu in vcpus:
        period, quota = period_and_quota(vcpu, round(period_ms * 1000))
        batch = quota / (service_ms * 1000)
        if batch < MIN_BATCH:
            found.append({"vcpu": vcpu, "period_us": period, "quota_us": quota,
                          "requests_per_period": round(batch, 1),
                          "smallest_vcpu": math.ceil(smallest * 1000) / 1000})
    return found


def measure_service_cost(config: SweepConfig, placement: dict[str, Any],
                         log_dir: Path) -> dict[str, Any]:
    """The service's CPU per request here: one FastHttpUser probe per mix against an unlimited
    service (the lowest cost: a busy service handles several requests per wake-up).

    Test only: a test session's sweeps share these figures per mix, locustfile, seed and CPUs
    (``session_cache``, as the calibration does): they are this machine's, whichever sweep
    measured them."""
    cpus = [",".join(map(str, placement.get(name) or [])) or "any"
            for name in ("service_cpus", "generator_cpus")]
    mixes = config.weights or "+".join(mix_weights(config))
    key = f"{mixes}|{config.locustfile}|{config.seed_products}|{cpus}"
    cached = session_cache("envelope-check-" + hashlib.sha256(key.encode()).hexdigest()[:16])
    if cached is not None and cached.is_file():
        figures: dict[str, Any] = json.loads(cached.read_text())
        return figures
    probes = probe_unlimited(config, placement, log_dir / "envelope-check-service.log", ["fast"])
    lowest = min(probe["service_s"] for probe in probes.values())
    for probe in probes.values():
        probe.pop("service_s")
        probe.pop("generator_s")
    figures = {"service_cpu_ms_per_request": round(lowest * 1000, 4), "probes": probes}
    if cached is not None:
        keep_in_session_cache(cached, figures)
    return figures
