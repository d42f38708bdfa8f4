"""The product tasks, written once for HttpUser and FastHttpUser.

Each task is a plain function of the user (Locust calls ``task(user)`` for the callables in
``User.tasks``); both clients offer the same ``catch_response`` context manager. A response is a
failure only when its status is not the one the task expects, with the status and a short
excerpt of the body as the failure's message.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from math import gcd
from typing import Any

from scenarios.instrumentation import TRACKER, instrumentation_on
from scenarios.payload import description_member
from scenarios.seeding import seed_product_id

TaskFunction = Callable[[Any], None]

JSON_HEADERS = {"Content-Type": "application/json"}
GET_PRODUCT = "GET /products/{id}"
LIST_PRODUCTS = "GET /products"
CREATE_PRODUCT = "POST /products"
CREATE_DUPLICATE = "POST /products [duplicate]"


@dataclass
class TaskState:
    """What the tasks of one Locust process share: seed paths and the id prefix for creates."""

    seed_paths: list[str] = field(default_factory=lambda: ["/products/seed-000001"])
    seed_bodies: list[bytes] = field(default_factory=list)
    id_prefix: str = "run-unset"
    description: str = ""  # ',"description":"..."' of --payload-bytes, or ""
    counter: Callable[[], int] = field(default_factory=lambda: itertools.count(1).__next__)

    def configure(self, seed_products: int, run_tag: str, payload_bytes: int = 0) -> None:
        count = max(seed_products, 1)
        self.description = description_member(payload_bytes)
        self.seed_paths = [f"/products/{seed_product_id(i)}" for i in range(1, count + 1)]
        self.seed_bodies = [
            (f'{{"productId":"{seed_product_id(i)}","name":"Duplicate","price":1.00'
             f'{self.description}}}').encode()
            for i in range(1, min(count, 100) + 1)
        ]
        # Made in each process after Locust forks (--processes), so that forked workers differ.
        self.id_prefix = f"{run_tag}-{uuid.uuid4().hex[:12]}"


STATE = TaskState()
# Marks each request's start and end (scenarios/instrumentation/_in_flight.py), unless
# instrumentation is off
_in_flight: Callable[[], AbstractContextManager[None]] = (
    TRACKER.request if instrumentation_on() else nullcontext)


def _failure(expected: int, response: Any) -> str:
    if response.status_code == 0 or response.status_code is None:
        return f"expected {expected}, got no response: {getattr(response, 'error', None)}"
    body = (response.text or "")[:80].replace("\n", " ")
    return f"expected {expected}, got {response.status_code}: {body}"


def get_product(user: Any) -> None:
    """GET an existing seed product by id: expects 200."""
    with _in_flight(), user.client.get(random.choice(STATE.seed_paths), name=GET_PRODUCT,
                                       catch_response=True) as response:
        if response.status_code == 200:
            response.success()
        else:
            response.failure(_failure(200, response))


def list_products(user: Any) -> None:
    """GET the first page of products: expects 200."""
    with _in_flight(), user.client.get("/products", name=LIST_PRODUCTS,
                                       catch_response=True) as response:
        if response.status_code == 200:
            response.success()
        else:
            response.failure(_failure(200, response))


def create_product(user: Any) -> None:
    """POST a product with an id unique across users and processes (and the description of
    --payload-bytes, if any): expects 201."""
    number = STATE.counter()
    body = (
        f'{{"productId":"{STATE.id_prefix}-{number}","name":"Product {number}",'
        f'"price":{1 + number % 1000 / 100:.2f}{STATE.description}}}'
    ).encode()
    with _in_flight(), user.client.post("/products", data=body, headers=JSON_HEADERS,
                                        name=CREATE_PRODUCT, catch_response=True) as response:
        if response.status_code == 201:
            response.success()
        else:
            response.failure(_failure(201, response))


def create_duplicate(user: Any) -> None:
    """POST a seed product again on purpose: expects 409, which counts as a success."""
    with _in_flight(), user.client.post("/products", data=random.choice(STATE.seed_bodies),
                                        headers=JSON_HEADERS, name=CREATE_DUPLICATE,
                                        catch_response=True) as response:
        if response.status_code == 409:
            response.success()
        else:
            response.failure(_failure(409, response))


TASKS: dict[str, TaskFunction] = {
    "get_product": get_product,
    "list_products": list_products,
    "create_product": create_product,
    "create_duplicate": create_duplicate,
}


def task_list(weights: dict[str, int]) -> list[Any]:
    """Locust's ``User.tasks`` list: each task repeated by its weight (divided by the gcd)."""
    positive = {name: weight for name, weight in weights.items() if weight > 0}
    divisor = 0
    for weight in positive.values():
        divisor = gcd(divisor, weight)
    return [TASKS[name] for name, weight in positive.items() for _ in range(weight // divisor)]
