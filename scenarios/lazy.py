"""Lazy public names for a package's ``__init__`` (PEP 562 module ``__getattr__``).

The runner's sub-packages and ``scenarios.instrumentation`` export their public names without
importing their modules up front: a child process started with ``python -m`` of one module
(the Locust fork server, the delaying proxy) then imports only what that module needs, and the
runner never imports Locust (whose import monkey-patches the process with gevent) through
``scenarios.instrumentation``. Each ``__init__`` lists its names once, for mypy in a
``TYPE_CHECKING`` block, in ``__all__``, and in a table of homes given to :func:`exports`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, homes: Mapping[str, tuple[str, str]],
            namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: a public name's module (``homes[name]``: the module
    of the package and the name there) is imported on first use, then cached in ``namespace``
    (the package's ``globals()``)."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = homes[name]
        value = getattr(importlib.import_module(f"{package}.{module}"), attr)
        namespace[name] = value
        return value

    return __getattr__
