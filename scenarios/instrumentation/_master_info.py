"""What a master running this locustfile tells the sweep runner (``--master-host``).

``GET /scenarios/master-config``: the options the runner depends on, so that it can refuse a
master that would mislabel its points (no ``--class-picker``: Locust 2.47's ``/swarm`` then
ignores ``user_classes`` and every point runs every class) or keep no per-second history.
``GET /scenarios/stats.json``: the master's merged statistics in the format of Locust's
``--json-file`` (histograms included), which the web UI does not serve; the runner saves it as
the run's ``locust.json``. Serialised without Locust's reset, so reading it changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

CONFIG_ROUTE = "/scenarios/master-config"
STATS_ROUTE = "/scenarios/stats.json"


def add_master_routes(web_ui: Any, environment: Any) -> None:
    """Add both routes to a master's web UI."""

    @web_ui.app.route(CONFIG_ROUTE)
    def master_config() -> dict[str, Any]:
        options = environment.parsed_options
        return {
            "class_picker": bool(getattr(options, "class_picker", False)),
            "csv_prefix": getattr(options, "csv_prefix", None),
            "csv_full_history": bool(getattr(options, "stats_history_enabled", False)),
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
