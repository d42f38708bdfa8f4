"""Command line: ``python -m target_service --host 127.0.0.1 --port 8080 [options]``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn

import uvicorn

from target_service import __version__
from target_service._test_stall import stall_from_env
from target_service._timed_protocol import IMPORT_STRING as TIMED_HTTP_PROTOCOL
from target_service.logs import log_config
from target_service.settings import (
    DEFAULT_CAPACITY,
    ENV_VARS,
    LOG_LEVELS,
    PARSERS,
    STORES,
    Settings,
    check_combination,
    env_defaults,
    export_to_env,
)

GRACEFUL_SHUTDOWN_SECONDS = 20


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _typed(name: str) -> Callable[[str], object]:
    parser = PARSERS[name]

    def convert(text: str) -> object:
        try:
            return parser(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = name.replace("_", " ")
    return convert


def build_parser() -> argparse.ArgumentParser:
    """The command line; defaults shown in --help are the ones used without flag or variable."""
    defaults = Settings()
    parser = _OneLineParser(
        prog="python -m target_service",
        description="The product API under test: Starlette on uvicorn, products in memory "
                    "(one process) or in PostgreSQL (any number), optionally behind Redis. "
                    "Every option can also be set with the environment variable shown; "
                    "a flag wins over its variable.",
    )
    parser.add_argument("--host", type=_typed("host"),
                        help=f"address to bind (HOST, default {defaults.host})")
    parser.add_argument("--port", type=_typed("port"),
                        help=f"TCP port, 1-65535 (PORT, default {defaults.port})")
    parser.add_argument("--workers", type=_typed("workers"),
                        help="uvicorn worker processes; more than 1 needs --store postgres "
                             f"or --allow-split-memory (WORKERS, default {defaults.workers})")
    parser.add_argument("--log-level", type=_typed("log_level"), metavar="LEVEL",
                        help=f"one of {', '.join(LOG_LEVELS)} "
                             f"(LOG_LEVEL, default {defaults.log_level})")
    parser.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None,
                        help="one JSON line per request; turn off for load tests "
                             "(ACCESS_LOG=true/false, default on)")
    parser.add_argument("--capacity", type=_typed("capacity"), metavar="N",
                        help="most products stored, past which POST answers 507: per process "
                             "with memory (default "
                             f"{DEFAULT_CAPACITY}), over the whole database with postgres "
                             "(default: no cap, the disk is the limit) (STORE_CAPACITY)")
    parser.add_argument("--store", type=_typed("store"), metavar="KIND",
                        help=f"one of {', '.join(STORES)} (STORE, default {defaults.store})")
    parser.add_argument("--database-url", type=_typed("database_url"), metavar="URL",
                        help="PostgreSQL URL for --store postgres (DATABASE_URL)")
    parser.add_argument("--cache-url", type=_typed("cache_url"), metavar="URL",
                        help="Redis URL: cache products and listing pages (CACHE_URL, "
                             "default none)")
    parser.add_argument("--db-pool-size", type=_typed("db_pool_size"), metavar="N",
                        help="PostgreSQL connections per worker, 1-200 "
                             f"(DB_POOL_SIZE, default {defaults.db_pool_size})")
    parser.add_argument("--fast-reads", action=argparse.BooleanOptionalAction, default=None,
                        help="answer GET /products/{id} and GET /products before routing "
                             "(FAST_READS=true/false, default on)")
    parser.add_argument("--allow-split-memory", action="store_true", default=None,
                        help="accept --workers > 1 with --store memory: each worker then has "
                             "its own data (ALLOW_SPLIT_MEMORY=true)")
    parser.add_argument("--timeout-keep-alive", dest="keep_alive", type=_typed("keep_alive"),
                        metavar="SECONDS",
                        help="close an idle keep-alive connection after this long; behind a load "
                             "balancer, longer than its idle timeout (TIMEOUT_KEEP_ALIVE, "
                             f"default {defaults.keep_alive})")
    parser.add_argument("--metrics-port", type=_typed("metrics_port"), metavar="PORT",
                        help="also serve /metrics (and /health/live) on this port, from its own "
                             "thread: scrapes do not queue behind the load (METRICS_PORT, "
                             "default off; /metrics stays on --port too)")
    parser.add_argument("--version", action="version", version=f"target_service {__version__}")
    return parser


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    """Settings from flags, then environment variables, then defaults."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        values = env_defaults(os.environ)
    except ValueError as error:
        parser.error(str(error))
    values.update({name: value for name, value in vars(args).items()
                   if name in ENV_VARS and value is not None})
    settings = Settings(**values)  # type: ignore[arg-type]
    try:
        check_combination(settings)
        stall_from_env(os.environ)
    except ValueError as error:
        parser.error(str(error))
    return settings


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the settings and serve until SIGTERM/SIGINT; exit 0 after a graceful shutdown."""
    settings = parse_settings(argv)
    # Workers import the app by name, so the settings reach them through the environment.
    export_to_env(settings, os.environ)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal under the
    # handler it found; with this one the process then exits 0, not killed by it or a traceback.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    uvicorn.run(
        "target_service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        access_log=settings.access_log,
        loop="uvloop",
        http=TIMED_HTTP_PROTOCOL,  # httptools, stamping each request's arrival
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=settings.keep_alive,
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
