"""The analysis against a real headless Locust run of the real service (about 6 s)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _analysis_helpers import REPO

from analysis import load_locust_csv

pytestmark = [pytest.mark.load, pytest.mark.any_cpu]  # what the runs did, not how fast


def _locust_final_aggregated(html: Path) -> dict[str, float]:
    """Locust's own final Aggregated row, from the data embedded in its HTML report."""
    match = re.search(r'"name": "Aggregated", "num_failures": \d+[^}]*', html.read_text())
    assert match, f"no Aggregated row in {html}"
    return json.loads("{" + match.group(0) + "}")


@pytest.fixture(scope="module")
def locust_prefix(service_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("locust") / "run"
    command = [sys.executable, "-m", "locust", "-f", "scenarios/locustfile.py", "FastProductUser",
               "--headless", "-u", "5", "-r", "5", "-t", "3s", "--host", service_url,
               "--csv", str(prefix), "--csv-full-history", "--json-file", str(prefix),
               "--html", f"{prefix}.html", "--reset-stats", "--seed-products", "20",
               "--only-summary"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return prefix


def test_counts_and_throughput_agree_with_locusts_aggregated_row(locust_prefix: Path) -> None:
    locust = _locust_final_aggregated(Path(f"{locust_prefix}.html"))
    total = load_locust_csv(locust_prefix).aggregated.iloc[0]
    assert locust["num_requests"] > 100
    assert total["requests"] == locust["num_requests"]
    assert total["failures"] == locust["num_failures"]
    # Locust divides by the time since the stats reset; the analysis by the span of requests
    assert math.isclose(total["rps"], locust["total_rps"], rel_tol=0.03)


def test_percentiles_from_histograms_match_locusts(locust_prefix: Path) -> None:
    locust = _locust_final_aggregated(Path(f"{locust_prefix}.html"))
    total = load_locust_csv(locust_prefix).aggregated.iloc[0]
    assert total["p95_ms"] == locust["response_time_percentile_0.95"]
    assert total["p99_ms"] == locust["response_time_percentile_0.99"]


def test_the_final_csv_is_a_slightly_late_snapshot_of_the_same_run(locust_prefix: Path) -> None:
    import pandas as pd

    stats = pd.read_csv(f"{locust_prefix}_stats.csv")
    csv_total = stats[stats["Name"] == "Aggregated"].iloc[0]
    total = load_locust_csv(locust_prefix).aggregated.iloc[0]
    # the final CSV is Locust's last 1 s snapshot: it lags the final JSON by up to ~1 s
    lag = total["requests"] - csv_total["Request Count"]
    assert 0 <= lag <= 1.5 * total["rps"], lag
    # percentiles: equal within Locust's bucketing (1 ms below 100 ms) plus the lag
    assert abs(csv_total["95%"] - total["p95_ms"]) <= max(2.0, 0.2 * total["p95_ms"])
