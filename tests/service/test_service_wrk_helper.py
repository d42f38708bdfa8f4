"""bench/wrk.py, the wrk helper the benchmarks share: real wrk against the real service, 1 s."""

from __future__ import annotations

import shutil

import httpx
import pytest

from bench.wrk import WrkError, parse_wrk_output, random_path_script, run_wrk

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None,
                                reason="wrk not installed (make system-deps)")


@pytest.fixture(scope="module")
def backend() -> str:
    """The helper is what is tested here: one backend is enough."""
    return "memory"


@pytest.mark.load
def test_run_wrk_counts_requests_and_errors(service_url: str) -> None:
    for index in range(3):
        httpx.post(f"{service_url}/products",
                   json={"productId": f"wrk-{index}", "name": "w", "price": 1})
    hits = run_wrk(f"{service_url}/products/", seconds=1, connections=4,
                   lua=random_path_script("/products/wrk-", 3))
    assert hits.requests > 0 and hits.requests_per_s > 0
    assert hits.non_2xx == 0 and hits.socket_errors == 0
    assert 0 < hits.p50_ms <= hits.p99_ms
    misses = run_wrk(f"{service_url}/products/", seconds=1, connections=4,
                     lua=random_path_script("/products/absent-", 3))
    assert misses.non_2xx == misses.requests > 0


def test_unparseable_output_is_a_wrk_error() -> None:
    with pytest.raises(WrkError, match="cannot parse"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused")


def test_percentile_units_are_converted_to_ms() -> None:
    text = """Running 1s test @ http://127.0.0.1:1/
  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    2.00ms
     99%    1.50s
  1234 requests in 1.00s, 200.00KB read
Requests/sec:   1234.00
"""
    result = parse_wrk_output(text)
    assert (result.p50_ms, result.p99_ms, result.requests) == (0.812, 1500.0, 1234)
