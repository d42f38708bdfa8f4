"""A Locust fork server: imports Locust once, then forks one ready Locust per request.

Importing Locust costs about a second of CPU (more on a busy machine); a sweep runs hundreds of
Locust processes, so the runner starts this server once and asks it, over a Unix socket, for
each run's processes. A request is one JSON line ``{"id", "argv", "cpus", "env"}`` sent with one
file descriptor (where the child's stdout and stderr go); the answers are JSON lines
``{"id", "pid"}`` when the child is running and ``{"pid", "exit"}`` when it has ended.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import json
import logging
import os
import signal
import socket
import sys
import traceback

import gevent
from locust.main import main

_PR_SET_PDEATHSIG = 1
# What the suite's locustfiles (the product's, the plugin, the calibration's) import, imported
# once here instead of in every forked Locust (about 0.1-0.2 s each on a 2-core machine, paid
# inside each run's lifetime and each calibration). Not the locustfiles themselves (Locust loads
# them by path and they register listeners), nor scenarios.tasks (it reads
# LOADBENCH_INSTRUMENTATION when imported, which a fork's own environment may set).
PRELOAD = ("scenarios.options", "scenarios.mixes", "scenarios.seeding", "scenarios.pacing",
           "scenarios.payload", "scenarios.open_model.locust_hooks", "hdrh.histogram")


def _preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(Exception):  # a fork that needs it reports the error itself
            importlib.import_module(name)
    with contextlib.suppress(Exception):  # the instrumentation's modules (lazy exports)
        importlib.import_module("scenarios.instrumentation").register  # noqa: B018


def _run_child(argv: list[str], cpus: list[int], output_fd: int, env: dict[str, str]) -> None:
    """In the forked child: become one Locust process, and never return."""
    code = 1
    try:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if cpus:
            os.sched_setaffinity(0, cpus)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        os.environ.update(env)
        sys.argv = ["locust", *argv]
        # gevent's loop caches "now" from when it last ran: refresh it, or Locust's -t timer
        # would count the time this server spent waiting and fire early.
        gevent.get_hub().loop.update_now()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    finally:
        # Locust has closed its report files: skip tearing down a large interpreter.
        with contextlib.suppress(BaseException):
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(channel: socket.socket) -> None:
    def send(message: dict[str, object]) -> None:
        channel.sendall((json.dumps(message) + "\n").encode())

    def reap(pid: int) -> None:
        _, status = os.waitpid(pid, 0)  # cooperative: gevent patched os
        send({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})

    buffer, fds = b"", []
    while True:
        data, received, _, _ = socket.recv_fds(channel, 65536, 4)
        if not data:
            return  # the runner has gone
        buffer += data
        fds += received
        while b"\n" in buffer:
            line, _, buffer = buffer.partition(b"\n")
            request = json.loads(line)
            output_fd = fds.pop(0)
            pid = os.fork()
            if pid == 0:
                channel.close()
                _run_child(request["argv"], request.get("cpus") or [], output_fd,
                           request.get("env") or {})
            os.close(output_fd)
            send({"id": request["id"], "pid": pid})
            gevent.spawn(reap, pid)


if __name__ == "__main__":
    # Locust and its imports (~70k objects) never die: out of the collector's way, in every fork,
    # so that a full collection does not stall a Locust process for ~100 ms (scenarios/README.md)
    _preload()
    gc.collect()
    gc.freeze()
    serve(socket.socket(fileno=int(sys.argv[1])))
