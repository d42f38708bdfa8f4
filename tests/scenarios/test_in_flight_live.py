"""Requests in flight, counted by the generator, against a service that starves connections.

In a tiny CPU envelope uvicorn serves some of 400 connections and leaves others unanswered for
the whole window (uvloop accepts one new connection per event-loop iteration). Little's law
over completed requests then says the users spent most of the window outside their requests;
the generator's own count (scenarios/instrumentation/_in_flight.py) says they were inside them,
waiting on the service. About 25 s: real service, real headless Locust, a real cgroup quota.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scenarios.runner.evidence import accept_queue, socket_queues

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_accept_queue_counts_connections_not_yet_accepted() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        port = server.getsockname()[1]
        assert accept_queue(port) == 0
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        try:
            assert accept_queue(port) == 3
            connection, _ = server.accept()
            connection.close()
            assert accept_queue(port) == 2
            connection, _ = server.accept()
            clients[2].sendall(b"GET / HTTP/1.1\r\n\r\n")
            time.sleep(0.1)
            assert socket_queues(port) == {"accept_queue": 1, "unread_connections": 1}
            connection.close()
        finally:
            for client in clients:
                client.close()
    assert accept_queue(port) is None  # nothing listens there any more


@pytest.mark.load
def test_a_service_that_leaves_users_unaccepted_is_not_blamed_on_the_generator(
        tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scenarios.sweep", "--out", str(tmp_path), "--user-classes",
         "fast", "--mixes", "read-only", "--users", "400", "--ramp", "1s", "--duration", "5s",
         "--service-cpu", "0.03", "--repeats", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    run_dir = next((tmp_path / "latest" / "runs").iterdir())
    run = json.loads((run_dir / "run.json").read_text())
    files = list((run_dir / "evidence").glob("in-flight-local-*.json"))
    assert len(files) == 1, list((run_dir / "evidence").iterdir())
    law = run["verdict"]["evidence"]["littles_law"]
    print({key: law[key] for key in ("rps", "mean_ms", "residual", "measured_in_flight",
                                     "in_flight_at_end", "oldest_in_flight_s", "service_sockets")})
    # every user is in a request at the end of a closed loop; many have waited seconds
    assert law["in_flight_at_end"] == 400
    assert law["oldest_in_flight_s"] > 3.0
    # the service's socket queues are recorded at both edges (where the waiting requests sit,
    # accept queue or unread sockets, differs from run to run: no figure is asserted)
    assert set(run["service_sockets"]) == {"start", "end"}
    assert all(set(queues) == {"accept_queue", "unread_connections"}
               for queues in run["service_sockets"].values()), run["service_sockets"]
    # completed requests miss the waiting users (enough to cross the rule's tolerance, so the
    # rule is exercised; how many wait differs from run to run: with 300 users the residual was
    # 0.23-0.44 over seven runs on 2026-12-05, under an earlier bound of 0.3 in three of them and
    # in a CI run (0.27); with 400 users it was 0.44-0.60 over four); the generator's count does not
    assert law["residual"] > law["tolerance"], law
    assert abs(law["measured_residual"]) <= law["tolerance"]
    assert "littles-law" not in run["verdict"]["causes"], run["verdict"]["reasons"]
    assert any("still unanswered" in warning for warning in run["verdict"]["warnings"])
    # the report says the point's latency percentiles describe the answered requests only
    from analysis import report
    from analysis.loading import load_sweep
    lines = report.headline(report.build(load_sweep(tmp_path / "latest")))
    assert any("left some requests unanswered" in line and "400 users" in line
               for line in lines), lines
