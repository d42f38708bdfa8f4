"""Throwaway PostgreSQL and Redis servers on loopback, for local sweeps, tests and benchmarks.

Both come from Debian's packages (`postgresql`, `redis-server`). Each server lives in a fresh
temporary directory, listens on a free loopback port, runs on the CPUs it is given and is stopped
(and its directory removed) by `stop()`. PostgreSQL refuses to run as root, so when this process is
root the server runs as the `postgres` user, on a data directory that user owns.

The service owns its data: emptying and seeding its tables is the service's own admin path
(`python -m target_service.admin reset`, or its `POST /admin/reset`), never SQL from here.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scenarios.runner.processes import (
    NotReady,
    ProcessExited,
    free_port,
    port_open,
    stop_process,
    wait_until_ready,
)
from scenarios.runner.target._cpu_limit import join_active

PG_USER = "postgres"


class ServerError(RuntimeError):
    """A database or cache server could not be found or started; one line."""


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parent.parent.name) if
                   Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


def redis_server_path() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)


def _as_user(cpus: list[int] | None, user: str | None) -> Callable[[], None]:
    entry = pwd.getpwnam(user) if user else None

    def setup() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
        join_active()  # the service's CPU envelope (before dropping root)
        if entry is not None:
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
    return setup


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    try:
        wait_until_ready(lambda: port_open(port), process, timeout, interval=0.05)
    except ProcessExited as exc:
        raise ServerError(f"server exited with code {exc.returncode}: "
                          f"{log.read_text(errors='replace')[-500:]!r}") from None
    except NotReady:
        raise ServerError(f"server not listening on 127.0.0.1:{port} after {timeout:g}s "
                          f"(see {log})") from None


@dataclass
class Server:
    """A running server: its URL, process and directory."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    directory: Path

    def stop(self, timeout: float = 15.0) -> None:
        stop_process(self.process, timeout)  # SIGTERM: PostgreSQL's smart shutdown; Redis exits
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Postgres(Server):
    bin_dir: Path
    user: str | None

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_keeping_data(timeout)
        shutil.rmtree(self.directory, ignore_errors=True)

    def psql(self, sql: str, database: str = "postgres", stdin: bytes | None = None) -> str:
        """Run SQL (and COPY data on stdin) through psql; ServerError with psql's message."""
        result = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, "-d", database, "-c", sql]
            if stdin is None else
            [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, "-d", database],
            input=stdin if stdin is not None else None, capture_output=True, timeout=60,
            check=False)
        if result.returncode != 0:
            raise ServerError(f"psql: {result.stderr.decode(errors='replace').strip()[:300]}")
        return result.stdout.decode()

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{name}"

    def restart(self) -> None:
        """Start the server again on the same port and data (after stop_keeping_data)."""
        self.process = _launch_postgres(self.bin_dir, self.directory, self.port, self.user,
                                        None)

    def stop_keeping_data(self, timeout: float = 15.0) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, the data stays for restart()."""
        stop_process(self.process, timeout, signal.SIGINT)


def _launch_postgres(bin_dir: Path, directory: Path, port: int, user: str | None,
                     cpus: list[int] | None, fsync: bool = True) -> subprocess.Popen[bytes]:
    log = directory / "postgres.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(directory / "data"), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={directory}",
             "-c", "max_connections=200", "-c", f"fsync={'on' if fsync else 'off'}",
             "-c", "shared_buffers=64MB", "-c", "log_min_messages=warning"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_as_user(cpus, user), start_new_session=True)
    _wait_port(port, process, log, 30)
    return process


def start_postgres(cpus: list[int] | None = None, fsync: bool = True) -> Postgres:
    """initdb in a fresh temporary directory, then `postgres` on a free loopback port."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise ServerError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    user = PG_USER if os.geteuid() == 0 else None
    directory = Path(tempfile.mkdtemp(prefix="loadbench-pg-"))
    directory.chmod(0o755)
    if user:
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    init = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(directory / "data"), "-U", PG_USER, "-A", "trust",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        capture_output=True, preexec_fn=_as_user(cpus, user), timeout=120, check=False,
        cwd=directory)
    if init.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise ServerError(f"initdb failed: {init.stderr.decode(errors='replace')[-300:]}")
    port = free_port()
    process = _launch_postgres(bin_dir, directory, port, user, cpus, fsync)
    server = Postgres(f"postgresql://{PG_USER}@127.0.0.1:{port}/postgres", port, process,
                      directory, bin_dir, user)
    deadline = time.monotonic() + 30
    while True:  # listening is not accepting: wait for "the database system is ready"
        try:
            server.psql("SELECT 1")
            return server
        except ServerError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)


def start_redis(cpus: list[int] | None = None, port: int | None = None) -> Server:
    """redis-server on a free loopback port, no persistence, LRU past 256 MB."""
    binary = redis_server_path()
    if binary is None:
        raise ServerError("Redis is not installed (Debian: apt-get install redis-server)")
    directory = Path(tempfile.mkdtemp(prefix="loadbench-redis-"))
    port = port or free_port()
    log = directory / "redis.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(directory), "--maxmemory", "256mb",
             "--maxmemory-policy", "allkeys-lru", "--daemonize", "no"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_as_user(cpus, None), start_new_session=True)
    _wait_port(port, process, log, 15)
    return Server(f"redis://127.0.0.1:{port}/0", port, process, directory)


def redis_command(port: int, *words: str, timeout: float = 2.0) -> bytes:
    """One command to a Redis server; its raw reply (enough for FLUSHALL, SELECT, PING)."""
    payload = f"*{len(words)}\r\n".encode() + b"".join(
        f"${len(w.encode())}\r\n{w}\r\n".encode() for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout) as sock:
        sock.sendall(payload)
        reply = sock.recv(65536)
    if reply.startswith(b"-"):
        raise ServerError(f"redis: {reply.decode(errors='replace').strip()}")
    return reply
