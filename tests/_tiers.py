"""The test tiers: which marker a test needs for the processes it starts, checked as it runs.

`make check` runs the quick tier, ``-m "not load and not container and not terraform"``, so a
test that puts live load on the machine (Locust, wrk, the sweep, a benchmark), builds images or
runs Terraform without its marker would slip into it. tests/conftest.py wraps
``subprocess.Popen`` for the whole session: every process a test starts (in its set-up, body or
tear-down, fixtures included) is classified by its command line, and a test whose processes
need a marker it lacks fails at tear-down, naming the command.

One exception, for load only: a Locust, sweep or benchmark process that exits with status 2
refused its input before sending a request (their usage, configuration and preflight errors),
so the one-line-error tests of those command lines stay in the quick tier. wrk never earns it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

LOAD, CONTAINER, TERRAFORM = "load", "container", "terraform"
TIER_MARKERS = (LOAD, CONTAINER, TERRAFORM)
REFUSED = 2  # the exit status of a usage, configuration or preflight error: no load was sent

_WRAPPERS = {"taskset", "nice", "setsid", "env", "timeout", "chrt", "stdbuf"}
_LOAD_PROGRAMS = {"wrk", "locust"}
_CONTAINER_PROGRAMS = {"buildah", "podman", "docker", "build_image.sh", "build_base_image.sh"}
_TERRAFORM_PROGRAMS = {"terraform", "checkov", "moto_server"}
_LOAD_MODULES = {"locust", "scenarios.sweep"}
# wherever the runner keeps them (module paths move): the Locust fork server, the remote point
_LOAD_MODULE_NAMES = {"_locust_launcher", "locust_launcher", "remote_master", "crosscheck_wrk"}
_TERRAFORM_MODULES = {"moto.server"}
_ONLY_PRINTS = {"--help", "-h", "--version", "-V", "--list"}


def _tokens(args: Any) -> list[str]:
    if isinstance(args, (str, bytes, os.PathLike)):
        text = os.fsdecode(args)
        try:
            return shlex.split(text)
        except ValueError:
            return text.split()
    return [os.fsdecode(arg) for arg in args]


def _unwrap(tokens: list[str]) -> list[str]:
    """The command without the wrappers that only place it (taskset -c 1 wrk ... -> wrk ...)."""
    if not tokens or os.path.basename(tokens[0]) not in _WRAPPERS:
        return tokens
    known = _LOAD_PROGRAMS | _CONTAINER_PROGRAMS | _TERRAFORM_PROGRAMS
    for index, token in enumerate(tokens[1:], start=1):
        name = os.path.basename(token)
        if name in known or name.startswith("python") or name.endswith((".py", ".sh")):
            return tokens[index:]
    return []


def _python_target(tokens: list[str]) -> tuple[str, str] | None:
    """("module", name) or ("script", path) of a Python command line, if any."""
    index = 1
    while index < len(tokens):
        token = tokens[index]
        if token == "-m" and index + 1 < len(tokens):
            return "module", tokens[index + 1]
        if token == "-c":
            return None  # inline code: what it runs is not on the command line
        if not token.startswith("-"):
            return "script", token
        index += 2 if token in ("-W", "-X") else 1
    return None


def needed_marker(args: Any) -> str | None:
    """The tier marker a test starting this command line needs, or None (quick tier)."""
    tokens = _unwrap(_tokens(args))
    if not tokens or _ONLY_PRINTS & set(tokens[1:]):
        return None  # prints its usage or version: starts nothing
    program = os.path.basename(tokens[0])
    if program in _LOAD_PROGRAMS:
        return LOAD
    if program in _CONTAINER_PROGRAMS:
        return CONTAINER
    if program in _TERRAFORM_PROGRAMS:
        return TERRAFORM
    if program in ("sh", "bash") and len(tokens) > 1:
        return needed_marker(tokens[1:])
    if program.endswith((".sh", ".py")):
        return needed_marker(["python", tokens[0]]) if program.endswith(".py") else None
    if not program.startswith("python"):
        return None
    target = _python_target(tokens)
    if target is None:
        return None
    kind, name = target
    if kind == "script":
        name = ".".join(name.replace(os.sep, "/").removesuffix(".py").split("/")[-2:])
    package, _, last = name.rpartition(".")
    if package.rpartition(".")[2] == "bench" and not last.startswith(("_", "bench_analysis")):
        return LOAD  # the benchmarks put load on the machine (all but the analysis's)
    if name in _LOAD_MODULES or name.startswith("locust.") \
            or name.rsplit(".", 1)[-1] in _LOAD_MODULE_NAMES:
        return LOAD
    if name.rsplit(".", 1)[-1] == "remote_results" and "run" in tokens:
        return LOAD  # the sweep task's entrypoint: a sweep, then the upload
    if name in _TERRAFORM_MODULES:
        return TERRAFORM
    return None


def may_refuse(args: Any) -> bool:
    """Whether an exit status of 2 means this load command refused its input (not wrk)."""
    tokens = _unwrap(_tokens(args))
    return bool(tokens) and os.path.basename(tokens[0]) != "wrk"


@dataclass
class Started:
    process: subprocess.Popen[Any]
    command: str
    marker: str
    refusable: bool


@dataclass
class Watch:
    """The processes one test started that need a tier marker."""

    markers: frozenset[str]
    started: list[Started] = field(default_factory=list)

    def record(self, process: subprocess.Popen[Any], args: Any) -> None:
        marker = needed_marker(args)
        if marker is not None:
            command = " ".join(_tokens(args))
            self.started.append(Started(process, command[:200], marker, may_refuse(args)))

    def problems(self) -> list[str]:
        """One line per process that needed a marker this test does not carry."""
        lines = []
        for entry in self.started:
            if entry.marker in self.markers:
                continue
            status = entry.process.poll()
            if entry.marker == LOAD and entry.refusable and status == REFUSED:
                continue  # refused its input: no request was sent
            state = "still running" if status is None else f"exit status {status}"
            lines.append(f"this test started `{entry.command}` ({state}) without "
                         f"@pytest.mark.{entry.marker}: mark it (tests/_tiers.py)")
        return lines


class PopenWatcher:
    """Wraps ``subprocess.Popen.__init__`` for the session; records into the current Watch."""

    def __init__(self) -> None:
        self.current: Watch | None = None
        self._original = subprocess.Popen.__init__

    def install(self) -> None:
        original, watcher = self._original, self

        def init(process: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
            original(process, args, *rest, **kwargs)
            if watcher.current is not None:
                watcher.current.record(process, args)

        subprocess.Popen.__init__ = init  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        subprocess.Popen.__init__ = self._original  # type: ignore[method-assign]

    def start(self, markers: Sequence[str]) -> None:
        self.current = Watch(frozenset(markers))

    def finish(self) -> list[str]:
        watch, self.current = self.current, None
        return watch.problems() if watch else []
