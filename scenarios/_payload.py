"""The payload dimension: how large a product's free text (`description`) is.

``small`` (the default) is the suite's original product: no description, about 60 bytes of JSON.
Any other choice is a byte size, ``1k`` = 1024 bytes or a plain number of bytes, and every product
the scenario creates or seeds then carries a description of exactly that many ASCII bytes. Pages
(GET /products) list 20 products, so they grow about 20 times as much.
"""

from __future__ import annotations

import re

DEFAULT_PAYLOAD = "small"
# The service's limit on a description (target_service/products.py MAX_DESCRIPTION_LENGTH).
MAX_PAYLOAD_BYTES = 32768
_SIZE = re.compile(r"(\d+)(k)?")
# Plain ASCII text: no JSON escaping, so the description's length is its size in bytes.
_FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit; load-test payload text. "


def parse_payload(text: str) -> int:
    """``small`` -> 0 (no description), ``4k`` -> 4096, ``1000`` -> 1000; ValueError otherwise."""
    label = str(text).strip().lower()
    if label == DEFAULT_PAYLOAD:
        return 0
    match = _SIZE.fullmatch(label)
    if not match:
        raise ValueError(f"bad payload {text!r}: use small, a size such as 1k, 4k or 16k, "
                         "or a number of bytes")
    size = int(match.group(1)) * (1024 if match.group(2) else 1)
    if not 1 <= size <= MAX_PAYLOAD_BYTES:
        raise ValueError(f"bad payload {text!r}: the description must be 1 to "
                         f"{MAX_PAYLOAD_BYTES} bytes (32k), the service's limit")
    return size


def payload_label(text: str) -> str:
    """The canonical name of a payload choice: ``small``, ``4k`` (a multiple of 1024) or bytes."""
    size = parse_payload(text)
    if size == 0:
        return DEFAULT_PAYLOAD
    return f"{size // 1024}k" if size % 1024 == 0 else str(size)


def description(size: int) -> str:
    """A deterministic ASCII description of exactly ``size`` bytes."""
    repeats = size // len(_FILLER) + 1
    return (_FILLER * repeats)[:size]


def description_member(size: int) -> str:
    """``,"description":"..."`` to append to a product's JSON members, or "" for size 0."""
    return f',"description":"{description(size)}"' if size > 0 else ""
