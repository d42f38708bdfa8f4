"""``python -m scenarios.remote_master``: run one point on an already running Locust master.

The documented command; the code is the runner's (``scenarios/runner/generator/remote_master.py``).
"""

from __future__ import annotations

import sys

from scenarios.runner.generator import remote_master_main

if __name__ == "__main__":
    sys.exit(remote_master_main())
