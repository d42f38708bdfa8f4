"""A long-lived master's --csv-full-history file holds one point (scenarios/instrumentation/
_master_info.py, ``keep_history_per_point``): Locust's real CSV writer, driven as its greenlet
drives it, on a real Environment. Run in a child process: importing locust here would
monkey-patch this test process (gevent)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _timestamps(path: Path) -> list[int]:
    with path.open() as history:
        rows = list(csv.reader(history))
    assert rows and rows[0][0] == "Timestamp"
    return [int(row[0]) for row in rows[1:]]


def _check(tmp_path: Path) -> None:
    from locust import HttpUser, task
    from locust.env import Environment
    from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter

    from scenarios.instrumentation import keep_history_per_point

    class User(HttpUser):
        host = "http://127.0.0.1:9"

        @task
        def nothing(self) -> None:
            pass

    class Runner:
        state = "ready"
        user_count = 0

    environment = Environment(user_classes=[User])
    assert not keep_history_per_point(None, environment)  # a master without --csv
    runner: Any = Runner()
    environment.runner = runner
    writer = StatsCSVFileWriter(environment, PERCENTILES_TO_REPORT, str(tmp_path / "master"),
                                full_history=True)
    assert keep_history_per_point(writer, environment)
    history = Path(writer.stats_history_file_name())
    writer.stats_history_csv_writer.writerow(writer.stats_history_csv_columns)  # the greenlet's

    def tick(now: float) -> None:  # one pass of Locust's writer greenlet (once a second)
        writer._stats_history_data_rows(writer.stats_history_csv_writer, now)
        writer.stats_history_flush()

    for point, start in enumerate((1000, 2000, 3000)):
        runner.state = "stopped" if point else "ready"
        for second in range(start - 50, start):  # idle between points: no rows
            tick(second)
        assert _timestamps(history) == (
            [] if point == 0 else list(range(start - 1000, start - 990))), point
        environment.events.test_start.fire(environment=environment)  # the swarm
        runner.state = "running"
        for second in range(start, start + 10):
            tick(second)
        # only this point's seconds (one row per second: the Aggregated entry, nothing sent)
        assert _timestamps(history) == list(range(start, start + 10)), point
    writer.close_files()
    # the third point's 10 s leave 10 rows, whatever ran before it
    assert history.stat().st_size < 10 * 300, history.stat().st_size


def test_the_master_history_file_holds_only_the_current_point(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, __file__, str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    _check(Path(sys.argv[1]))
    print("ok")
