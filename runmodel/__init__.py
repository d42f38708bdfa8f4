"""The shared model of a run: what the sweep runner writes and the analysis reads.

Both ``scenarios`` (the runner) and ``analysis`` import this package; they never import each
other, and this package imports neither (nor ``target_service``, Locust or pandas: standard
library only, so it loads fast). It holds:

- ``runmodel.dimensions``: the registry of the sweep's dimensions (flags, parsing, defaults,
  labels, point-id tags, column titles, point keys), with ``runmodel.values`` the values' rules;
- ``runmodel.records``: run.json and manifest.json as typed records, and their readers;
- ``runmodel.verdicts``: the verdict vocabulary and its order;
- ``runmodel.percentiles`` and ``runmodel.littles_law``: the percentile rules and Little's law.

See ARCHITECTURE.md for where it sits among the rooms.
"""

from runmodel.dimensions import (
    DIMENSIONS,
    USER_CLASS_NAMES,
    Dimension,
    Setting,
    by_name,
    parse_setting,
    point_id,
    point_keys,
    run_id,
    series_dimensions,
)
from runmodel.records import (
    SCHEMA_VERSION,
    SCHEMA_VERSIONS,
    Manifest,
    RecordError,
    RunRecord,
    load_manifest,
    load_run,
)
from runmodel.values import Backend, DimensionError
from runmodel.verdicts import ORDER, STATUSES

__all__ = [
    "DIMENSIONS", "ORDER", "SCHEMA_VERSION", "SCHEMA_VERSIONS", "STATUSES", "USER_CLASS_NAMES",
    "Backend", "Dimension", "DimensionError", "Manifest", "RecordError", "RunRecord", "Setting",
    "by_name", "load_manifest", "load_run", "parse_setting", "point_id", "point_keys", "run_id",
    "series_dimensions",
]
