"""The suite's instrumentation for any locustfile, unchanged: a Locust plugin file.

    locust -f scenarios/loadbench_plugin.py,path/to/your_locustfile.py --host URL ...

Locust imports both files (its multi-file ``-f``); this one defines no user class, only the
listeners of ``scenarios/_instrument.py``, the same code path the product scenario
(``scenarios/locustfile.py``) uses: HDR latency per endpoint, the event-loop probe, requests in
flight (every request of Locust's ``HttpUser``/``FastHttpUser`` clients), the distributed
stats-reset fix, the CPU report and the master's routes. With ``LOADBENCH_EVIDENCE_DIR`` set
(the sweep sets it) each process writes its evidence there; ``python -m scenarios.sweep
--locustfile FILE`` loads this plugin beside FILE by itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

from locust import events

if __package__ in (None, ""):  # loaded by path (locust -f): make `scenarios` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenarios.instrumentation import register

register(events)
