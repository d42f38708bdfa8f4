from __future__ import annotations

import json
import random
import subprocess
import sys

from analysis.histograms import merge, percentile, to_histogram

FRACTIONS = (0.5, 0.9, 0.95, 0.99, 0.999)

# Locust's own function, run in a child process: importing locust here would monkey-patch
# the test process with gevent.
LOCUST_PERCENTILES = """
import json, sys
from locust.stats import calculate_response_time_percentile as p
cases = json.load(sys.stdin)
print(json.dumps([[p({int(k): v for k, v in h.items()}, sum(h.values()), q) for q in qs]
                  for h, qs in cases]))
"""


def test_percentile_follows_locusts_rule_on_random_histograms() -> None:
    rng = random.Random(7)
    histograms = [{rng.randint(0, 400): rng.randint(1, 50) for _ in range(rng.randint(1, 40))}
                  for _ in range(300)]
    cases = [[{str(k): v for k, v in h.items()}, FRACTIONS] for h in histograms]
    child = subprocess.run([sys.executable, "-c", LOCUST_PERCENTILES], input=json.dumps(cases),
                           capture_output=True, text=True, timeout=60, check=True)
    expected = json.loads(child.stdout)
    for histogram, locust_values in zip(histograms, expected, strict=True):
        assert [percentile(histogram, q) for q in FRACTIONS] == locust_values


def test_merging_repeats_equals_the_histogram_of_all_requests() -> None:
    rng = random.Random(3)
    first = [rng.randint(1, 60) for _ in range(1000)]
    second = [rng.randint(20, 90) for _ in range(500)]

    def histogram(times: list[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for time in times:
            counts[time] = counts.get(time, 0) + 1
        return counts

    merged = merge([histogram(first), histogram(second)])
    assert merged == histogram(first + second)
    everything = sorted(first + second)
    # the Locust rule returns the smallest time with at most (1 - q) of requests above it
    assert percentile(merged, 0.95) == everything[int(len(everything) * 0.95) - 1] or \
        percentile(merged, 0.95) == everything[int(len(everything) * 0.95)]


def test_json_keys_become_whole_milliseconds_and_empty_is_nan() -> None:
    assert to_histogram({"12": 3, "110": 1, "7": 0}) == {12: 3, 110: 1}
    assert percentile({}, 0.5) != percentile({}, 0.5)  # NaN
