"""The local service's socket queues: what the kernel holds for it that it has not taken.

From ``/proc/net/tcp`` (``tcp6``) for the service's port: a listening socket's receive queue is
the number of connections waiting for ``accept()``; an established socket with bytes in its
receive queue is a connection (accepted or not) whose request the service has not read. A
saturated service that serves some connections and starves others (uvicorn on uvloop accepts
one new connection per event-loop iteration) leaves clients connected but unanswered: their
requests wait outside every latency figure, and only these queues show them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["accept_queue", "socket_queues"]

LISTEN = "0A"  # TCP state codes in /proc/net/tcp
ESTABLISHED = "01"


def socket_queues(port: int, proc_net: Path = Path("/proc/net")) -> dict[str, int] | None:
    """``accept_queue`` (connections not yet accepted) and ``unread_connections`` (accepted
    or not, holding bytes the service has not read) of the service listening on ``port``; None
    if nothing listens there (or /proc/net cannot be read)."""
    listening = False
    queues = {"accept_queue": 0, "unread_connections": 0}
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc_net / name).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 5 or int(fields[1].rsplit(":", 1)[1], 16) != port:
                continue
            receive_queue = int(fields[4].split(":")[1], 16)  # tx_queue:rx_queue
            if fields[3] == LISTEN:
                listening = True
                queues["accept_queue"] += receive_queue
            elif fields[3] == ESTABLISHED and receive_queue > 0:
                queues["unread_connections"] += 1
    return queues if listening else None


def accept_queue(port: int, proc_net: Path = Path("/proc/net")) -> int | None:
    """Connections waiting to be accepted on ``port``; None if nothing listens there."""
    queues = socket_queues(port, proc_net)
    return None if queues is None else queues["accept_queue"]
