"""What a master running this locustfile tells the sweep runner (``--master-host``).

``GET /scenarios/master-config``: the options the runner depends on, so that it can refuse a
master that would mislabel its points (no ``--class-picker``: Locust 2.47's ``/swarm`` then
ignores ``user_classes`` and every point runs every class) or keep no per-second history.
``GET /scenarios/stats.json``: the master's merged statistics in the format of Locust's
``--json-file`` (histograms included), which the web UI does not serve; the runner saves it as
the run's ``locust.json``. Serialised without Locust's reset, so reading it changes nothing.

The master's ``--csv-full-history`` file is kept per point (``keep_history_per_point``): a
long-lived master (ECS, ``locust_always_on``) would otherwise append a row per entry every second
for as long as it lives, and each point would download all of it.
"""

from __future__ import annotations

import json
from typing import Any

CONFIG_ROUTE = "/scenarios/master-config"
STATS_ROUTE = "/scenarios/stats.json"


# Runner states in which the history gets rows: from the swarm to the end of the stop.
HISTORY_STATES = frozenset({"spawning", "running", "stopping", "cleanup"})


def keep_history_per_point(writer: Any, environment: Any) -> bool:
    """Make Locust's history CSV hold one point: rewound to its header at each test start (a
    master fires test_start at each swarm from a stopped state), and no rows while the master
    is idle between points. False when the master keeps no history file (no ``--csv``)."""
    handle = getattr(writer, "stats_history_csv_filehandle", None)
    write_rows = getattr(writer, "_stats_history_data_rows", None)
    if handle is None or write_rows is None:
        return False

    def rows_while_running(csv_writer: Any, now: float) -> None:
        runner = environment.runner
        if runner is not None and str(getattr(runner, "state", "")) in HISTORY_STATES:
            write_rows(csv_writer, now)

    def rewind(**_kwargs: Any) -> None:
        # gevent does not switch inside file calls: the writer's greenlet cannot interleave
        handle.seek(0)
        handle.truncate()
        writer.stats_history_csv_writer.writerow(writer.stats_history_csv_columns)
        handle.flush()

    writer._stats_history_data_rows = rows_while_running
    environment.events.test_start.add_listener(rewind)
    return True


def add_master_routes(web_ui: Any, environment: Any) -> None:
    """Add both routes to a master's web UI, and keep its history file per point."""
    per_point = keep_history_per_point(getattr(web_ui, "stats_csv_writer", None), environment)

    @web_ui.app.route(CONFIG_ROUTE)
    def master_config() -> dict[str, Any]:
        options = environment.parsed_options
        return {
            "class_picker": bool(getattr(options, "class_picker", False)),
            "csv_prefix": getattr(options, "csv_prefix", None),
            "csv_full_history": bool(getattr(options, "stats_history_enabled", False)),
            "history_per_point": per_point,
            "user_classes": sorted(getattr(environment, "available_user_classes", None)
                                   or environment.user_classes_by_name),
            "stats_json_route": STATS_ROUTE,
        }

    @web_ui.app.route(STATS_ROUTE)
    def stats_json() -> Any:
        stats = environment.runner.stats if environment.runner is not None else None
        entries = [] if stats is None else [
            entry.serialize() for entry in stats.entries.values()
            if entry.num_requests or entry.num_failures]
        return web_ui.app.response_class(json.dumps(entries), mimetype="application/json")
