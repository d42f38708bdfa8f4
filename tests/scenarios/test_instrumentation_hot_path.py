"""The instrumentation's per-request path (made cheap for bench/instrumentation_cost.py) still
counts what it did: the in-flight integral against the requests' own overlaps with the window,
and the HDR recorder's counts against Locust's full set of ``request`` event arguments."""

from __future__ import annotations

import random
import time

import gevent
import pytest

from scenarios.instrumentation import TRACKER, Recorder

InFlight = type(TRACKER)  # a fresh tracker per test, not the process's


def test_in_flight_integral_and_counts_match_the_requests_own_times() -> None:
    tracker = InFlight()
    spans: list[tuple[float, float]] = []  # (start, end) per request, perf_counter seconds
    rng = random.Random(7)
    clock = time.perf_counter

    def user() -> None:
        while True:
            with tracker.request():
                begun = clock()
                gevent.sleep(rng.random() * 0.01)
            spans.append((begun, clock()))
            gevent.sleep(rng.random() * 0.002)

    users = [gevent.spawn(user) for _ in range(8)]
    gevent.sleep(0.1)
    tracker.reset()
    window_start = tracker._window_start
    gevent.sleep(0.3)
    document = tracker.document()
    done = list(spans)  # before the users are killed (other users may run meanwhile)
    gevent.killall(users)
    completed = [(s, e) for s, e in done if e >= window_start]
    inside = sum(e - max(s, window_start) for s, e in completed)
    assert document["completed"] == len(completed)
    assert 0 <= document["in_flight_at_end"] <= 8
    # the integral: completed requests' time inside the window plus the open ones' (censored)
    expected = inside + document["censored_request_seconds"]
    assert document["request_seconds"] == pytest.approx(expected, abs=0.01)
    carried = sum(window_start - s for s, e in completed if s < window_start)
    assert document["carried_in_request_seconds"] == pytest.approx(carried, abs=0.002)
    started_inside = sum(1 for s, _ in completed if s >= window_start)
    assert started_inside <= document["started"] <= started_inside + 8
    assert 0 < document["mean_in_flight"] <= 8


def test_a_request_inside_a_request_of_the_same_user_counts_once() -> None:
    tracker = InFlight()
    with tracker.request():
        with tracker.request():
            pass
        assert tracker.document()["in_flight_at_end"] == 1
    document = tracker.document()
    assert document["completed"] == 1 and document["in_flight_at_end"] == 0
    assert not tracker._open and not tracker._nested


def test_an_exception_inside_the_mark_ends_the_request_and_propagates() -> None:
    tracker = InFlight()
    with pytest.raises(ValueError), tracker.request():
        raise ValueError("boom")
    assert tracker.document()["completed"] == 1 and not tracker._open


def test_the_shared_tracker_is_its_own_mark() -> None:
    assert TRACKER.request() is TRACKER


def test_recorder_takes_locusts_arguments_and_folds_exactly() -> None:
    recorder = Recorder()
    recorder.FOLD_AT = 50  # fold often: every value must still land where a single record would
    values = [0.1 + (i % 97) * 0.37 for i in range(1000)]
    for value in values:
        recorder.record(request_type="GET", name="/a", response_time=value, response_length=10,
                        response=None, context={}, exception=None, start_time=0.0, url="/a")
    recorder.record(request_type="GET", name="/a", response_time=None)  # no time: not counted
    recorder.record(request_type="POST", name="/a", response_time=1.0, extra="ignored")
    histograms = recorder.histograms
    assert histograms[("GET", "/a")].get_total_count() == len(values)
    assert histograms[("POST", "/a")].get_total_count() == 1
    direct = Recorder()
    direct.FOLD_AT = 10**9
    for value in values:
        direct.record("GET", "/a", value)
    assert (histograms[("GET", "/a")].get_value_at_percentile(99)
            == direct.histograms[("GET", "/a")].get_value_at_percentile(99))
