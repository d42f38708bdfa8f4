"""HDR histograms: percentiles equal exact percentiles of known raw inputs, merging is exact."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from analysis import AnalysisError
from analysis.histograms import (
    decode_hdr,
    encode_hdr,
    hdr_percentile,
    merge_hdr,
    new_hdr,
    percentile_interval,
)
from analysis.loading import read_hdr_evidence
from scenarios.instrumentation import Recorder

FRACTIONS = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
PRECISION = 1e-3  # 3 significant digits


def _raw_latencies_us(seed: int, size: int) -> np.ndarray:
    """Loopback-like response times: mostly 150-900 µs, a long tail to about 200 ms."""
    rng = np.random.default_rng(seed)
    body = rng.lognormal(math.log(350.0), 0.35, size)
    tail = rng.pareto(1.5, size // 50) * 2000 + 900
    return np.concatenate([body, tail]).round().astype(np.int64).clip(1, None)


def _exact(values: np.ndarray, fraction: float) -> float:
    """The nearest-rank percentile in ms: the value of rank ceil(fraction x N)."""
    ordered = np.sort(values)
    return float(ordered[max(1, math.ceil(fraction * len(ordered) - 1e-9)) - 1]) / 1000.0


def _histogram(values: np.ndarray):  # type: ignore[no-untyped-def]
    histogram = new_hdr()
    for value in values:
        histogram.record_value(int(value))
    return histogram


def test_hdr_percentiles_equal_the_exact_percentiles_within_hdr_precision() -> None:
    values = _raw_latencies_us(7, 20_000)
    histogram = _histogram(values)
    for fraction in FRACTIONS:
        exact = _exact(values, fraction)
        measured = hdr_percentile(histogram, fraction)
        assert exact <= measured <= exact * (1 + PRECISION) + 0.001, (fraction, exact, measured)
    # sub-millisecond values keep their microseconds (Locust would say 0 or 1 ms)
    assert 0.2 < hdr_percentile(histogram, 0.5) < 0.6


def test_small_known_inputs() -> None:
    values = np.array([101, 102, 103, 104, 105, 106, 107, 108, 109, 5000])
    histogram = _histogram(values)
    assert hdr_percentile(histogram, 0.5) == 0.105
    assert hdr_percentile(histogram, 0.9) == 0.109
    assert math.isclose(hdr_percentile(histogram, 0.95), 5.0, rel_tol=PRECISION)
    assert math.isnan(hdr_percentile(new_hdr(), 0.5))


def test_merging_is_exact_across_processes_and_repeats() -> None:
    values = _raw_latencies_us(11, 30_000)
    whole = _histogram(values)
    parts = [_histogram(part) for part in np.array_split(values, 5)]
    merged = merge_hdr(parts)
    assert merged.get_total_count() == len(values)
    for fraction in FRACTIONS:
        assert hdr_percentile(merged, fraction) == hdr_percentile(whole, fraction)
    # same counts in every bucket, also through the encoded form the files carry
    roundtrip = merge_hdr(decode_hdr(encode_hdr(part)) for part in parts)
    assert list(roundtrip.get_recorded_iterator()) and all(
        a.count_at_value_iterated_to == b.count_at_value_iterated_to
        and a.value_iterated_to == b.value_iterated_to
        for a, b in zip(roundtrip.get_recorded_iterator(), whole.get_recorded_iterator(),
                        strict=True))


def test_the_locustfile_recorder_merges_exactly_through_its_files(tmp_path: Path) -> None:
    values = _raw_latencies_us(3, 9000)
    one = Recorder()
    processes = [Recorder() for _ in range(3)]
    for index, value in enumerate(values):
        endpoint = "GET /products/{id}" if index % 4 else "POST /products"
        method = endpoint.split()[0]
        one.record(method, endpoint, value / 1000.0)
        processes[index % 3].record(method, endpoint, value / 1000.0)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for pid, recorder in enumerate(processes):
        (evidence / f"hdr-worker-{pid}.json").write_text(json.dumps(recorder.document("worker")))
    read = read_hdr_evidence(evidence)
    assert read is not None
    for key, histogram in one.histograms.items():
        assert read[key].get_total_count() == histogram.get_total_count()
        for fraction in FRACTIONS:
            assert hdr_percentile(read[key], fraction) == hdr_percentile(histogram, fraction)


def test_order_statistic_interval_brackets_the_percentile_and_is_positive() -> None:
    values = _raw_latencies_us(5, 5000)
    histogram = _histogram(values)
    for fraction in (0.5, 0.95, 0.99):
        low, high = percentile_interval(histogram, fraction)
        assert 0 < low <= hdr_percentile(histogram, fraction) <= high


def test_a_corrupt_hdr_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "hdr-local-1.json").write_text(json.dumps(
        {"format": "loadbench-hdr", "version": 1, "unit": "us",
         "endpoints": [{"method": "GET", "name": "x", "histogram": "not base64 at all"}]}))
    with pytest.raises(AnalysisError, match=r"hdr-local-1\.json"):
        read_hdr_evidence(tmp_path)
    (tmp_path / "hdr-local-1.json").write_text(json.dumps({"format": "loadbench-hdr",
                                                           "version": 9, "unit": "us"}))
    with pytest.raises(AnalysisError, match="unknown HDR file version 9"):
        read_hdr_evidence(tmp_path)
