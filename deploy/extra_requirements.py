"""Print the requirements of one of pyproject.toml's extras, one a line.

Used by the Dockerfile to install an image's dependencies in a layer of their own, before the
source is copied in, so that editing the code does not re-download them:

    python extra_requirements.py service > requirements.txt

An extra that names the project itself (``loadbench[analysis]``) is expanded in place.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def extra_requirements(pyproject: Path, extra: str) -> list[str]:
    """The requirements of ``extra``, with self-references expanded."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})
    self_reference = re.compile(rf"^{re.escape(project['name'])}\[([^\]]+)\]$")
    found: list[str] = list(project.get("dependencies", []))
    pending, seen = [extra], set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        if name not in extras:
            raise ValueError(f"{pyproject}: no extra named {name!r} (have: {', '.join(extras)})")
        seen.add(name)
        for requirement in extras[name]:
            nested = self_reference.match(requirement.replace(" ", ""))
            if nested:
                pending.extend(part.strip() for part in nested.group(1).split(","))
            elif requirement not in found:
                found.append(requirement)
    return found


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: extra_requirements.py EXTRA [PYPROJECT]", file=sys.stderr)
        return 2
    pyproject = Path(argv[2] if len(argv) > 2 else "pyproject.toml")
    try:
        print("\n".join(extra_requirements(pyproject, argv[1])))
    except (OSError, KeyError, ValueError) as error:
        print(f"extra_requirements: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
