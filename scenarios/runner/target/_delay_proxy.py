"""An added round-trip delay without netem: a small asyncio TCP proxy in front of the service.

    python -m scenarios.runner.target._delay_proxy --upstream 127.0.0.1:PORT --delay-ms 20 \
        [--jitter-ms 5]

It listens on a free loopback port (printed as the first line on stdout) and forwards every
connection to the upstream. Bytes from the client are held for DELAY (plus a uniform jitter in
[-JITTER, +JITTER], never below 0) before they are sent on, in order per connection; responses
come back undelayed. So each request's latency grows by one DELAY, which is what a round trip of
DELAY adds to a request on an open keep-alive connection. It does not model bandwidth, loss,
TCP dynamics (slow start, window limits), per-packet delay, or the extra round trips of a new
connection's handshake. The runner starts it on the service's CPUs, outside the service's CPU
envelope (the network is not part of the task), so it costs the generator no CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import socket
import sys

from runmodel.values import parse_rtt_delay  # the delay's values are parsed in one place

__all__ = ["parse_rtt_delay", "serve"]

CHUNK = 65536


async def _pump_delayed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        delay_s: float, jitter_s: float, rng: random.Random) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    last = 0.0

    async def release() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    sender = asyncio.create_task(release())
    try:
        while True:
            data = await reader.read(CHUNK)
            jitter = rng.uniform(-jitter_s, jitter_s) if jitter_s else 0.0
            last = max(last, loop.time() + max(0.0, delay_s + jitter))  # keep the byte order
            await queue.put((last, data))
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


async def serve(upstream: tuple[str, int], delay_s: float, jitter_s: float) -> None:
    rng = random.Random(42)

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        _nodelay(client_w)
        _nodelay(up_w)
        try:
            await asyncio.gather(_pump_delayed(client_r, up_w, delay_s, jitter_s, rng),
                                 _pump(up_r, client_w))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (up_w, client_w):
                writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios.runner.target._delay_proxy")
    parser.add_argument("--upstream", required=True, help="HOST:PORT")
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve((host, int(port)), args.delay_ms / 1000, args.jitter_ms / 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
