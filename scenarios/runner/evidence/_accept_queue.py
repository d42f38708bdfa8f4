"""The local service's socket queues, read by the runner at the window's edges.

The reader is the Locust side's (``scenarios.instrumentation.socket_queues``, which the settle
rule polls before the window opens): one reading of ``/proc/net/tcp`` for both.
"""

from __future__ import annotations

from scenarios.instrumentation import accept_queue_of as accept_queue
from scenarios.instrumentation import socket_queues

__all__ = ["accept_queue", "socket_queues"]
