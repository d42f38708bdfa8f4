"""Any locustfile in the sweep ("bring your own"): what differs from the product scenario.

``--locustfile FILE`` names a locustfile that runs with plain ``locust -f FILE``, unchanged. The
runner loads the suite's instrumentation beside it (``scenarios/loadbench_plugin.py``, Locust's
multi-file ``-f``), takes the file's own user classes by their class names, passes the options
the file defines through (``[locust_args]`` in the TOML file, or repeated ``--locust-arg``), and
refuses in one line the dimensions only the product scenario has: its mixes, task weights,
payloads, seed products, backends (--store, --cache) and pacing option. The mix of such a sweep is
the file itself: its name (without ``.py``) stands where a product sweep names its mix.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from scenarios.user_classes import LOCUSTFILE

REPO_ROOT = Path(__file__).resolve().parents[3]
PLUGIN = "scenarios/loadbench_plugin.py"  # relative to the repository root
# (SweepConfig field, its flag): settings that only the product scenario understands
PRODUCT_ONLY = (("mixes", "--mixes"), ("weights", "--weights"), ("payload", "--payload"),
                ("seed_products", "--seed-products"), ("stores", "--store"),
                ("caches", "--cache"), ("pacing", "--pacing"), ("service_workers",
                                                                "--service-workers"))


def is_product(locustfile: str) -> bool:
    """True for the product scenario (scenarios/locustfile.py), however the path is written."""
    product = (REPO_ROOT / LOCUSTFILE).resolve()
    given = Path(locustfile)
    return (given if given.is_absolute() else REPO_ROOT / given).resolve() == product or (
        given.resolve() == product)


def locustfile_path(locustfile: str) -> Path:
    """The file as given (relative to the working directory), else relative to the repo."""
    given = Path(locustfile)
    return given if given.is_file() or given.is_absolute() else REPO_ROOT / given


def locust_files(locustfile: str) -> str:
    """Locust's ``-f``: the product scenario alone, any other file after the plugin."""
    if is_product(locustfile):
        return locustfile
    return f"{REPO_ROOT / PLUGIN},{locustfile_path(locustfile).resolve()}"


def mix_name(locustfile: str) -> str:
    """The name that stands for the mix in a bring-your-own sweep: the file's stem."""
    return Path(locustfile).stem


def locust_args(value: Any, what: str) -> list[str]:
    """A TOML table ``{name = value}`` or a list of strings -> Locust arguments.

    ``{projects = 40, verbose = true, tag = ["a", "b"]}`` -> ``--projects 40 --verbose --tag a
    --tag b`` (false leaves the option out); each string of a list is split like a shell word
    list (``"--search-share 0.3"``). Raises ValueError with a one-line message.
    """
    if isinstance(value, dict):
        args: list[str] = []
        for name, item in value.items():
            flag = "--" + str(name).lstrip("-").replace("_", "-")
            for one in item if isinstance(item, list) else [item]:
                if one is True:
                    args.append(flag)
                elif one is not False and one is not None:
                    if isinstance(one, dict):
                        raise ValueError(f"{what}: {name}: expected a value, got a table")
                    args += [flag, str(one)]
        return args
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a table or a list of strings, got {value!r}")
    args = []
    for item in value:
        try:
            args += shlex.split(str(item))
        except ValueError as exc:
            raise ValueError(f"{what}: {item!r}: {exc}") from None
    return args


def refused(settings: dict[str, Any], defaults: dict[str, Any]) -> str | None:
    """The first product-only setting given a non-default value, as the one-line error."""
    for key, flag in PRODUCT_ONLY:
        if key in settings and settings[key] != defaults.get(key):
            return (f"{flag}: needs the product scenario (scenarios/locustfile.py); a "
                    "--locustfile of your own defines its own requests, their mix and pacing")
    return None
