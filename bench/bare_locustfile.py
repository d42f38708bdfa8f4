"""The baseline for bench/user_classes.py: bare Locust users doing only GET /products/{id}.

No options, no catch_response, no seeding (the benchmark seeds the service first): the least a
Locust user of each client can do per request.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, HttpUser, constant, task

PATHS = [f"/products/seed-{index:06d}" for index in range(1, 1001)]


class BareHttpUser(HttpUser):
    wait_time = constant(0)

    @task
    def get_product(self) -> None:
        self.client.get(random.choice(PATHS), name="GET /products/{id}")


class BareFastUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get_product(self) -> None:
        self.client.get(random.choice(PATHS), name="GET /products/{id}")
