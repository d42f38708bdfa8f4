"""The locustfile's own command-line options, registered with Locust's parser.

Each option also reads a ``LOCUST_*`` environment variable and a ``locust.conf`` key (Locust's
configargparse does both), and appears in the web UI's start form. Values are validated by
``argparse`` types that return the text unchanged, so that a bad value stops Locust at start-up
with one ``locust: error: argument --pacing: ...`` line, while the parsed value keeps the type the
web UI's form handling expects (a string or an int).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from scenarios.mixes import DEFAULT_MIX, MIX_PROFILES, MixError, parse_weights, resolve_mix
from scenarios.pacing import DEFAULT_PACING, PacingError, parse_pacing
from scenarios.payload import MAX_PAYLOAD_BYTES

DEFAULT_SEED_PRODUCTS = 1000
DEFAULT_RUN_TAG = "run"
_RUN_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.]{0,23}")


class ScenarioOptionError(ValueError):
    """Scenario options that cannot be used together or at all."""


def _weights_type(text: str) -> str:
    if text.strip():
        try:
            parse_weights(text)
        except MixError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _pacing_type(text: str) -> str:
    try:
        parse_pacing(text)
    except PacingError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _run_tag_type(text: str) -> str:
    if not _RUN_TAG.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"bad run tag {text!r}: use 1-24 letters, digits, '_' or '.', starting with a letter "
            "or digit"
        )
    return text


def _seed_count_type(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= count <= 999_999:
        raise argparse.ArgumentTypeError(f"{count} is outside 0..999999")
    return count


def _payload_bytes_type(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes") from None
    if not 0 <= size <= MAX_PAYLOAD_BYTES:
        raise argparse.ArgumentTypeError(f"{size} is outside 0..{MAX_PAYLOAD_BYTES}")
    return size


def add_scenario_arguments(parser: Any) -> None:
    """Register --mix, --weights, --pacing, --seed-products, --run-tag and --payload-bytes on
    Locust's parser."""
    group = parser.add_argument_group("product scenarios (scenarios/locustfile.py)")
    group.add_argument(
        "--mix", env_var="LOCUST_MIX", default=DEFAULT_MIX, choices=list(MIX_PROFILES),
        help=f"named read/write mix (default {DEFAULT_MIX})",
    )
    group.add_argument(
        "--weights", env_var="LOCUST_WEIGHTS", default="", type=_weights_type,
        help="custom task weights, overriding --mix, e.g. "
             "'get_product=80,list_products=10,create_product=10,create_duplicate=0'",
    )
    group.add_argument(
        "--pacing", env_var="LOCUST_PACING", default=DEFAULT_PACING, type=_pacing_type,
        help="wait between tasks: none, constant:S, between:MIN:MAX, rate:RPS (per user), "
             "poisson:RPS (per user, open-ish arrivals) or locust-default (default none)",
    )
    group.add_argument(
        "--seed-products", env_var="LOCUST_SEED_PRODUCTS", default=DEFAULT_SEED_PRODUCTS,
        type=_seed_count_type,
        help="products seed-000001.. created before the test; reads pick among them "
             f"(default {DEFAULT_SEED_PRODUCTS})",
    )
    group.add_argument(
        "--run-tag", env_var="LOCUST_RUN_TAG", default=DEFAULT_RUN_TAG, type=_run_tag_type,
        help="prefix of the ids that create_product makes: TAG-PROCESS-N (default run)",
    )
    group.add_argument(
        "--payload-bytes", env_var="LOCUST_PAYLOAD_BYTES", default=0, type=_payload_bytes_type,
        help="bytes of description in every product created or seeded; 0 = none, the small "
             f"product (default 0, at most {MAX_PAYLOAD_BYTES})",
    )


@dataclass(frozen=True)
class ScenarioConfig:
    """The scenario options of one test, resolved and checked."""

    mix: str
    weights: dict[str, int]
    pacing: dict[str, Any]
    seed_products: int
    run_tag: str
    payload_bytes: int = 0


def resolve_options(options: Any) -> ScenarioConfig:
    """Resolve parsed options (CLI, env, conf, or the web UI's form) into a ScenarioConfig."""
    try:
        mix, weights = resolve_mix(str(options.mix), str(options.weights or "") or None)
        pacing = parse_pacing(str(options.pacing))
        seed_products = int(options.seed_products)
        run_tag = _run_tag_type(str(options.run_tag))
        payload_bytes = _payload_bytes_type(str(getattr(options, "payload_bytes", 0) or 0))
    except (MixError, PacingError, argparse.ArgumentTypeError, ValueError) as error:
        raise ScenarioOptionError(str(error)) from None
    needs_seed = [name for name in ("get_product", "create_duplicate") if weights[name] > 0]
    if needs_seed and seed_products < 1:
        raise ScenarioOptionError(
            f"--seed-products 0 leaves nothing for {' and '.join(needs_seed)} to hit: "
            "seed at least 1 product or give those tasks weight 0"
        )
    return ScenarioConfig(mix, weights, pacing, seed_products, run_tag, payload_bytes)


def stop_test(environment: Any, message: str) -> None:
    """Log one clear line and end the test (inside Locust): a headless run quits with exit
    code 2, a web UI run stops and waits for the next start."""
    import logging

    import gevent

    logging.getLogger("scenarios").error(message)
    runner = environment.runner
    options = environment.parsed_options
    if runner is None:
        return
    if options is not None and (options.headless or options.autostart):
        environment.process_exit_code = 2
        gevent.spawn(runner.quit)
    else:
        gevent.spawn(runner.stop)
