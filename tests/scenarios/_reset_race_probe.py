"""Force the interleaving behind a lost stats reset, with a real master and worker (zmq).

Run as a script (Locust monkey-patches with gevent, so not inside pytest's process). A worker
takes "ramp" requests and sends its report; before the master has read that report, the master
resets its stats (by ``trigger``: the web UI's reset or ``--reset-stats`` at spawning complete)
and forwards the reset. The master therefore reads the worker's pre-reset report after its own
reset: exactly the order the race produces. Then the worker takes "window" requests and reports.
Prints one JSON line: the master's request count and the window's.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import gevent
from locust import User, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from scenarios.instrumentation import install_on_master, install_on_worker

RAMP_REQUESTS, WINDOW_REQUESTS = 57, 7


class Idle(User):
    @task
    def nothing(self) -> None:
        pass


def _request(environment: Environment) -> None:
    environment.events.request.fire(request_type="GET", name="/x", response_time=1.0,
                                    response_length=0, exception=None, context={})


def _wait_for(condition: object, what: str) -> None:
    with gevent.Timeout(10, RuntimeError(f"timed out waiting for {what}")):
        while not condition():  # type: ignore[operator]
            gevent.sleep(0.01)


def main(trigger: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    master_env = Environment(user_classes=[Idle], reset_stats=True)
    master = master_env.create_master_runner("127.0.0.1", port)
    install_on_master(master_env, master)
    worker_env = Environment(user_classes=[Idle])
    worker = worker_env.create_worker_runner("127.0.0.1", port)
    install_on_worker(worker)
    _wait_for(lambda: len(master.clients.ready) == 1, "the worker to connect")

    for _ in range(RAMP_REQUESTS):
        _request(worker_env)
    worker._send_stats()  # the report leaves the worker ...
    # ... and, with no yield in between, the master resets before it reads that report.
    if trigger == "web-ui":
        master.stats.reset_all()  # what POST /stats/reset does
        master_env.events.reset_stats.fire()
    else:
        master_env.events.spawning_complete.fire(user_count=0)  # --reset-stats after the ramp
    gevent.sleep(0.5)  # the master reads the stale report; the worker reads the reset

    for _ in range(WINDOW_REQUESTS):
        _request(worker_env)
    worker._send_stats()
    _wait_for(lambda: master.stats.total.num_requests >= WINDOW_REQUESTS, "the window's report")
    gevent.sleep(0.2)
    print(json.dumps({"trigger": trigger, "master_requests": master.stats.total.num_requests,
                      "window_requests": WINDOW_REQUESTS}))
    worker.quit()
    master.quit()


if __name__ == "__main__":
    main(sys.argv[1])
