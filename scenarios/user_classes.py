"""The user classes of ``scenarios/locustfile.py`` by their short names.

Imports nothing from Locust: the sweep runner uses it to turn ``--user-classes http,fast`` into
Locust's positional user-class arguments without entering Locust's gevent-patched world.
"""

from __future__ import annotations

USER_CLASSES: dict[str, str] = {
    "http": "HttpProductUser",  # locust.HttpUser (requests)
    "fast": "FastProductUser",  # locust.FastHttpUser (geventhttpclient)
}

LOCUSTFILE = "scenarios/locustfile.py"  # relative to the repository root


class UserClassError(ValueError):
    """A user-class short name that the locustfile does not define."""


def locust_class_name(short_name: str) -> str:
    """``http`` -> ``HttpProductUser``; a one-line UserClassError for anything else."""
    try:
        return USER_CLASSES[short_name]
    except KeyError:
        raise UserClassError(
            f"unknown user class {short_name!r}: choose one of {', '.join(USER_CLASSES)}"
        ) from None
