"""``--metrics-port``: ``/metrics`` (``/completions``, ``/health/live``) on a second socket.

The main port's connections wait in the accept and receive queues of one event loop; at
saturation a scrape waits with them (or is lost). This listener is a separate socket served by
a plain ``http.server`` in its own threads, so a scrape waits at most for the interpreter lock
(a few milliseconds: Python's switch interval is 5 ms), never behind the load's requests. It
reads the same figures as the main port's ``/metrics`` (a snapshot taken under the interpreter
lock; a request being recorded at that instant may show in its bucket but not yet its sum).
With ``--workers N`` every worker binds the port with SO_REUSEPORT and the kernel picks one per
connection, as on the main port.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import orjson
from prometheus_client import CollectorRegistry, generate_latest

from target_service._completions import COMPLETIONS

logger = logging.getLogger("target_service")
_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class _Server(ThreadingHTTPServer):
    registry: CollectorRegistry
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # a status line and headers even on unreadable input
    server_version = "target_service-metrics"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection is closed after this long

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(self.server.registry), _TEXT, head)
        elif path == "/completions":
            self._completions(head)
        elif path == "/health/live":
            self._send(200, orjson.dumps({"status": "ok", "pid": os.getpid()}),
                       "application/json", head)
        else:
            self._error(404, "not_found",
                        "this listener serves /metrics, /completions and /health/live only")

    def _completions(self, head: bool) -> None:
        """``GET /completions?from=T0&to=T1`` (epoch seconds): the responses sent in
        [T0, T1) by this process (target_service/_completions.py), as JSON."""
        query = parse_qs(self.path.split("?", 1)[1] if "?" in self.path else "")
        try:
            start, end = (float(query[name][0]) for name in ("from", "to"))
            if not (math.isfinite(start) and math.isfinite(end)) or end < start:
                raise ValueError
        except (KeyError, ValueError):
            self._error(400, "bad_request", "give from and to as epoch seconds, from <= to")
            return
        answer = {**COMPLETIONS.count(start, end), "pid": os.getpid()}
        self._send(200, orjson.dumps(answer), "application/json", head)

    def _refuse(self) -> None:
        self._error(405, "method_not_allowed", "method not allowed on this resource",
                    [("allow", "GET, HEAD")])

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, a header too long) as JSON."""
        self.close_connection = True
        self._error(code, "bad_request" if code < 500 else "http_error",
                    message or "the request could not be read")

    def _error(self, status: int, code: str, message: str,
               headers: list[tuple[str, str]] | None = None) -> None:
        body = orjson.dumps({"error": code, "message": message, "status": status})
        self._send(status, body, "application/json", False, headers)

    def _send(self, status: int, body: bytes, content_type: str, head: bool,
              headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # scrapes are not the service's access log


class MetricsListener:
    """Serve `registry` at http://host:port/metrics from a daemon thread until stop()."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry,
                 reuse_port: bool = False) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("_MetricsServer", (_Server,), {
            "address_family": family, "allow_reuse_port": reuse_port})
        try:
            self.server = server_class((host, port), _Handler)
        except OSError as error:
            raise RuntimeError(f"--metrics-port {port}: cannot listen on {host}: {error}") \
                from None
        self.server.registry = registry
        self.server.timeout = 1.0
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.5,),
                                        name="metrics-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()
        logger.info("metrics listener ready", extra={"port": self.server.server_address[1],
                                                     "pid": os.getpid()})

    def stop(self) -> None:
        # shutdown() waits for serve_forever's next poll (up to 0.5 s, paid at every service
        # stop, the sweep's last one on its critical path): a connection wakes the poll at once
        stopping = threading.Thread(target=self.server.shutdown, name="metrics-stop", daemon=True)
        stopping.start()
        for _ in range(10):
            with contextlib.suppress(OSError):
                socket.create_connection(self.server.server_address[:2], timeout=0.5).close()
            stopping.join(timeout=0.05)
            if not stopping.is_alive():
                break
        stopping.join(timeout=5)
        self.server.server_close()
        self._thread.join(timeout=5)
