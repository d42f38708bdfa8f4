"""The ``loadbench`` console script: dispatch a subcommand to its package's ``main``."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

# subcommand -> (module with main(argv), the arguments put before the user's)
COMMANDS: dict[str, tuple[str, list[str]]] = {
    "sweep": ("scenarios.sweep", []),
    "report": ("analysis.__main__", ["report"]),
    "compare": ("analysis.__main__", ["compare"]),
    "summary": ("analysis.__main__", ["summary"]),
}
USAGE = ("usage: loadbench {sweep,report,compare,summary} ...\n"
         "  sweep    run a headless Locust sweep (python -m scenarios.sweep)\n"
         "  report   write a sweep's HTML report (python -m analysis report)\n"
         "  compare  compare two sweeps (python -m analysis compare)\n"
         "  summary  a table for a sweep (python -m analysis summary)\n"
         "'loadbench COMMAND --help' for a command's options.")


def main(argv: list[str] | None = None) -> int:
    """Run ``loadbench COMMAND ARGS``; the command's exit status (2: an unknown command)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"loadbench: error: unknown command {command!r}: choose from "
              f"{', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module_name, prefix = COMMANDS[command]
    module = importlib.import_module(module_name)
    entry: Callable[[list[str]], int] = module.main
    return int(entry([*prefix, *rest]) or 0)
