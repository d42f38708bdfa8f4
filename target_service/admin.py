"""The service's own data: ``python -m target_service.admin reset --seed N [options]``.

A reset replaces every product with the seed products 1..N (target_service/seeds.py: ids
``seed-000001`` .., each with a description of ``--payload-bytes`` bytes when it is not 0) and
empties the cache. ``--seed 0`` empties the store. Two ways:

- straight to the shared store: ``--store postgres --database-url URL [--cache-url URL]``
  (creates the schema if the service never ran; one transaction: TRUNCATE, binary COPY, the
  counter; then FLUSHDB on the cache's database);
- through a running service's admin route: ``--url http://HOST:PORT`` with the token in
  ``ADMIN_TOKEN`` (``POST /admin/reset``, off unless the service has ``ADMIN_TOKEN`` set). The
  memory store lives inside the service's process, so this is its only way.

Options default to the service's environment variables (STORE, DATABASE_URL, CACHE_URL).
On success one JSON line on stdout (``{"status": "ok", "products": N, "seconds": ...}``), exit
0; a bad option or value: one line on stderr, exit 2; a reset that failed (unreachable database,
refused by the service): one line on stderr, exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, NoReturn

import orjson

from target_service.seeds import check_seed_request, seed_records
from target_service.settings import parse_cache_url, parse_database_url, parse_store

PROG = "python -m target_service.admin"
DB_CONNECT_TIMEOUT_SECONDS = 10.0
HTTP_TIMEOUT_SECONDS = 120.0


class ResetFailed(RuntimeError):
    """The reset could not be done; one line."""


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see --help)\n")


def _typed(parse: Any, what: str) -> Any:
    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    convert.__name__ = what
    return convert


def _whole(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The command line (one sub-command, ``reset``)."""
    parser = _OneLineParser(prog=PROG, description="The service's data: reset and seed the "
                            "store (see target_service/README.md, 'The service owns its data').")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    reset = commands.add_parser("reset", help="replace every product with the seed products",
                                description="Replace every product with the seed products "
                                "seed-000001 .. and empty the cache.")
    reset.add_argument("--seed", type=_typed(_whole, "seed count"), required=True, metavar="N",
                       help="seed products to load (0 empties the store)")
    reset.add_argument("--payload-bytes", type=_typed(_whole, "payload bytes"), default=0,
                       metavar="B", help="each seed product's description size (default 0: "
                       "no description)")
    reset.add_argument("--url", metavar="URL",
                       help="a running service: reset through POST URL/admin/reset with the "
                            "token in ADMIN_TOKEN (the only way for the memory store)")
    reset.add_argument("--store", type=_typed(parse_store, "store"), metavar="KIND",
                       help="memory or postgres (STORE, default memory)")
    reset.add_argument("--database-url", type=_typed(parse_database_url, "database URL"),
                       metavar="URL", help="PostgreSQL URL (DATABASE_URL)")
    reset.add_argument("--cache-url", "--redis-url", dest="cache_url",
                       type=_typed(parse_cache_url, "cache URL"), metavar="URL",
                       help="the service's Redis cache, flushed after the reset (CACHE_URL)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status (0 done, 1 failed, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    env = os.environ
    try:
        store = args.store or parse_store(env.get("STORE") or "memory")
        database_url = args.database_url or (parse_database_url(env["DATABASE_URL"])
                                             if env.get("DATABASE_URL") else "")
        cache_url = args.cache_url if args.cache_url is not None \
            else parse_cache_url(env.get("CACHE_URL", ""))
    except ValueError as error:
        parser.error(f"environment: {error}")
    try:
        seed, payload_bytes = check_seed_request(args.seed, args.payload_bytes, None)
    except ValueError as error:
        parser.error(f"--seed/--payload-bytes: {error}".replace("payloadBytes",
                                                                "--payload-bytes"))
    try:
        if args.url and not env.get("ADMIN_TOKEN"):
            parser.error("--url: set ADMIN_TOKEN to the service's admin token")
        if args.url:
            result = reset_through_route(args.url, env.get("ADMIN_TOKEN", ""), seed,
                                         payload_bytes)
        elif store == "memory":
            parser.error("--store memory: the memory store lives inside the service's process; "
                         "reset it through its admin route with --url URL (and ADMIN_TOKEN)")
        elif not database_url:
            parser.error("--store postgres needs --database-url (DATABASE_URL)")
        else:
            result = asyncio.run(reset_database(database_url, cache_url, seed, payload_bytes))
    except ResetFailed as error:
        print(f"{PROG}: reset failed: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


async def reset_database(database_url: str, cache_url: str, seed: int,
                         payload_bytes: int) -> dict[str, Any]:
    """Reset a PostgreSQL store (and flush its cache) directly; the result line's fields."""
    import asyncpg

    from target_service._postgres_store import UNAVAILABLE_ERRORS, migrate, reset_products

    started = time.perf_counter()
    records = seed_records(seed, payload_bytes)
    try:
        connection = await asyncpg.connect(database_url, timeout=DB_CONNECT_TIMEOUT_SECONDS)
        try:
            await migrate(connection)
            await reset_products(connection, records)
        finally:
            await connection.close()
    except (*UNAVAILABLE_ERRORS, asyncpg.PostgresError) as error:
        raise ResetFailed(f"database: {type(error).__name__}: {error}") from None
    if cache_url:
        await _flush(cache_url)
    return {"status": "ok", "via": "database", "seed": seed, "payloadBytes": payload_bytes,
            "products": seed, "seconds": round(time.perf_counter() - started, 4)}


async def _flush(cache_url: str) -> None:
    import redis.asyncio as redis
    from redis.exceptions import RedisError

    from target_service._redis_cache import flush_cache

    client = redis.Redis.from_url(cache_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        await flush_cache(client)
    except (RedisError, OSError) as error:
        raise ResetFailed(f"cache: {type(error).__name__}: {error} (the database was reset; "
                          "its cached copies were not flushed)") from None
    finally:
        await client.aclose()


def reset_through_route(url: str, token: str, seed: int, payload_bytes: int) -> dict[str, Any]:
    """POST {url}/admin/reset with the bearer token; the service's answer."""
    started = time.perf_counter()
    body = orjson.dumps({"seed": seed, "payloadBytes": payload_bytes})
    request = urllib.request.Request(
        f"{url.rstrip('/')}/admin/reset", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            answer = orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode(errors="replace")
        hint = " (is ADMIN_TOKEN set on the service?)" if error.code == 404 else ""
        raise ResetFailed(f"POST {url}/admin/reset answered {error.code}{hint}: {detail}") \
            from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ResetFailed(f"POST {url}/admin/reset: {error}") from None
    if not isinstance(answer, dict):
        raise ResetFailed(f"POST {url}/admin/reset answered {answer!r}")
    return {**answer, "via": "route", "roundTripSeconds": round(time.perf_counter() - started, 4)}


if __name__ == "__main__":
    sys.exit(main())
