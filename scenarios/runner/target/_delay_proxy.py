"""An added round-trip delay without netem: a small asyncio TCP proxy in front of the service.

    python -m scenarios.runner.target._delay_proxy --upstream 127.0.0.1:PORT \
        --delay lognormal:44:110 [--stats FILE]

It listens on a free loopback port (printed as the first line on stdout) and forwards every
connection to the upstream. Bytes from the client are held for a delay drawn from the
distribution (``runmodel.delays``: fixed, uniform, lognormal or a file's, from one seeded
stream) before they are sent on, in order per connection; responses come back undelayed. A
chunk that arrives while an earlier one of its connection is still held rides with it (no draw
of its own), so a request split over several reads gets one delay, not the largest of several.
So each request's latency grows by one delay, which is what a round trip of that length adds to
a request on an open keep-alive connection. It does not model bandwidth, loss, TCP dynamics
(slow start, window limits), per-packet delay, or the extra round trips of a new connection's
handshake. The runner starts it on the service's CPUs, outside the service's CPU envelope (the
network is not part of the task), so it costs the generator no CPU.

What it did, written to ``--stats`` when it ends (SIGTERM or SIGINT), run.json's ``rtt_delay``
block (results/README.md): the delays drawn (``intended_ms``) and actually added (``added_ms``:
from a chunk's arrival to its sending on), how late its timers fired against the delay meant
(``lateness_ms``), and its own CPU (``cpu_s``, ``cpu_cores``, ``cpu_cores_busiest``: per
second with traffic).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runmodel.delays import DelaySpec, quantile
from runmodel.values import parse_rtt_delay  # the delay's values are parsed in one place

__all__ = ["Meter", "parse_rtt_delay", "serve", "summary"]

CHUNK = 65536


def summary(values_s: list[float]) -> dict[str, Any]:
    """count, mean, p50, p95, p99, max of ``values_s`` (seconds) in ms; count 0 when empty."""
    if not values_s:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values_s)
    return {"count": len(ordered), "mean": round(1000 * sum(ordered) / len(ordered), 4),
            **{f"p{int(q * 100)}": round(1000 * quantile(ordered, q), 4)
               for q in (0.5, 0.95, 0.99)},
            "max": round(1000 * ordered[-1], 4)}


class Meter:
    """The delays drawn and added, the timers' lateness, and the proxy's CPU per second."""

    def __init__(self) -> None:
        self.intended: list[float] = []
        self.added: list[float] = []
        self.lateness: list[float] = []
        self.rides = 0  # chunks sent on with an earlier chunk's delay
        self.connections = 0
        self.cpu0, self.wall0 = time.process_time(), time.monotonic()
        self.seconds: list[float] = []  # CPU cores used, per second that had traffic

    def record(self, intended: float, added: float, late: float) -> None:
        self.intended.append(intended)
        self.added.append(added)
        self.lateness.append(late)

    async def sample_cpu(self) -> None:
        """Every second: the CPU share of that second, kept when chunks went through."""
        cpu, wall, count = self.cpu0, self.wall0, 0
        while True:
            await asyncio.sleep(1.0)
            now_cpu, now_wall, now_count = time.process_time(), time.monotonic(), len(self.added)
            if now_count > count and now_wall > wall:
                self.seconds.append((now_cpu - cpu) / (now_wall - wall))
            cpu, wall, count = now_cpu, now_wall, now_count

    def stats(self, spec: DelaySpec) -> dict[str, Any]:
        cpu_s, wall_s = time.process_time() - self.cpu0, time.monotonic() - self.wall0
        return {"delayed": len(self.added), "rides": self.rides,
                "connections": self.connections,
                "intended_ms": summary(self.intended), "added_ms": summary(self.added),
                "lateness_ms": summary(self.lateness),
                "cpu_s": round(cpu_s, 4), "wall_s": round(wall_s, 3),
                "cpu_cores": round(cpu_s / wall_s, 4) if wall_s > 0 else None,
                "cpu_cores_busiest": round(max(self.seconds), 4) if self.seconds else None,
                "busy_seconds": len(self.seconds), "distribution": spec.describe()}


async def _pump_delayed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        draw: Callable[[], float], meter: Meter) -> None:
    loop = asyncio.get_running_loop()
    # (due, arrived, delay drawn or None for a chunk riding with the one before, bytes)
    queue: asyncio.Queue[tuple[float, float, float | None, bytes]] = asyncio.Queue()
    last = 0.0
    held = 0

    async def release() -> None:
        nonlocal held
        while True:
            due, arrived, drawn, data = await queue.get()
            if not data:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            now = loop.time()
            if drawn is not None:
                meter.record(drawn, now - arrived, max(0.0, now - due))
            writer.write(data)
            held -= 1
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    sender = asyncio.create_task(release())
    try:
        while True:
            data = await reader.read(CHUNK)
            now = loop.time()
            if not data:  # the client's end: after the bytes before it, no delay of its own
                drawn: float | None = None
                last = max(last, now)
            elif held and last > now:  # an earlier chunk still waits: this one goes with it
                drawn = None
                meter.rides += 1
            else:
                drawn = draw()
                last = max(last, now + drawn)  # keep the byte order
            held += bool(data)
            await queue.put((last, now, drawn, data))
            if not data:
                break
        await sender
    finally:
        sender.cancel()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(CHUNK):
        writer.write(data)
        await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _write_stats(path: Path, stats: dict[str, Any]) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


async def serve(upstream: tuple[str, int], spec: DelaySpec, stats_path: Path | None = None,
                ) -> None:
    """Listen, forward with the delay, and on SIGTERM/SIGINT write the meter to stats_path."""
    draw = spec.sampler()
    meter = Meter()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        meter.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        _nodelay(client_w)
        _nodelay(up_w)
        try:
            await asyncio.gather(_pump_delayed(client_r, up_w, draw, meter),
                                 _pump(up_r, client_w))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (up_w, client_w):
                writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    meter.cpu0, meter.wall0 = time.process_time(), time.monotonic()  # from serving on
    sampler = asyncio.create_task(meter.sample_cpu())
    print(port, flush=True)
    await stop.wait()
    sampler.cancel()
    if stats_path is not None:  # first: what follows may be cut short by the runner's SIGKILL
        _write_stats(stats_path, meter.stats(spec))
    server.close()  # open connections are cancelled with the loop (asyncio.run), not awaited


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios.runner.target._delay_proxy")
    parser.add_argument("--upstream", required=True, help="HOST:PORT")
    parser.add_argument("--delay", required=True,
                        help="MS, MS:JITTER_MS, lognormal:MEAN:P95 or file:PATH")
    parser.add_argument("--stats", type=Path, help="where to write what it did, when it ends")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    try:
        spec = parse_rtt_delay(args.delay)
    except ValueError as exc:
        print(f"--delay: {exc}", file=sys.stderr)
        return 2
    if spec is None:
        print("--delay: none: nothing to delay", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve((host, int(port)), spec, args.stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
