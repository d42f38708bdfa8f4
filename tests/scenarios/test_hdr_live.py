"""Live: sub-millisecond HDR p50s from the locustfile agree with wrk's, once the client's floor
is accounted for (real service, real headless Locust, real wrk; about 17 s).

Each client adds its own time to what it measures. The floor of Locust's FastHttpUser beyond
wrk's is measured here against a trivial endpoint (``GET /health``) on the same loopback path:
floor = Locust p50 - wrk p50 at /health. For ``GET /products/{id}``, Locust's HDR p50 minus that
floor must then equal wrk's p50 within TOLERANCE_MS. Locust runs one user that alternates the
two requests (one connection, closed loop, no wait); wrk runs one connection per endpoint, its
/health run before and after the product's; both on the CPU the service is not pinned to.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.histograms import hdr_percentile, percentile, to_histogram
from analysis.loading import read_hdr_evidence
from bench.pinned_service import fresh_service, seed_service
from bench.wrk import run_wrk, seeded_ids_script

pytestmark = [pytest.mark.load,
              pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed")]

REPO = Path(__file__).resolve().parents[2]
SEEDS = 200
SECONDS = 2  # Locust's run: about 2,000 requests of each kind, a p50 far finer than the margin
WRK_SECONDS = 1  # wrk's product run: thousands of requests; a short bracket drifts less
WRK_HEALTH_SECONDS = 1  # twice per round, around the product's run
ROUNDS = 3  # medians of three alternated rounds
# Agreement after subtracting the floor: 0.1 ms or 25% of wrk's p50, whichever is larger.
# Measured on the 2-core machine (2026-12-01, load average 6-8 from other test suites), single
# rounds: wrk p50 0.17-0.42 ms, Locust HDR p50 0.33-1.28 ms, floor 0.19-1.03 ms, corrected p50
# within 0.002-0.065 ms of wrk's in 6 rounds of 7, 0.185 ms in the seventh (a burst of load
# between the Locust and the wrk runs); hence medians of three alternated rounds. With two
# concurrent users instead of one alternating user, the service's time overlapped the client's
# and the gap was 0.08-0.25 ms.
TOLERANCE_MS = 0.1
TOLERANCE_SHARE = 0.25

LOCUSTFILE = '''
import os, random, sys
sys.path.insert(0, os.environ["LOADBENCH_REPO"])
from locust import FastHttpUser, constant, events, task
from scenarios.instrumentation import install_hdr

SEEDS = int(os.environ["LOADBENCH_SEEDS"])


class Alternating(FastHttpUser):
    """One user, one connection: a trivial request, then a product, strictly in turn."""

    wait_time = constant(0)

    @task
    def both(self):
        self.client.get("/health", name="GET /health")
        self.client.get(f"/products/seed-{random.randint(1, SEEDS):06d}",
                        name="GET /products/{id}")


@events.init.add_listener
def _init(environment, runner=None, web_ui=None, **_kwargs):
    install_hdr(environment, runner, web_ui)  # the scenarios' recording, as in locustfile.py
'''


def _cpus() -> tuple[list[int] | None, list[int] | None]:
    cpus = sorted(os.sched_getaffinity(0))
    return ([cpus[0]], [cpus[1]]) if len(cpus) >= 2 else (None, None)


@pytest.fixture(scope="module")
def pinned_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service_cpus, _ = _cpus()
    logs = tmp_path_factory.mktemp("hdr-live")
    with fresh_service(service_cpus, logs / "service.log") as (url, _pid):
        seed_service(url, SEEDS)
        yield url


def _locust(url: str, out: Path) -> dict[str, tuple[float, float]]:
    """Per endpoint: HDR p50 (ms) and Locust's own p50 (ms), from one user alternating them."""
    _, client_cpus = _cpus()
    locustfile = out / "live_locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    evidence = out / "evidence"
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
               "-u", "1", "-r", "1", "-t", f"{SECONDS}s", "--host", url, "--reset-stats",
               "--json-file", str(out / "locust"), "--only-summary"]
    if client_cpus:
        command[:0] = ["taskset", "-c", ",".join(map(str, client_cpus))]
    env = {**os.environ, "LOADBENCH_EVIDENCE_DIR": str(evidence), "LOADBENCH_REPO": str(REPO),
           "LOADBENCH_SEEDS": str(SEEDS)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    histograms = read_hdr_evidence(evidence)
    assert histograms is not None
    figures = {}
    for entry in json.loads((out / "locust.json").read_text()):
        histogram = histograms[(entry["method"], entry["name"])]
        count = histogram.get_total_count()
        assert count == entry["num_requests"], (entry["name"], count, entry["num_requests"])
        assert count > 100, (entry["name"], count)  # enough for a p50 on a busy machine
        figures[entry["name"]] = (hdr_percentile(histogram, 0.5),
                                  percentile(to_histogram(entry["response_times"]), 0.5))
    return figures


def _wrk_bracket(url: str) -> tuple[float, float, float]:
    """wrk p50s (ms), one connection each, in turn: /health, /products/{id}, /health again.

    The product's reference is the mean of the two /health runs around it, so a load from
    elsewhere that rises or falls steadily across the three runs cancels out of the difference;
    what it does not cancel is at most half the gap between the two /health figures.
    """
    _, client_cpus = _cpus()
    results = (run_wrk(f"{url}/health", seconds=WRK_HEALTH_SECONDS, connections=1,
                       cpus=client_cpus),
               run_wrk(f"{url}/products/", seconds=WRK_SECONDS, connections=1, cpus=client_cpus,
                       lua=seeded_ids_script(SEEDS)),
               run_wrk(f"{url}/health", seconds=WRK_HEALTH_SECONDS, connections=1,
                       cpus=client_cpus))
    assert all(result.non_2xx == 0 and result.requests > 100 for result in results), results
    return results[0].p50_ms, results[1].p50_ms, results[2].p50_ms


def test_sub_millisecond_p50_agrees_with_wrk_after_the_client_floor(
        pinned_service: str, tmp_path: Path) -> None:
    # Each tool's difference between the product and /health is what is compared: Locust's
    # comes from one user alternating the two requests (the same moments), wrk's from runs
    # bracketed in time (_wrk_bracket). Locust p50 - floor - wrk p50 is exactly that
    # difference of differences, so a change of load between the Locust and the wrk runs
    # cancels; comparing the four medians instead let host drift invert wrk's reference
    # (its /health slower than Locust's, a negative floor).
    rounds = []  # per round: Locust /health, product, Locust's own; wrk /health, product; drift
    for index in range(ROUNDS):  # alternated, so a burst of load elsewhere hits both clients
        out = tmp_path / f"round-{index}"
        out.mkdir()
        locust = _locust(pinned_service, out)
        health_before, wrk_product, health_after = _wrk_bracket(pinned_service)
        rounds.append((locust["GET /health"][0], *locust["GET /products/{id}"],
                       (health_before + health_after) / 2, wrk_product,
                       abs(health_after - health_before) / 2))
    floors = [locust_health - wrk_health for locust_health, _, _, wrk_health, _, _ in rounds]
    corrections = [product - floor for (_, product, *_), floor in zip(rounds, floors, strict=True)]
    gaps = [corrected - wrk for corrected, (*_, wrk, _) in zip(corrections, rounds, strict=True)]
    locust_health, locust_product, locust_own, wrk_health, wrk_product, drift = (
        statistics.median(values) for values in zip(*rounds, strict=True))
    floor, corrected, gap = (statistics.median(values) for values in (floors, corrections, gaps))
    # the agreement claimed, plus what the bracket cannot cancel (the instrument's resolution
    # on this shared machine, measured in the same rounds)
    tolerance = max(TOLERANCE_MS, TOLERANCE_SHARE * wrk_product) + drift
    figures = (f"Locust HDR p50: product {locust_product:.3f} ms, /health {locust_health:.3f} ms;"
               f" wrk p50: product {wrk_product:.3f} ms, /health {wrk_health:.3f} ms "
               f"(drift {drift:.3f}); floor {floor:.3f} ms; corrected {corrected:.3f} ms, gap "
               f"{gap:+.3f} ms per round {[round(g, 3) for g in gaps]} (tolerance "
               f"{tolerance:.3f}); Locust's own p50 {locust_own:g} ms")
    print(figures)
    # sub-millisecond once the floor is off, and resolved: Locust's own histogram has whole
    # milliseconds below 100 ms, so it can only say 0 or 1 (or more on a busy machine)
    assert 0 < corrected < 1.0 and wrk_product < 1.0, figures
    assert locust_own == round(locust_own), figures
    assert abs(gap) <= tolerance, figures
