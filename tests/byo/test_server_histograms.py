"""The service's request-duration histogram read by the names other libraries export."""

from __future__ import annotations

import pytest

from scenarios.runner.evidence import Scrape, window_view

OTEL_NAME = "http_server_request_duration_seconds"
OTEL_LABELS = 'http_request_method="GET",http_response_status_code="200",http_route="/items/{id}"'


def _otel(a: int, b: int, s: float) -> str:
    """Two buckets (1 ms: a requests, 10 ms: b), as OpenTelemetry's exporter writes them."""
    lines = [f"# TYPE {OTEL_NAME} histogram",
             f'{OTEL_NAME}_bucket{{{OTEL_LABELS},le="0.001"}} {a}',
             f'{OTEL_NAME}_bucket{{{OTEL_LABELS},le="0.01"}} {b}',
             f'{OTEL_NAME}_bucket{{{OTEL_LABELS},le="+Inf"}} {b}',
             f"{OTEL_NAME}_count{{{OTEL_LABELS}}} {b}",
             f"{OTEL_NAME}_sum{{{OTEL_LABELS}}} {s}",
             f"{OTEL_NAME}_created{{{OTEL_LABELS}}} 1.7e9"]
    return "\n".join(lines) + "\n"


def test_opentelemetry_names_and_labels_are_read_from_the_difference_of_two_scrapes() -> None:
    start, end = Scrape(1.0, _otel(10, 20, 0.05)), Scrape(2.0, _otel(110, 220, 0.65))
    assert end.metric == "http_server_request_duration_seconds"
    view = window_view(start, end)
    assert view["available"] and view["metric"] == "http_server_request_duration_seconds"
    route = view["routes"]["GET /items/{id} 200"]
    assert route["requests"] == 200
    assert route["mean_ms"] == pytest.approx(3.0)
    assert route["p50_ms"] == pytest.approx(1.0)  # rank 100 of 200: the first bucket's top
    assert view["load"]["requests"] == 200


PC_LABELS = 'handler="/simple/:project/",method="GET",status="200"'
PROMETHEUS_CLIENT = "\n".join([
    "# TYPE http_request_duration_seconds histogram",
    f'http_request_duration_seconds_bucket{{{PC_LABELS},le="0.005"}} 3.0',
    f'http_request_duration_seconds_bucket{{{PC_LABELS},le="+Inf"}} 4.0',
    f"http_request_duration_seconds_count{{{PC_LABELS}}} 4.0",
    f"http_request_duration_seconds_sum{{{PC_LABELS}}} 0.02",
    "process_cpu_seconds_total 1.5", ""])


def test_prometheus_client_names_with_a_handler_label() -> None:
    scrape = Scrape(0.0, PROMETHEUS_CLIENT)
    assert scrape.metric == "http_request_duration_seconds"
    assert scrape.counts == {("/simple/:project/", "GET", "200"): 4.0}


def test_milliseconds_are_converted_and_series_differing_in_other_labels_add_up() -> None:
    text = "\n".join(
        f'http_server_duration_milliseconds_bucket{{http_method="POST",http_route="/x",'
        f'http_status_code="201",worker="{w}",le="{le}"}} {n}'
        for w in ("1", "2") for le, n in (("5", 1), ("+Inf", 2))) + "\n" + "\n".join(
        f'http_server_duration_milliseconds_sum{{http_method="POST",http_route="/x",'
        f'http_status_code="201",worker="{w}"}} 8' for w in ("1", "2"))
    scrape = Scrape(0.0, text)
    key = ("/x", "POST", "201")
    assert scrape.buckets[key] == [(0.005, 2.0), (float("inf"), 4.0)]
    assert scrape.sums[key] == pytest.approx(0.016)


def test_a_configured_name_and_route_label_win_and_quoted_label_names_are_read() -> None:
    text = ('my_latency_seconds_bucket{"http.route"="/a",svc_op="op1",le="+Inf"} 5\n'
            'my_latency_seconds_count{"http.route"="/a",svc_op="op1"} 5\n'
            + PROMETHEUS_CLIENT)
    assert Scrape(0.0, text).metric == "http_request_duration_seconds"
    chosen = Scrape(0.0, text, histograms=("my_latency_seconds",), route_label="svc_op")
    assert chosen.metric == "my_latency_seconds"
    assert chosen.counts == {("op1", "", ""): 5.0}
    assert Scrape(0.0, text, histograms=("my_latency_seconds",)).counts == {("/a", "", ""): 5.0}


def test_a_scrape_without_a_request_duration_histogram_has_no_metric() -> None:
    scrape = Scrape(0.0, "# TYPE shop_starts counter\nshop_starts_total 1.0\n")
    assert scrape.metric is None
    view = window_view(scrape, scrape)
    assert not view["available"] and "histogram" in view["error"]
