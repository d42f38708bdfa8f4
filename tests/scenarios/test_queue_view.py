"""run.json's ``server_queues``: the service's queue histograms differenced over a window."""

from __future__ import annotations

from scenarios.runner.evidence import Scrape, queue_view

BOUNDS = ("0.0001", "0.001", "0.01", "+Inf")


def _family(name: str, labels: str, cumulative: tuple[int, ...], total_s: float) -> str:
    sep = "," if labels else ""
    lines = [f'{name}_bucket{{{labels}{sep}le="{bound}"}} {count}.0'
             for bound, count in zip(BOUNDS, cumulative, strict=True)]
    lines.append(f"{name}_count{{{labels}}} {cumulative[-1]}.0" if labels
                 else f"{name}_count {cumulative[-1]}.0")
    lines.append(f"{name}_sum{{{labels}}} {total_s}" if labels else f"{name}_sum {total_s}")
    return "\n".join(lines)


def _text(reads: tuple[int, ...], read_s: float, health: tuple[int, ...], accepted: tuple[int, ...],
          accept_s: float) -> str:
    route = 'route="/products/{productId}",method="GET",status="200"'
    return "\n".join([
        _family("loadbench_server_request_duration_seconds", route, reads, read_s / 4),
        _family("loadbench_server_request_queue_seconds", route, reads, read_s),
        _family("loadbench_server_request_queue_seconds",
                'route="/health",method="GET",status="200"', health, 1.0),
        _family("loadbench_server_accept_queue_seconds", "", accepted, accept_s)]) + "\n"


def test_the_windows_queue_times_are_the_scrapes_differences() -> None:
    start = Scrape(1.0, _text((10, 50, 60, 60), 0.02, (1, 1, 1, 1), (2, 2, 2, 2), 0.0001))
    end = Scrape(9.0, _text((110, 850, 1000, 1000), 0.52, (3, 3, 3, 3), (2, 2, 12, 12), 0.0301))
    view = queue_view(start, end)
    assert view["available"]
    queued = view["request_queue"]
    assert queued["requests"] == 940  # the load's route only: /health is not load
    assert queued["mean_ms"] == round(0.5 / 940 * 1000, 4)
    assert 0.1 < queued["p50_ms"] <= 1.0
    accept = view["accept_queue"]
    assert accept["connections"] == 10
    assert accept["total_ms"] == 30.0
    assert accept["mean_ms"] == 3.0


def test_no_scrape_or_no_queue_families_says_why() -> None:
    assert queue_view("GET http://x/metrics: no answer (refused)", None) == {
        "available": False, "error": "GET http://x/metrics: no answer (refused)"}
    other = Scrape(1.0, _family("http_request_duration_seconds", 'route="/a"', (1, 2, 3, 3), 0.1))
    view = queue_view(other, other)
    assert not view["available"]
    assert "loadbench_server_request_queue_seconds" in view["error"]
