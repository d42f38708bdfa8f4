"""A locustfile for pypiserver, written the way anyone would: nothing from loadbench in it.

    locust -f docs/byo/locustfile.py --host http://127.0.0.1:8090 PipInstaller

``PipInstaller`` does what ``pip install`` does against a simple index: read a project's page,
then download one of its files; ``IndexBrowser`` reads the whole index now and then. The option
``--projects N`` (this file's own) says how many projects the index holds (``demo-0`` to
``demo-N-1``, as ``docs/byo/demo.py`` creates them).
"""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import urljoin

from locust import HttpUser, between, events, task

LINK = re.compile(r'href="([^"#]+)')


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--projects", type=int, default=40,
                        help="projects in the index (demo-0 ... demo-N-1)")


class PipInstaller(HttpUser):
    """Resolve a project and download one of its files, as pip does."""

    @task
    def install(self) -> None:
        project = f"demo-{random.randrange(int(self.environment.parsed_options.projects))}"
        with self.client.get(f"/simple/{project}/", name="/simple/[project]/",
                             catch_response=True) as page:
            links = LINK.findall(page.text or "")
            if not links:
                page.failure(f"no files listed for {project}")
                return
        self.client.get(urljoin(f"/simple/{project}/", random.choice(links)),
                        name="/packages/[file]")


class IndexBrowser(HttpUser):
    """Read the whole simple index now and then."""

    wait_time = between(0.05, 0.15)

    @task
    def index(self) -> None:
        self.client.get("/simple/", name="/simple/")
