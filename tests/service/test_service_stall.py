"""The test-only stall switch (LOADBENCH_TEST_SERVICE_STALL): every route stops answering during
each stall and only then; the separate metrics listener keeps answering, and connections
opened during a stall show their wait in the accept-queue histogram."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx

from tests.conftest import free_port

if TYPE_CHECKING:
    from tests.conftest import ServiceFactory

STALL_S, PERIOD_S = 0.5, 2.0


def _phase(t: float) -> float:
    return t % PERIOD_S


def _sleep_until_phase(phase: float) -> None:
    time.sleep((phase - _phase(time.time())) % PERIOD_S)


def test_every_request_stalls_in_the_window_and_only_then(
        service_factory: ServiceFactory) -> None:
    metrics_port = free_port()
    service = service_factory("--no-access-log", "--metrics-port", str(metrics_port),
                              env={"LOADBENCH_TEST_MODE": "1",
                                   "LOADBENCH_TEST_SERVICE_STALL": f"{STALL_S}/{PERIOD_S}"})
    metrics_url = f"http://127.0.0.1:{metrics_port}"
    # made beforehand (making an httpx client takes 0.1-0.3 s); `fresh` opens a new
    # connection for every request
    with httpx.Client(base_url=metrics_url, timeout=10) as side, \
            httpx.Client(base_url=service.url, timeout=10,
                         limits=httpx.Limits(max_keepalive_connections=0)) as fresh:
        # a stall runs while time % 2 is in [1.5, 2): ask in the middle of two of them
        for _ in range(2):
            _sleep_until_phase(1.6)
            sent = time.time()
            scraped = side.get("/metrics")
            side_s = time.time() - sent
            main = fresh.get("/health/live")
            main_s = time.time() - sent
            assert scraped.status_code == 200 and main.status_code == 200
            assert side_s < 0.1, side_s  # its own thread: not stopped by the stall
            # stopped until the window ends (phase 2.0): at least 0.3 s of the 0.4 s left
            assert main_s >= 0.3, main_s
            assert _phase(time.time()) < 1.0, _phase(time.time())  # released at the end
        # outside the windows, answers come at once
        _sleep_until_phase(0.1)
        outside = []
        while _phase(time.time()) < 1.3:
            sent = time.time()
            assert fresh.get("/products").status_code == 200
            outside.append(time.time() - sent)
        assert len(outside) >= 5 and max(outside) < 0.3, outside
        # the connections opened in a stall waited to be accepted; the histogram says so
        text = side.get("/metrics").text
    waited = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith("loadbench_server_accept_queue_seconds_sum")]
    # two connections of about 0.4 s (a lower bound, in 4 ms jiffies)
    assert waited and waited[0] >= 0.6, text[text.find("loadbench_server_accept"):]
    assert service.process.poll() is None
