"""Benchmark: the instrumentation's CPU cost per request, in-process, and the window's edges.

No service and no network: one Locust process (this one) with a local runner, the suite's
instrumentation installed exactly as ``scenarios/locustfile.py`` installs it, and Locust's
``request`` event fired N times the way a catch_response request fires it (the product tasks'
in-flight marks around it). CPU time (``time.process_time``) per request, with and without the
instrumentation, side by side in interleaved rounds: CPU time is robust to other processes'
load, wall time is not. The variants:

- ``locust``: Locust's statistics alone; ``off``: what ``LOADBENCH_INSTRUMENTATION=off`` leaves
  on the path (Locust's statistics and ``nullcontext`` marks; the open model adds no listener to
  a closed run, so ``off`` and ``locust`` now time the same path);
- ``marks``: the in-flight marks (``_in_flight.py``) added; ``on``: the HDR recorder (``_hdr.py``)
  too, everything in the window; ``settling``: the window control's listener too
  (``_auto_window.py``, until the ramp has settled and the window opens).

A floor, not the live figure: a real Locust process adds cache misses and collections a loop
does not have (before the hot path was made cheap, this timed 2.65 µs where the live benchmark
implied 6.8 µs; README.md, "Benchmarks").

Then the event-loop probe (``_loop_probe.py``): the CPU it takes per second of an idle process,
and the window's edges: the CPU of opening the window (Locust's stats reset with every wrapper
the instrumentation adds) and of closing it (``test_stopping``: the statistics frozen, the HDR
recorder taken off the event, the in-flight, window and settle evidence written), and the settle
phase's accept-queue poll, against the CPU of the shortest
window the sweep allows (1 s) at a full core. Targets:

- the instrumentation's extra CPU per request, as a share of a request's CPU at a full core
  (``--request-us``: the uninstrumented FastHttpUser's, measured by ``make bench-scenarios``), plus
  the loop probe's share of a core: at most 5% (instrumented/uninstrumented >= 0.95);
- the edges: at most 1% of the generator's CPU over the window.

    .venv/bin/python -m bench.instrumentation_cost [--requests 200000] [--rounds 5]
                                                   [--request-us 73]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

# the probe and the evidence files need the evidence dir before the instrumentation is imported
_EVIDENCE = tempfile.mkdtemp(prefix="bench-instrumentation-")
os.environ["LOADBENCH_EVIDENCE_DIR"] = _EVIDENCE
os.environ.pop("LOADBENCH_INSTRUMENTATION", None)
# as the sweep asks a local Locust process: settle the ramp, then a fixed window (never started
# here: only its per-request listener and its accept-queue poll are timed)
_SERVICE = socket.socket()
_SERVICE.bind(("127.0.0.1", 0))
_SERVICE.listen(128)
os.environ["LOADBENCH_WINDOW"] = json.dumps({
    "min_s": 8.0, "max_s": None, "settle_max_s": 8.0, "users": 50,
    "service_port": _SERVICE.getsockname()[1]})

import gevent  # noqa: E402
from locust import events  # noqa: E402
from locust.env import Environment  # noqa: E402

from scenarios.instrumentation import TRACKER, register  # noqa: E402
from scenarios.open_model import locust_hooks as open_model  # noqa: E402

TARGET_RATIO = 0.95
EDGE_LIMIT = 0.01
WINDOW_S = 1.0  # the shortest window the sweep takes (--duration 1s)
NAME = "GET /products/{id}"


def _environment() -> tuple[Environment, Any]:
    """A local runner with the locustfile's listeners (the instrumentation, the open model)."""
    register(events, tasks_mark_requests=True)
    open_model.register(events, ())
    environment = Environment(events=events, user_classes=[])
    runner = environment.create_local_runner()
    events.init.fire(environment=environment, runner=runner, web_ui=None)
    return environment, runner


def _fire_n(environment: Environment, marks: Any, n: int) -> float:
    """CPU seconds of n requests: a mark around a catch_response request's event."""
    fire = environment.events.request.fire
    response = object()
    context: dict[str, Any] = {}
    began = time.process_time()
    for i in range(n):
        with marks():
            fire(request_type="GET", name=NAME, response_time=0.5 + (i & 1023) / 1000.0,
                 response_length=120, response=response, context=context, exception=None,
                 start_time=0.0, url="http://127.0.0.1/products/seed-000001")
    return time.process_time() - began


def _requests(environment: Environment, runner: Any, n: int,
              rounds: int) -> dict[str, float]:
    """Median CPU µs per request of each variant, over rounds in rotating order.

    ``locust``: Locust's statistics alone; ``off``: what ``LOADBENCH_INSTRUMENTATION=off`` leaves
    (the same path: a closed run has no open-model listener); ``marks``: plus the in-flight marks;
    ``on``: plus the HDR recorder (everything in the window, as in a sweep); ``settling``: plus
    the window control's listener, which counts requests until the ramp has settled."""
    request = environment.events.request
    def named(qualname: str) -> list[Any]:
        return [h for h in request._handlers if getattr(h, "__qualname__", "") == qualname]

    hdr, pool = named("Recorder.record"), named("ArrivalPool.on_request")
    settle = named("WindowControl.on_request")  # only until the window opens
    variants: dict[str, tuple[Any, list[Any]]] = {  # marks, listeners taken off
        "locust": (nullcontext, hdr + pool + settle), "off": (nullcontext, hdr + settle),
        "marks": (TRACKER.request, hdr + settle), "on": (TRACKER.request, settle),
        "settling": (TRACKER.request, [])}
    per: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            marks, taken_off = variants[name]
            runner.stats.reset_all()
            for handler in taken_off:
                request.remove_listener(handler)
            try:
                per[name].append(_fire_n(environment, marks, n) / n * 1e6)
            finally:
                for handler in taken_off:
                    request.add_listener(handler)
    return {name: statistics.median(values) for name, values in per.items()}


def _probe_share(seconds: float) -> tuple[float, float]:
    """CPU seconds per second of this idle process without the loop probe, then with it."""
    from scenarios.instrumentation import start_loop_probe

    def idle_cpu() -> float:
        began = time.process_time()
        gevent.sleep(seconds)
        return (time.process_time() - began) / seconds

    without = idle_cpu()
    start_loop_probe("local")
    gevent.sleep(0.05)
    return without, idle_cpu()


def _poll_ms(environment: Environment, polls: int = 200) -> tuple[float, float] | None:
    """CPU ms of one settle-phase poll of the service's accept queue (the window control reads
    /proc/net/tcp every POLL_S s until the ramp has settled), and POLL_S; None without it."""
    controls = [h.__self__ for h in environment.events.request._handlers
                if getattr(h, "__qualname__", "") == "WindowControl.on_request"]
    if not controls:
        return None
    module = sys.modules[type(controls[0]).__module__]  # the control's own module and reader
    read, port = module.accept_queue, int(controls[0].spec["service_port"])
    began = time.process_time()
    for _ in range(polls):
        read(port)
    return (time.process_time() - began) / polls * 1000.0, float(module.POLL_S)


def _edges(environment: Environment, runner: Any, n: int, rounds: int) -> list[float]:
    """CPU seconds of each window's two edges (open: the stats reset; close: test_stopping)."""
    costs = []
    for _ in range(rounds):
        environment.events.test_start.fire(environment=environment)
        _fire_n(environment, TRACKER.request, n // 10)  # a ramp's requests, then the window
        began = time.process_time()
        runner.stats.reset_all()
        opened = time.process_time() - began
        _fire_n(environment, TRACKER.request, n)
        began = time.process_time()
        environment.events.test_stopping.fire(environment=environment)
        closed = time.process_time() - began
        costs.append(opened + closed)
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--request-us", type=float, default=73.0,
                        help="CPU µs of one uninstrumented request at a full core (the live "
                             "benchmark's FastHttpUser: 1e6 / its req/s per core)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.requests} requests "
          f"per round, {args.rounds} rounds interleaved; CPU time (process_time)")
    environment, runner = _environment()
    costs = _requests(environment, runner, args.requests, args.rounds)
    extra = costs["on"] - costs["off"]
    print(f"request path, CPU µs per request (medians): Locust's statistics alone "
          f"{costs['locust']:.2f}; instrumentation off (the same path, a second time) "
          f"{costs['off']:.2f}; with the in-flight marks {costs['marks']:.2f}; with the HDR "
          f"recorder too (on) {costs['on']:.2f}: the instrumentation's {extra:.2f}; while the "
          f"ramp settles {costs['settling']:.2f}")
    idle_without, idle_with = _probe_share(2.0)
    probe = max(0.0, idle_with - idle_without)
    print(f"loop probe: {1000 * idle_without:.2f} ms/s idle without, {1000 * idle_with:.2f} "
          f"ms/s with: {100 * probe:.3f}% of a core")
    # at a full core the uninstrumented generator spends request_us per request; the
    # instrumented one spends request_us + extra, and the probe takes its share off the top
    ratio = (1.0 - probe) * args.request_us / (args.request_us + extra)
    request_ok = ratio >= TARGET_RATIO
    print(f"instrumented/uninstrumented requests per CPU-second at {args.request_us:g} µs per "
          f"request: {ratio:.4f}  (target >= {TARGET_RATIO}) {'PASS' if request_ok else 'FAIL'}")
    settling = costs["settling"] - costs["on"]
    poll = _poll_ms(environment)
    if poll is not None:
        poll_ms, poll_s = poll
        rate = 1e6 / (args.request_us + extra + settling)  # requests per CPU-second
        share = settling * rate / 1e6 + poll_ms / 1000.0 / poll_s
        print(f"settle phase (until the window opens): the window control's listener "
              f"{settling:.2f} µs per request, its accept-queue poll {poll_ms:.3f} ms CPU every "
              f"{poll_s:g} s: {100 * share:.2f}% of a full core, outside the window")
    window_requests = int(WINDOW_S * 1e6 / (args.request_us + extra))
    edge_costs = _edges(environment, runner, window_requests, args.rounds)
    edge = statistics.median(edge_costs)
    share = edge / WINDOW_S
    edge_ok = share <= EDGE_LIMIT
    print(f"window edges (open + close, {window_requests} requests in a {WINDOW_S:g} s window at "
          f"a full core): {1000 * edge:.3f} ms CPU (rounds "
          f"{' '.join(f'{1000 * c:.3f}' for c in edge_costs)}), {100 * share:.3f}% of the "
          f"window's CPU  (limit {100 * EDGE_LIMIT:g}%) {'PASS' if edge_ok else 'FAIL'}")
    print(f"evidence written at the edges: "
          f"{', '.join(sorted(p.name.split('-')[0] for p in Path(_EVIDENCE).iterdir()))}")
    shutil.rmtree(_EVIDENCE, ignore_errors=True)
    return 0 if request_ok and edge_ok else 1


if __name__ == "__main__":
    sys.exit(main())
