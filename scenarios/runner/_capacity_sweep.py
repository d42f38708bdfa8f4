"""``--find-capacity``: the sweep runner driving a capacity search (``_capacity_search``) per
configuration instead of running a fixed matrix.

The matrix gives the configurations (user class x mix x backend x envelope x delay x payload);
for each, the search picks the arrival rates, one run at a time, through the sweep's own run
loop (fresh service per run, the envelope, the delay proxy, verdicts, run.json). The points
are added to the manifest as they run (``a<rate>`` in the load's place, ``r<n>`` the n-th run at
that rate), and ``capacity.json`` (results/README.md, "Capacity") is rewritten after each run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from scenarios.open_model.options import DEFAULT_EXPECTED_LATENCY_MS, default_pool
from scenarios.runner._capacity_search import (
    CapacitySearch,
    CapacitySpec,
    describe,
    judge_run,
)
from scenarios.runner._runner import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, SweepRunner
from scenarios.runner.config import Objective, Point, SweepConfig
from scenarios.runner.record import utc_iso, write_json

FORMAT, VERSION = "loadbench-capacity", 1
CONFIGURATION_KEYS = ("user_class", "mix", "backend", "service_cpu", "rtt_delay", "payload")


def configurations(points: list[Point]) -> list[Point]:
    """One point per configuration (the first of each), in the matrix's run order."""
    seen: dict[tuple[Any, ...], Point] = {}
    for point in points:
        key = (point.user_class, point.mix, point.backend, point.service_cpu, point.rtt_delay,
               point.payload)
        seen.setdefault(key, point)
    return list(seen.values())


class CapacitySweep(SweepRunner):
    """A sweep whose points a capacity search chooses, one configuration after another."""

    def __init__(self, config: SweepConfig, points: list[Point], objectives: list[Objective],
                 spec: CapacitySpec) -> None:
        bases = [replace(p, arrival_rate=spec.start, repeat=1,
                         users=default_pool(spec.start, DEFAULT_EXPECTED_LATENCY_MS / 1000))
                 for p in configurations(points)]
        super().__init__(config, bases, objectives)
        self.spec = spec
        self.searches: list[tuple[Point, CapacitySearch]] = []

    def _write_manifest(self, status: str, health_info: dict[str, Any] | None = None) -> None:
        fresh = not self.manifest
        if fresh:  # the manifest lists the points that ran; the search adds them as it goes
            self.points, planned = [], self.points
        super()._write_manifest(status, health_info)
        if fresh:
            self.points = planned
            self.manifest["capacity"] = {"file": "capacity.json", **self.spec.to_dict()}
            write_json(self.sweep_dir / "manifest.json", self.manifest)

    def _write_capacity(self) -> None:
        searches = []
        for base, search in self.searches:
            values = {key: getattr(base, key) for key in CONFIGURATION_KEYS}
            values["backend"] = base.backend.name  # memory, postgres or postgres+cache
            searches.append({"configuration": values, **search.result()})
        write_json(self.sweep_dir / "capacity.json", {
            "format": FORMAT, "version": VERSION, "written_at": utc_iso(),
            "slo": [objective.text for objective in self.objectives],
            "latency": "intended-start", "spec": self.spec.to_dict(), "searches": searches})

    def _run_points(self) -> str:
        self.progress.total = self.spec.max_runs * len(self.points)
        index = 0
        for base in self.points:
            search = CapacitySearch(self.spec)
            self.searches.append((base, search))
            self.target.next_backend = self.target.following_backend = base.backend
            self.target.next_payload = self.target.following_payload = base.payload_bytes
            while (step := search.next_step()) is not None:
                rate, phase = step
                point = replace(base, arrival_rate=rate, repeat=len(search.runs(rate)) + 1,
                                users=default_pool(rate, DEFAULT_EXPECTED_LATENCY_MS / 1000))
                self.manifest["points"].append(point.point_id)
                write_json(self.sweep_dir / "manifest.json", self.manifest)
                index += 1
                self.progress.note(f"capacity search {base.user_class}/{base.mix}: {phase} "
                                   f"at {rate:g} arrivals/s")
                record = self._run_point(point, index, last=False)
                if self.stop_event.is_set() or record["verdict"]["status"] == "interrupted":
                    search.stopped = "interrupted"
                    self._write_capacity()
                    return "interrupted"
                search.record(judge_run(record, phase))
                self._write_capacity()
            self._write_capacity()
            self.progress.note(f"capacity {base.user_class}/{base.mix}: "
                               f"{describe(search.result())}")
        return "complete"

    def _report(self, status: str) -> int:
        code = super()._report(status)
        if code == EXIT_INTERRUPTED:
            return code
        for base, search in self.searches:
            self.progress.note(f"capacity under {', '.join(o.text for o in self.objectives)} "
                               f"({base.point_id.rsplit('-a', 1)[0]}): "
                               f"{describe(search.result())}")
        self.progress.note(f"capacity written to {Path(self.sweep_dir) / 'capacity.json'}")
        resolved = bool(self.searches) and all(s.result()["resolved"] for _, s in self.searches)
        return EXIT_OK if resolved else EXIT_INVALID
