"""The bring-your-own tests' service: tests/byo/shop_app.py on uvicorn, on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, free_port

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "shop_locustfile.py"


CPUS = sorted(os.sched_getaffinity(0))
# the shop on the first CPU, Locust on the others (as the product service and the sweep are)
SHOP_CPUS, GENERATOR_CPUS = (CPUS[:1], CPUS[1:]) if len(CPUS) > 1 else (CPUS, CPUS)


@dataclass
class Shop:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def metrics(self) -> str:
        return f"{self.url}/metrics"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """tests/byo/shop_app.py served by uvicorn (one process) on a free loopback port."""
    port = free_port()
    log = (tmp_path_factory.mktemp("shop") / "shop.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.byo.shop_app:app", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"], cwd=REPO_ROOT, stdout=log,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, SHOP_CPUS))
    shop = Shop(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{shop.url}/items/1", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the shop did not start: {log.name}") from None
            time.sleep(0.1)
    yield shop
    process.terminate()
    process.wait(timeout=10)
    log.close()
