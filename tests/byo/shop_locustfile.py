"""A user's own locustfile for tests/byo/shop_app.py: nothing from loadbench in it.

Two user classes and an option of its own (``--search-share``), as any locustfile may have.
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, HttpUser, events, task


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--search-share", type=float, default=0.2,
                        help="the share of requests that search (0 to 1)")


class _Shopper:
    environment: Any
    client: Any

    def shop(self) -> None:
        share = float(self.environment.parsed_options.search_share)
        if random.random() < share:
            self.client.get("/search?q=item 1", name="/search")
        else:
            self.client.get(f"/items/{random.randrange(200)}", name="/items/[id]")


class BrowsingShopper(_Shopper, HttpUser):
    """A shopper on python-requests."""

    @task
    def visit(self) -> None:
        self.shop()


class FastShopper(_Shopper, FastHttpUser):
    """A shopper on geventhttpclient."""

    @task
    def visit(self) -> None:
        self.shop()
