"""The verdict is a pure function of recorded samples and stats: one synthetic run per verdict."""

from __future__ import annotations

from scenarios._cpu_sampler import cpu_csv, host_busy, mark_window, summarise
from scenarios._verdict import CpuSample, RunFacts, Thresholds, judge


def samples(name: str, percents: list[float], role: str = "generator") -> list[CpuSample]:
    return [CpuSample(1000.0 + i, role, 42 if role == "generator" else 7, name, p, "1")
            for i, p in enumerate(percents)]


def facts(**changes: object) -> RunFacts:
    base: dict[str, object] = {
        "exit_code": 0, "interrupted": False, "requested_window_s": 10.0, "window_s": 10.0,
        "total_requests": 20_000, "failures": 0,
        "samples": samples("locust", [55, 60, 58, 61]) + samples("service", [40] * 4, "service"),
    }
    base.update(changes)
    return RunFacts(**base)  # type: ignore[arg-type]


def test_valid_when_nothing_applies() -> None:
    verdict = judge(facts())
    assert verdict.status == "valid" and verdict.reasons == []
    assert verdict.evidence["generator_cpu"]["locust"]["mean_percent"] == 58.5


def test_generator_bound_from_one_process_near_a_full_core() -> None:
    verdict = judge(facts(samples=samples("locust", [97, 99, 98, 99, 96])))
    assert verdict.status == "generator-bound"
    assert "locust at 98% of a core" in verdict.reasons[0]
    assert "5 of 5 samples" in verdict.reasons[0]


def test_generator_bound_threshold_is_a_parameter() -> None:
    assert judge(facts(), Thresholds(generator_cpu_percent=50)).status == "generator-bound"
    assert judge(facts(), Thresholds(generator_cpu_percent=70)).status == "valid"


def test_one_busy_worker_among_several_is_enough() -> None:
    mixed = (samples("locust-master", [5, 6, 5]) + samples("locust-worker-1", [60, 62, 61])
             + samples("locust-worker-2", [95, 97, 96]))
    verdict = judge(facts(samples=mixed))
    assert verdict.status == "generator-bound"
    assert "locust-worker-2" in verdict.reasons[0] and "1 of 3" in verdict.reasons[0]


def test_generator_cpus_kept_busy_by_others_count_as_generator_bound() -> None:
    verdict = judge(facts(generator_cpus_busy=[97.0, 99.0, 98.0]))
    assert verdict.status == "generator-bound"
    assert "other processes" in verdict.reasons[0]
    assert judge(facts(generator_cpus_busy=[60.0, 70.0])).status == "valid"


def test_samples_outside_the_window_are_ignored() -> None:
    ramp = [CpuSample(1000.0, "generator", 42, "locust", 100.0, "1", in_window=False)]
    assert judge(facts(samples=ramp + samples("locust", [50, 50]))).status == "valid"


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


def test_interrupted_comes_first_and_all_reasons_are_listed() -> None:
    busy = samples("locust", [99, 99, 99])
    verdict = judge(facts(interrupted=True, window_s=2.0, failures=5000, samples=busy))
    assert verdict.status == "interrupted"
    assert len(verdict.reasons) == 4  # interrupted, too-few-samples, sut-errors, generator-bound
    order = judge(facts(exit_code=3, window_s=2.0, failures=5000, samples=busy))
    assert order.status == "failed" and len(order.reasons) == 4


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


def test_a_service_cpu_kept_busy_by_others_is_a_warning_not_a_status() -> None:
    verdict = judge(facts(service_cpus_busy=[99.0, 98.0, 99.0, 97.0]))
    assert verdict.status == "valid"
    assert len(verdict.warnings) == 1 and "other processes competed" in verdict.warnings[0]
    assert judge(facts(service_cpus_busy=[50.0, 55.0])).warnings == []
