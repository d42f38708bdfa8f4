"""Writing a sweep to disk (results/README.md): atomic files, the manifest, run.json, resume."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

from runmodel import dimensions
from runmodel.records import SCHEMA_VERSION, Manifest  # what the runner writes: schema 2
from runmodel.values import parse_rtt_delay
from scenarios.runner.config import SweepConfig, backends, mix_weights, pacing_params

REPO_ROOT = Path(__file__).resolve().parents[3]
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def utc_iso(timestamp: float | None = None) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sweep_id(name: str | None, timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{name or 'sweep'}"


def write_atomic(path: Path, text: str) -> None:
    """Write beside the file, then rename: a file that exists is whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def point_latest_symlink(out: Path, target: Path) -> None:
    """Make ``out/latest`` point at the sweep directory (replaced atomically)."""
    link = out / "latest"
    tmp = out / f".latest.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(target.name)
    os.replace(tmp, link)


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()
    revision = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_revision": revision, "git_dirty": None if status is None else bool(status)}


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    return {"python": platform.python_version(), "locust": _package_version("locust"),
            "loadbench": _package_version("loadbench")}


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {"hostname": platform.node(), "platform": platform.platform(),
            "cpu_model": _cpu_model(), "cpu_count": os.cpu_count(),
            "memory_bytes": psutil.virtual_memory().total}


def new_manifest(config: SweepConfig, name: str, started: float, points: list[str],
                 host: str | None, service_version: str | None,
                 placement: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a new sweep (results/README.md), status "running"; checked against
    runmodel's ``Manifest`` record."""
    local = config.target == "local"
    return Manifest.from_dict({
        "schema_version": SCHEMA_VERSION, "sweep_id": name, "status": "running",
        "created_at": utc_iso(started), "finished_at": None,
        "preset": config.preset, "config": config.to_dict(),
        "matrix": {
            "user_classes": config.user_classes, "mixes": list(mix_weights(config)),
            "mix_weights": mix_weights(config), "users": config.users,
            "repeats": config.repeats, "ramp_s": config.ramp_s, "duration_s": config.duration_s,
            "pacing": pacing_params(config), "processes": config.processes,
            "stores": config.stores, "caches": config.caches,
            "backends": [backend.name for backend in backends(config)],
            "service_cpu": config.service_cpu,  # the CPU envelope (vCPUs, a Fargate size, none)
            "cpu_period_ms": config.cpu_period_ms,
            "rtt_delay": config.rtt_delay,  # the added round-trip delays (runmodel.delays values)
            "payload": config.payload,  # the products' description size (small, 4k, ...)
            **_other_dimensions(config),
        },
        "points": points,
        "target": {
            "kind": "local" if local else "remote",
            "host": host if local else config.host,
            "service_version": service_version,
            "service_workers": config.service_workers if local else None,
            "fresh_service_per_point": local,
            "master_host": config.master_host,
            # each added delay's distribution as applied (mu, sigma, seed; runmodel.delays)
            "rtt_delay": _delays_applied(config.rtt_delay) if local else None,
        },
        "placement": placement,
        "code": git_info(), "versions": versions(), "machine": machine(),
        "command": command_line(), "resumed_at": [],
    }).to_dict()


def _delays_applied(values: list[str]) -> dict[str, Any] | None:
    """``target.rtt_delay``: each delay value -> its distribution as the proxy applies it."""
    applied = {}
    for value in values:
        spec = parse_rtt_delay(value)
        if spec is not None:
            applied[value] = spec.describe()
    return applied or None


def _other_dimensions(config: SweepConfig) -> dict[str, Any]:
    """The values of every dimension setting of runmodel's registry that the matrix above does
    not name (a dimension new to the registry lands in the manifest with no edit here)."""
    named = {"user_classes", "mixes", "users", "repeats", "processes", "stores", "caches",
             "service_cpu", "rtt_delay", "payload"}
    return {field: getattr(config, field) for field in dimensions.SETTINGS
            if field not in named and hasattr(config, field)}


def finished_points(sweep_dir: Path) -> set[str]:
    """Point ids that have a final run.json (resume skips them)."""
    done: set[str] = set()
    for run_json in (sweep_dir / "runs").glob("*/run.json"):
        with contextlib.suppress(OSError, ValueError):
            data = read_json(run_json)
            if data.get("final") is True:
                done.add(str(data["point_id"]))
    return done


def final_runs(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = {}
    for run_json in sorted((sweep_dir / "runs").glob("*/run.json")):
        with contextlib.suppress(OSError, ValueError):
            data = read_json(run_json)
            if data.get("final") is True:
                runs[str(data["point_id"])] = data
    return runs


def stale_runs(sweep_dir: Path, point_id: str) -> list[Path]:
    """Run directories of an unfinished point (removed before it runs again)."""
    return sorted(p for p in (sweep_dir / "runs").glob(f"{point_id}-p*") if p.is_dir())


def command_line() -> list[str]:
    return [Path(sys.executable).name, "-m", "scenarios.sweep", *sys.argv[1:]]
