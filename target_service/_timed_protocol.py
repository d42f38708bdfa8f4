"""uvicorn's httptools protocol, stamping where a request waited before the app saw it.

``python -m target_service`` runs uvicorn with ``http=TimedHttpToolsProtocol`` (an import string,
so that workers load it too). Per request it adds one ``time.perf_counter()`` per read and one
scope entry:

- ``scope[RECEIVED_KEY]``: when the event loop read the bytes that began this request
  (``data_received``). The metrics layer records ``started - received`` as the request's
  queue time (``loadbench_server_request_queue_seconds``): parsing plus waiting in the loop's
  ready queue behind other work, and behind earlier requests on the same connection
  (pipelining). Not included: time in the kernel's receive buffer before the loop read it.
- per connection, when the loop accepted it: the kernel's ``TCP_INFO`` says how long ago it
  last heard from the client (``tcpi_last_ack_recv``: the handshake's last ACK, or the first
  request's bytes if they came already), a lower bound on the time the connection waited in
  the accept queue (``loadbench_server_accept_queue_seconds``), in the kernel's jiffies
  (1-4 ms). Linux only; elsewhere nothing is recorded.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from target_service.metrics import RECEIVED_KEY, record_accept_wait

IMPORT_STRING = "target_service._timed_protocol:TimedHttpToolsProtocol"
_TCP_INFO = getattr(socket, "TCP_INFO", None)
# struct tcp_info (linux/tcp.h): 8 one-byte fields, 9 u32s, then the times in ms:
# last_data_sent, last_ack_sent, last_data_recv, last_ack_recv.
_LAST_ACK_RECV = struct.Struct("=I")
_LAST_ACK_RECV_OFFSET = 8 + 9 * 4 + 3 * 4
_TCP_INFO_BYTES = _LAST_ACK_RECV_OFFSET + 4

perf_counter = time.perf_counter


def accept_wait_seconds(transport: asyncio.BaseTransport) -> float | None:
    """Seconds since the kernel last heard from the client of a just-accepted connection."""
    if _TCP_INFO is None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _TCP_INFO_BYTES)
    except OSError:
        return None
    if len(info) < _TCP_INFO_BYTES:
        return None
    return float(_LAST_ACK_RECV.unpack_from(info, _LAST_ACK_RECV_OFFSET)[0]) / 1000.0


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus the receive stamp of each request and each connection's wait."""

    received_at = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        wait = accept_wait_seconds(transport)
        if wait is not None:
            record_accept_wait(wait)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.received_at = perf_counter()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[RECEIVED_KEY] = self.received_at  # type: ignore[literal-required]
