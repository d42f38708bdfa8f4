"""Test only: a tiny HTTP/1.1 server that answers at once, except for a stall every period.

``python tests/scenarios/stall_server.py PORT [--stall-s 1] [--period-s 5]``: any request that
arrives while the server is stalled (the first ``stall_s`` of every ``period_s``, counted from
start) is answered when the stall ends. GET answers 200, POST 201 (a JSON body), so every task
of the product mixes succeeds (seeding sees the last seed product and sends nothing). It prints
``ready`` once listening. Plain asyncio, keep-alive, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import time

_BODY = b'{"productId":"seed-000001","name":"Seed","price":1.00}'


def _response(status: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


_OK = _response("200 OK", _BODY)
_CREATED = _response("201 Created", _BODY)
_CONFLICT = _response("409 Conflict", b'{"detail":"exists"}')


class StallClock:
    """When a request arriving now is answered: at once, or at the end of the current stall."""

    def __init__(self, stall_s: float, period_s: float) -> None:
        self.origin = time.monotonic()
        self.stall_s = stall_s
        self.period_s = period_s

    def wait_s(self) -> float:
        phase = (time.monotonic() - self.origin) % self.period_s
        return self.stall_s - phase if phase < self.stall_s else 0.0


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 clock: StallClock) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            wait = clock.wait_s()
            if wait > 0:
                await asyncio.sleep(wait)
            if head.startswith(b"POST"):
                writer.write(_CONFLICT if b"seed-" in body else _CREATED)
            else:
                writer.write(_OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(port: int, stall_s: float, period_s: float) -> None:
    clock = StallClock(stall_s, period_s)
    server = await asyncio.start_server(lambda r, w: _serve(r, w, clock), "127.0.0.1", port,
                                        backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--stall-s", type=float, default=1.0)
    parser.add_argument("--period-s", type=float, default=5.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.port, arguments.stall_s, arguments.period_s))
