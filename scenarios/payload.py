"""The payload dimension: how large a product's free text (`description`) is.

``small`` (the default) is the suite's original product: no description, about 60 bytes of JSON.
Any other choice is a byte size, ``1k`` = 1024 bytes or a plain number of bytes, and every product
the scenario creates or seeds then carries a description of exactly that many ASCII bytes. Pages
(GET /products) list 20 products, so they grow about 20 times as much.
"""

from __future__ import annotations

# The payload's values (small, 4k, N bytes) are parsed and named in one place: runmodel's.
from runmodel.values import DEFAULT_PAYLOAD, MAX_PAYLOAD_BYTES, parse_payload, payload_label

__all__ = ["DEFAULT_PAYLOAD", "MAX_PAYLOAD_BYTES", "description", "description_member",
           "parse_payload", "payload_label"]

# Plain ASCII text: no JSON escaping, so the description's length is its size in bytes.
_FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit; load-test payload text. "


def description(size: int) -> str:
    """A deterministic ASCII description of exactly ``size`` bytes."""
    repeats = size // len(_FILLER) + 1
    return (_FILLER * repeats)[:size]


def description_member(size: int) -> str:
    """``,"description":"..."`` to append to a product's JSON members, or "" for size 0."""
    return f',"description":"{description(size)}"' if size > 0 else ""
