"""The load generator's processes: the Locust fork server and the Locust runs it forks, their
CSV and HDR output read back into figures, the calibration of each user class's capacity, and
``remote_master`` (a Locust master elsewhere, driven through its web UI's API; also
``python -m scenarios.remote_master``). Anything that starts, watches or reads Locust belongs here.

Names are imported on first use (PEP 562 ``__getattr__``): ``python -m`` of a module here (a child
process of the runner) then imports only what that module needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.lazy import exports

if TYPE_CHECKING:
    from scenarios.runner.generator._calibration import (
        calibrate,
        keep_in_session_cache,
        session_cache,
        short_run,
    )
    from scenarios.runner.generator._file_probe import probe_locustfile
    from scenarios.runner.generator._locust_output import aggregated_figures, locust_percentile
    from scenarios.runner.generator._locust_process import (
        LocustForkServer,
        LocustOptions,
        LocustRun,
    )
    from scenarios.runner.generator.remote_master import (
        DOWNLOADS,
        SAMPLES_FILE,
        RemoteMasterError,
        master_config,
        run_remote_point,
        wait_for_workers,
    )
    from scenarios.runner.generator.remote_master import main as remote_master_main

__all__ = [
    "DOWNLOADS",
    "SAMPLES_FILE",
    "LocustForkServer",
    "LocustOptions",
    "LocustRun",
    "RemoteMasterError",
    "aggregated_figures",
    "calibrate",
    "keep_in_session_cache",
    "locust_percentile",
    "master_config",
    "probe_locustfile",
    "remote_master_main",
    "run_remote_point",
    "session_cache",
    "short_run",
    "wait_for_workers",
]

_HOMES = {  # public name -> (module of this package, its name there)
    "LocustForkServer": ("_locust_process", "LocustForkServer"),
    "LocustOptions": ("_locust_process", "LocustOptions"),
    "LocustRun": ("_locust_process", "LocustRun"),
    "aggregated_figures": ("_locust_output", "aggregated_figures"),
    "locust_percentile": ("_locust_output", "locust_percentile"),
    "calibrate": ("_calibration", "calibrate"),
    "probe_locustfile": ("_file_probe", "probe_locustfile"),
    "short_run": ("_calibration", "short_run"),
    "session_cache": ("_calibration", "session_cache"),
    "keep_in_session_cache": ("_calibration", "keep_in_session_cache"),
    "DOWNLOADS": ("remote_master", "DOWNLOADS"),
    "RemoteMasterError": ("remote_master", "RemoteMasterError"),
    "SAMPLES_FILE": ("remote_master", "SAMPLES_FILE"),
    "master_config": ("remote_master", "master_config"),
    "run_remote_point": ("remote_master", "run_remote_point"),
    "wait_for_workers": ("remote_master", "wait_for_workers"),
    "remote_master_main": ("remote_master", "main"),
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time names load on first use
    __getattr__ = exports(__name__, _HOMES, globals())
