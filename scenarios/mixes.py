"""Read/write mixes: named task weights shared by the locustfile and the sweep runner."""

from __future__ import annotations

from collections.abc import Mapping

TASK_NAMES: tuple[str, ...] = ("get_product", "list_products", "create_product", "create_duplicate")

MIX_PROFILES: dict[str, dict[str, int]] = {
    "read-only": {"get_product": 90, "list_products": 10, "create_product": 0},
    "read-heavy": {"get_product": 80, "list_products": 10, "create_product": 10},
    "balanced": {"get_product": 45, "list_products": 10, "create_product": 45},
    "write-heavy": {"get_product": 15, "list_products": 5, "create_product": 80},
}

DEFAULT_MIX = "read-heavy"


class MixError(ValueError):
    """A mix name or weight specification that cannot be used."""


def parse_weights(spec: str) -> dict[str, int]:
    """Parse ``"get_product=90,list_products=5,create_product=5"`` into task weights."""
    weights: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in TASK_NAMES:
            raise MixError(
                f"bad weight {part!r}: expected TASK=WEIGHT with TASK one of "
                f"{', '.join(TASK_NAMES)}"
            )
        try:
            weight = int(value)
        except ValueError:
            raise MixError(
                f"bad weight {part!r}: {value.strip()!r} is not a whole number"
            ) from None
        if weight < 0:
            raise MixError(f"bad weight {part!r}: weights cannot be negative")
        weights[name] = weight
    return check_weights(weights)


def check_weights(weights: Mapping[str, int]) -> dict[str, int]:
    """Return the weights with every task present; reject an all-zero mix."""
    full = {name: int(weights.get(name, 0)) for name in TASK_NAMES}
    if sum(full.values()) <= 0:
        raise MixError("a mix needs at least one task with a positive weight")
    return full


def resolve_mix(name: str, weights_spec: str | None = None) -> tuple[str, dict[str, int]]:
    """The mix's name and full weights: a named profile, or ``custom`` when weights are given."""
    if weights_spec:
        return "custom", parse_weights(weights_spec)
    if name not in MIX_PROFILES:
        raise MixError(f"unknown mix {name!r}: choose one of {', '.join(MIX_PROFILES)}")
    return name, check_weights(MIX_PROFILES[name])
