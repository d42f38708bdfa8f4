"""The verdict is a pure function of recorded evidence: synthetic runs, one cause at a time."""

from __future__ import annotations

from scenarios.runner.evidence import (
    CpuSample,
    LatenessSecond,
    RunFacts,
    Thresholds,
    cpu_csv,
    host_busy,
    host_series,
    judge,
    mark_window,
    summarise,
)

T0 = 1000.0
WINDOW = (T0, T0 + 10.0)


def samples(name: str, percents: list[float], role: str = "generator",
            interval: float = 0.5) -> list[CpuSample]:
    """One sample per interval across the 10 s window (repeating the given figures)."""
    count = int(10 / interval)
    return [CpuSample(T0 + interval * (i + 1), role, 42 if role == "generator" else 7, name,
                      percents[i % len(percents)], "1") for i in range(count)]


def quiet_loop(seconds: int = 10, p99: float = 0.4) -> list[LatenessSecond]:
    return [LatenessSecond(int(T0) + i, 98, 0.1, p99, p99 + 0.3) for i in range(seconds)]


def host(busy: list[float]) -> list[tuple[float, float]]:
    return [(T0 + 0.5 * (i + 1), busy[i % len(busy)]) for i in range(20)]


def facts(**changes: object) -> RunFacts:
    base: dict[str, object] = {
        "exit_code": 0, "interrupted": False, "requested_window_s": 10.0, "window_s": 10.0,
        "total_requests": 20_000, "failures": 0,
        "samples": samples("locust", [55, 60, 58, 61]) + samples("service", [40], "service"),
        "generator_host": host([60.0, 63.0]), "generator_cpu_count": 1,
        "lateness": {"locust": quiet_loop()}, "window": WINDOW,
        "users": 10, "closed_model": True, "rps": 2000.0, "mean_ms": 4.8,
    }
    base.update(changes)
    return RunFacts(**base)  # type: ignore[arg-type]


def test_valid_when_every_signal_is_clean() -> None:
    verdict = judge(facts())
    assert verdict.status == "valid" and verdict.reasons == [] and verdict.causes == []
    cpu = verdict.evidence["generator_cpu"]["locust"]
    assert cpu["mean_percent"] == 58.5 and cpu["share_at_or_above_threshold"] == 0.0
    assert cpu["samples"] == 20 and cpu["required_samples"] == 10
    assert verdict.evidence["foreign_cpu"]["mean_percent"] == 3.0
    assert verdict.evidence["loop_lateness"]["locust"]["seconds"] == 10
    assert verdict.evidence["littles_law"]["residual"] == 0.04


def test_generator_bound_from_one_process_near_a_full_core() -> None:
    verdict = judge(facts(samples=samples("locust", [97, 99, 98, 99, 96]),
                          generator_host=host([99.0])))
    assert verdict.status == "generator-bound"
    assert "generator-cpu-saturated" in verdict.causes
    assert "locust at 98% of a core" in verdict.reasons[0]
    assert "100% of its 20" in verdict.reasons[0]


def test_the_mean_does_not_hide_half_a_window_at_a_full_core() -> None:
    half = samples("locust", [100.0] * 10 + [79.0] * 10)
    verdict = judge(facts(samples=half, generator_host=host([90.0])))
    assert verdict.evidence["generator_cpu"]["locust"]["mean_percent"] < 90
    assert verdict.status == "generator-bound" and "generator-cpu-saturated" in verdict.causes
    assert "50% of its 20 samples" in verdict.reasons[0]
    brief = samples("locust", [95.0] + [60.0] * 9)  # one sample in ten: 10% < 25%
    assert judge(facts(samples=brief)).status == "valid"


def test_thresholds_are_parameters() -> None:
    assert judge(facts(), Thresholds(generator_cpu_percent=50)).status == "generator-bound"
    assert judge(facts(), Thresholds(generator_cpu_percent=70)).status == "valid"


def test_one_busy_worker_among_several_is_enough() -> None:
    mixed = (samples("locust-master", [5, 6, 5]) + samples("locust-worker-1", [60, 62, 61])
             + samples("locust-worker-2", [95, 97, 96]))
    loops = {name: quiet_loop() for name in ("locust-master", "locust-worker-1",
                                             "locust-worker-2")}
    verdict = judge(facts(samples=mixed, lateness=loops, generator_cpu_count=2,
                          generator_host=host([85.0])))
    assert verdict.status == "generator-bound"
    assert verdict.causes == ["generator-cpu-saturated"]
    assert "locust-worker-2" in verdict.reasons[0]


def test_contention_from_a_busy_neighbour_is_named() -> None:
    # Locust at half a core, the CPU 89% busy: under the old 90% rule, but 31% is not Locust's
    verdict = judge(facts(samples=samples("locust", [58.0]), generator_cpus_busy=[89.0] * 20,
                          generator_host=host([89.0])))
    assert verdict.status == "generator-bound" and verdict.causes == ["generator-cpu-contended"]
    assert "contention: other processes took 31% of a core" in verdict.reasons[0]
    assert verdict.evidence["foreign_cpu"]["per_sample_percent"][:2] == [31.0, 31.0]


def test_generator_cpus_kept_full_count_as_generator_bound() -> None:
    verdict = judge(facts(generator_cpus_busy=[97.0, 99.0, 98.0], generator_host=host([98.0])))
    assert verdict.status == "generator-bound"
    assert verdict.causes == ["generator-cpus-full", "generator-cpu-contended"]


def test_a_late_event_loop_is_generator_bound_even_with_idle_cpu() -> None:
    blocked = [LatenessSecond(int(T0) + i, 80, 0.2, 150.0 if i % 3 == 0 else 0.5, 151.0)
               for i in range(10)]
    verdict = judge(facts(samples=samples("locust", [8.0]), lateness={"locust": blocked},
                          generator_host=host([10.0]), closed_model=False))
    assert verdict.status == "generator-bound" and verdict.causes == ["generator-loop-late"]
    assert "4 of 10 seconds" in verdict.reasons[0]
    one = [LatenessSecond(int(T0) + i, 80, 0.2, 150.0 if i == 0 else 0.5, 151.0)
           for i in range(10)]  # one late second in ten: under the 20% share
    assert judge(facts(lateness={"locust": one})).status == "valid"


def test_a_late_loop_at_a_saturated_service_is_a_warning_only_when_littles_law_holds() -> None:
    """Closed loop, service throttled in nearly every period of its envelope: the mean response
    time is N / X whoever queues, so a late client loop moves waiting from the service's queue to
    the client's. That is a warning, not a status, but only with Little's law holding; a loop
    late below saturation, or with users outside their requests, stays generator-bound."""
    late = [LatenessSecond(int(T0) + i, 70, 0.8, 35.0, 41.0) for i in range(10)]
    # 10 users, 200 rps x 50 ms = 10 in flight: every user inside its request
    at_saturation = facts(lateness={"locust": late}, rps=200.0, mean_ms=50.0,
                          service_throttled_ratio=0.98)
    verdict = judge(at_saturation)
    assert verdict.status == "valid" and verdict.causes == []
    assert verdict.evidence["loop_lateness_at_saturation"] is True
    assert any("ran late" in w and "throttled in 98%" in w and "tail percentiles" in w
               for w in verdict.warnings), verdict.warnings
    below = judge(facts(lateness={"locust": late}, rps=200.0, mean_ms=50.0,
                        service_throttled_ratio=0.5))
    assert below.status == "generator-bound" and below.causes == ["generator-loop-late"]
    no_envelope = judge(facts(lateness={"locust": late}, rps=200.0, mean_ms=50.0))
    assert no_envelope.causes == ["generator-loop-late"]
    outside = judge(facts(lateness={"locust": late}, rps=200.0, mean_ms=40.0,
                          service_throttled_ratio=0.98))  # 8 of 10 users in requests
    assert outside.causes == ["generator-loop-late", "littles-law"]
    paced = judge(facts(lateness={"locust": late}, rps=200.0, mean_ms=50.0,
                        service_throttled_ratio=0.98, closed_model=False))
    assert paced.causes == ["generator-loop-late"]  # no cycle to reason from
    busy = judge(facts(lateness={"locust": late}, rps=200.0, mean_ms=50.0,
                       service_throttled_ratio=0.98, samples=samples("locust", [97.0]),
                       generator_host=host([97.0])))
    assert "generator-loop-late" in busy.causes  # a saturated generator excuses nothing


def test_too_little_evidence_is_never_valid() -> None:
    sparse = [s for s in samples("locust", [50.0]) if s.t < T0 + 4]  # 7 samples, need 10
    verdict = judge(facts(samples=sparse))
    assert verdict.status == "too-few-samples" and "few-cpu-samples" in verdict.causes
    assert judge(facts(samples=[])).status == "too-few-samples"
    no_loop = judge(facts(lateness={}))
    assert no_loop.status == "too-few-samples" and "few-loop-seconds" in no_loop.causes
    assert judge(facts(lateness={"locust": quiet_loop(5)})).status == "too-few-samples"
    short = judge(facts(requested_window_s=1.0, window_s=1.0, window=(T0, T0 + 1.0),
                        samples=samples("locust", [50.0])[:2], total_requests=2000))
    assert short.status == "too-few-samples", short  # 2 samples, 0 whole seconds: need 3


def test_sampler_errors_are_recorded() -> None:
    errors = [{"t": T0 + 1, "role": "generator", "pid": 42, "name": "locust",
               "error": "NoSuchProcess"}]
    verdict = judge(facts(sampler_errors=errors))
    assert verdict.evidence["sampler_errors"]["count"] == 1
    assert verdict.evidence["coverage"]["generator_sampler_errors"] == 1


def test_littles_law_for_closed_model_points() -> None:
    outside = judge(facts(rps=2000.0, mean_ms=3.5))  # 7 of 10 users in requests
    assert outside.status == "generator-bound" and outside.causes == ["littles-law"]
    assert "spent 30% of the window outside their requests" in outside.reasons[0]
    inflated = judge(facts(rps=2000.0, mean_ms=6.5))  # 13 in flight for 10 users
    assert inflated.status == "inconsistent" and "more than the 10 users" in inflated.reasons[0]
    assert judge(facts(rps=2000.0, mean_ms=3.5, closed_model=False)).status == "valid"


def in_flight(mean: float, at_end: int = 10, censored_s: float = 0.0,
              oldest_s: float = 0.05, carried_in_s: float = 0.0) -> dict[str, object]:
    return {"processes": 1, "mean_in_flight": mean, "in_flight_at_end": at_end,
            "oldest_s": oldest_s, "censored_request_seconds": censored_s, "window_s": 10.0,
            "carried_in_request_seconds": carried_in_s}


def test_littles_law_uses_the_generators_own_count_of_requests_in_flight() -> None:
    """Where the generator counted its requests in flight, that count decides: completed
    requests miss those the service left unanswered all window (censored), which is the
    service's doing when the count shows the users inside their requests; a count below the
    users is the generator holding them outside, whatever the completed requests say."""
    # 500 users; the service served ~190 connections and left the rest waiting all window:
    # 650 rps x 290 ms = 188.5 from completed requests, but 487 in flight by count, and the
    # 2,985 request-seconds of the requests unanswered at the end fill the gap (298.5 users)
    starved = facts(users=500, rps=650.0, mean_ms=290.0, total_requests=6500,
                    in_flight=in_flight(487.0, at_end=500, censored_s=2985.0, oldest_s=9.8),
                    service_sockets={"start": {"accept_queue": 357, "unread_connections": 120},
                                     "end": {"accept_queue": 0, "unread_connections": 0}})
    verdict = judge(starved)
    assert verdict.status == "valid" and verdict.causes == [], verdict.reasons
    warning = next(w for w in verdict.warnings if "completed requests" in w)
    assert "487.0 in flight" in warning and "500 requests were still unanswered" in warning
    assert "9.8 s" in warning and "at the window's start the service had 357 connections " \
        "waiting to be accepted and 120 holding a request it had not read" in warning
    assert "window's end" not in warning  # empty queues are not listed
    law = verdict.evidence["littles_law"]
    assert law["residual"] == 0.623 and law["measured_residual"] == 0.026
    assert law["service_sockets"]["start"]["accept_queue"] == 357
    # the same completed figures without the censored time to explain them: generator-bound
    unexplained = judge(facts(users=500, rps=650.0, mean_ms=290.0, total_requests=6500,
                              in_flight=in_flight(487.0, at_end=500, censored_s=100.0)))
    assert unexplained.causes == ["littles-law"]
    assert "against 487.0 counted by the generator" in unexplained.reasons[0]
    assert "do not account for the gap" in unexplained.reasons[0]
    # a study point (HttpUser, 500 users): requests completed in the window carried seconds from
    # before it into their response times; with that time accounted for, the gap is explained
    study = {"users": 500, "rps": 635.0, "mean_ms": 588.0, "total_requests": 6300}
    carried = in_flight(484.4, at_end=500, censored_s=2798.0, oldest_s=9.8, carried_in_s=1690.0)
    assert judge(facts(**study, in_flight=carried)).status == "valid"
    not_carried = in_flight(484.4, at_end=500, censored_s=2798.0, oldest_s=9.8)
    assert judge(facts(**study, in_flight=not_carried)).causes == ["littles-law"]
    # the count says 7 of 10 users in requests though completed requests say 10: the count wins
    held = judge(facts(rps=2000.0, mean_ms=5.0, in_flight=in_flight(7.0)))
    assert held.status == "generator-bound" and held.causes == ["littles-law"]
    assert "counted 7.0 requests in flight" in held.reasons[0]
    assert "spent 30% of the window outside" in held.reasons[0]
    # a clean point: count and completed requests agree
    assert judge(facts(in_flight=in_flight(9.7))).status == "valid"
    # no cycle to reason from without the closed model, count or not
    assert judge(facts(rps=2000.0, mean_ms=3.5, closed_model=False,
                       in_flight=in_flight(7.0))).status == "valid"


def test_sut_errors_above_the_threshold() -> None:
    assert judge(facts(failures=200)).status == "valid"                 # 1% is not above 1%
    verdict = judge(facts(failures=201))
    assert verdict.status == "sut-errors" and "201 unexpected failures" in verdict.reasons[0]
    assert judge(facts(failures=201), Thresholds(error_ratio=0.05)).status == "valid"


def test_too_few_samples_from_requests_or_a_short_window() -> None:
    assert judge(facts(total_requests=99)).status == "too-few-samples"
    assert judge(facts(window_s=7.0)).status == "too-few-samples"
    assert judge(facts(window_s=None)).status == "too-few-samples"
    assert judge(facts(window_s=8.5)).status == "valid"


def test_failed_when_locust_crashes_or_writes_no_stats() -> None:
    verdict = judge(facts(exit_code=2))
    assert verdict.status == "failed" and "exited with code 2" in verdict.reasons[0]
    assert judge(facts(exit_code=-9)).status == "failed"
    assert judge(facts(total_requests=None)).status == "failed"
    assert judge(facts(failure_note="the service did not start")).status == "failed"
    assert judge(facts(exit_code=1, failures=10)).status == "valid"     # 1 = some requests failed


def test_interrupted_comes_first_and_every_cause_is_listed() -> None:
    busy = samples("locust", [99, 99, 99])
    verdict = judge(facts(interrupted=True, window_s=7.0, failures=5000, samples=busy,
                          generator_host=host([99.0])))
    assert verdict.status == "interrupted"
    assert verdict.causes == ["interrupted", "short-window", "sut-errors",
                              "generator-cpu-saturated"]
    order = judge(facts(exit_code=3, window_s=7.0, failures=5000, samples=busy))
    assert order.status == "failed" and len(order.reasons) == len(order.causes) >= 4


def test_window_marking_summary_and_csv() -> None:
    raw = [CpuSample(t, "generator", 42, "locust", p, "1", False)
           for t, p in [(100.0, 30.0), (101.0, 90.0), (102.0, 95.0), (103.0, 20.0)]]
    raw += [CpuSample(t, "service", 7, "service", 40.0, "0", False) for t in (101.0, 102.0)]
    marked = mark_window(raw, start=100.2, end=102.1)
    assert [s.in_window for s in marked if s.role == "generator"] == [False, True, True, False]
    summary = summarise(marked)
    assert summary["generator"] == {"processes": 1, "max_process_percent": 95.0,
                                    "mean_process_percent": 92.5, "total_percent": 92.5}
    assert summary["service"] == {"mean_percent": 40.0, "max_percent": 40.0}
    text = cpu_csv(marked).splitlines()
    assert text[0] == "t,role,pid,name,cpu_percent,cpus,in_window"
    assert text[2] == "101.000,generator,42,locust,90.0,1,1"
    assert host_busy([(101.0, [10.0, 90.0]), (105.0, [0.0, 0.0])], [1], 100.2, 102.1) == [90.0]
    assert host_series([(101.0, [10.0, 90.0])], [1], 100.2, 102.1) == [(101.0, 90.0)]


def test_a_service_cpu_kept_busy_by_others_is_a_warning_not_a_status() -> None:
    verdict = judge(facts(service_cpus_busy=[99.0, 98.0, 99.0, 97.0]))
    assert verdict.status == "valid"
    assert len(verdict.warnings) == 1 and "other processes competed" in verdict.warnings[0]
    assert judge(facts(service_cpus_busy=[50.0, 55.0])).warnings == []


# --- issue 20: stalls by their length, steady state, paced shortfall, client-dominated ---------

def _stalls(*lengths_ms: float) -> dict[str, list[tuple[float, float]]]:
    """Stalls of these lengths, one a second from the window's second second."""
    return {"locust": [(T0 + 1.0 + i, ms) for i, ms in enumerate(lengths_ms)]}


def test_one_100_ms_stall_in_a_window_is_not_valid_however_few_seconds_it_touches() -> None:
    # one late second out of ten: the per-second lateness rule alone lets it through
    verdict = judge(facts(stalls=_stalls(100.0)))
    assert verdict.status == "generator-bound"
    assert "generator-loop-stalled" in verdict.causes
    assert "100 ms" in verdict.reasons[0]
    assert verdict.evidence["loop_stalls"]["locust"]["stalled_share"] == 0.01


def test_stalls_under_the_threshold_keep_the_point_valid() -> None:
    assert judge(facts(stalls=_stalls(40.0, 50.0))).status == "valid"


def test_stalls_shorter_than_the_mean_response_time_do_not_count() -> None:
    # a saturated point: 12 ms stalls against a 100 ms mean change neither rate nor tail
    saturated = facts(stalls=_stalls(*[12.0] * 12), mean_ms=100.0, rps=100.0)
    assert "generator-loop-stalled" not in judge(saturated).causes
    # the same stalls at a 1 ms mean delay every response in flight twelvefold
    light = facts(stalls=_stalls(*[12.0] * 12))
    assert "generator-loop-stalled" in judge(light).causes


def test_a_drifting_window_is_not_steady() -> None:
    steady = {"tested": True, "relative_threshold": 0.1, "z": 3.0, "seconds": 10,
              "drifting": ["latency"],
              "latency": {"first_half_mean": 5.0, "second_half_mean": 9.0,
                          "relative_change": 0.57, "standard_error": 0.3, "drifts": True}}
    verdict = judge(facts(steady_state=steady))
    assert verdict.status == "not-steady" and verdict.causes == ["not-steady-latency"]


def test_a_paced_point_short_of_its_rate_with_a_fast_service_is_generator_bound() -> None:
    # 5 users at 100/s asked 500/s; 409/s achieved while the service answered in 1.6 ms
    verdict = judge(facts(users=5, closed_model=False, rps=409.0, mean_ms=1.6, asked_rps=500.0,
                          total_requests=3272))
    assert verdict.status == "generator-bound" and "pacing-shortfall" in verdict.causes
    assert verdict.evidence["pacing"]["achieved_share"] == 0.818


def test_a_paced_shortfall_the_service_explains_is_a_warning_only() -> None:
    # 5 users at 100/s: a 10 ms interval; the service took 12 ms and the users were inside
    # their requests the whole window
    verdict = judge(facts(users=5, closed_model=False, rps=410.0, mean_ms=12.0, asked_rps=500.0,
                          total_requests=4100, in_flight={"mean_in_flight": 4.9}))
    assert verdict.status == "valid"
    assert any("the shortfall is the service's" in w for w in verdict.warnings)


def test_a_client_dominated_point_says_so_in_its_status() -> None:
    verdict = judge(facts(client_share=0.8))
    assert verdict.status == "client-dominated" and verdict.causes == ["client-dominated"]
    assert judge(facts(client_share=0.3)).status == "valid"
