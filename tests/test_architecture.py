"""The architecture's rules, read off the source with ``ast`` (nothing is imported, no load).

Every ``.py`` file of target_service/, scenarios/, analysis/, runmodel/, bench/ and tests/ is
parsed, and each rule lists its offences one per line as ``file:line: what``:

- a ``_``-prefixed module is imported only from its own package (the package that directly
  contains it): ``scenarios/runner/_runner.py`` may import ``scenarios.runner._local_run`` but
  reaches ``scenarios.runner.config._matrix`` only through ``scenarios.runner.config``;
- tests import public names only: no ``from M import _name`` of a module outside tests/;
- dependencies flow one way: target_service and scenarios never import each other, analysis
  imports neither, runmodel (the shared model of a run) imports none of the three;
- no SQL outside target_service/: no string literal (docstrings aside) holding TRUNCATE,
  COPY .. FROM, INSERT INTO, UPDATE .. SET, DELETE FROM or CREATE TABLE.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SELF = Path(__file__).resolve().relative_to(ROOT)
SCANNED = ("target_service", "scenarios", "analysis", "runmodel", "bench", "tests")
# importer's top-level package -> top-level packages it must not import
FORBIDDEN = {
    "target_service": {"scenarios", "analysis"},
    "scenarios": {"target_service", "analysis"},
    "analysis": {"scenarios", "target_service"},
    "runmodel": {"scenarios", "target_service", "analysis"},
}
SQL = re.compile(r"\bTRUNCATE\b|\bCOPY\s+\w+[^;]*?\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b"
                 r"|\bDELETE\s+FROM\b|\bCREATE\s+TABLE\b")


@dataclass(frozen=True)
class Source:
    """One parsed file: its path from the repository root, dotted name and package."""

    path: Path
    module: str  # scenarios.runner.config._matrix; a package's __init__ is the package
    package: str  # the package that directly contains the module (itself for an __init__)
    tree: ast.Module

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


@cache
def sources() -> tuple[Source, ...]:
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "__pycache__" in relative.parts or relative.parts[:2] == ("tests", "data"):
                continue
            parts = list(relative.with_suffix("").parts)
            is_init = parts[-1] == "__init__"
            if is_init:
                parts.pop()
            module = ".".join(parts)
            package = module if is_init else ".".join(parts[:-1])
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
            found.append(Source(relative, module, package, tree))
    return tuple(found)


def _is_module(dotted: str) -> bool:
    """True when ``dotted`` names a module or package of this repository."""
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _absolute(source: Source, node: ast.ImportFrom) -> str | None:
    """The module an ``import from`` reads, as a dotted name of this repository (None: not
    ours)."""
    if node.level:  # relative: from the importer's package, one level up per extra dot
        base = source.package.split(".")
        base = base[:len(base) - node.level + 1]
        return ".".join([*base, *([node.module] if node.module else [])])
    if node.module is None:
        return None
    if node.module.split(".")[0] in SCANNED:
        return node.module
    # a bare name found beside the importer (pytest puts a test's directory on sys.path)
    sibling = f"{source.package}.{node.module}" if source.package else node.module
    return sibling if _is_module(sibling) else None


def imports(source: Source) -> Iterator[tuple[int, str, list[str]]]:
    """(line, imported module, names taken from it) for every import anywhere in the file.

    ``from package import submodule`` yields the submodule as a module of its own."""
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in SCANNED:
                    yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(source, node)
            if module is None:
                continue
            names = []
            for alias in node.names:
                if _is_module(f"{module}.{alias.name}"):
                    yield node.lineno, f"{module}.{alias.name}", []
                else:
                    names.append(alias.name)
            yield node.lineno, module, names


def _private_owner(module: str) -> str | None:
    """The package that owns the first ``_``-prefixed part of ``module`` (None: all public)."""
    parts = module.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:index])
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the string nodes that are docstrings or bare expression statements."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def private_module_offences(files: tuple[Source, ...] | None = None) -> list[str]:
    offences = []
    for source in files or sources():
        for line, module, _names in imports(source):
            owner = _private_owner(module)
            if owner is not None and owner != source.package:
                offences.append(f"{source.path}:{line}: imports {module}, private to {owner}, "
                                f"from {source.package}")
    return offences


def private_name_offences(files: tuple[Source, ...] | None = None) -> list[str]:
    offences = []
    for source in files or sources():
        if source.top != "tests":
            continue
        for line, module, names in imports(source):
            if module.split(".")[0] == "tests":
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    offences.append(f"{source.path}:{line}: a test imports {name} from {module}: "
                                    "tests import public names only")
    return offences


def direction_offences(files: tuple[Source, ...] | None = None) -> list[str]:
    offences = []
    for source in files or sources():
        banned = FORBIDDEN.get(source.top, set())
        for line, module, _names in imports(source):
            if module.split(".")[0] in banned:
                offences.append(f"{source.path}:{line}: {source.top} imports {module}")
    return offences


def sql_offences(files: tuple[Source, ...] | None = None) -> list[str]:
    offences = []
    for source in files or sources():
        if source.top == "target_service" or source.path == SELF:  # SELF: its own examples
            continue
        skip = _docstrings(source.tree)
        for node in ast.walk(source.tree):
            if not isinstance(node, ast.Constant) or id(node) in skip:
                continue
            value = node.value
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            if isinstance(text, str) and (found := SQL.search(text)):
                offences.append(f"{source.path}:{node.lineno}: SQL outside target_service: "
                                f"{found.group(0)!r}")
    return offences


def _report(offences: list[str]) -> str:
    return f"{len(offences)} offence(s):\n" + "\n".join(offences)


def test_every_scanned_file_parses_and_the_rules_see_imports() -> None:
    names = {source.module for source in sources()}
    assert {"scenarios.runner.config._matrix", "target_service.app", "analysis"} <= names
    runner = next(s for s in sources() if s.module == "scenarios.runner._runner")
    assert runner.package == "scenarios.runner"
    assert any(module == "scenarios.runner.config" for _, module, _ in imports(runner))


def test_private_modules_are_imported_only_from_their_own_package() -> None:
    offences = private_module_offences()
    assert not offences, _report(offences)


def test_tests_import_public_names_only() -> None:
    offences = private_name_offences()
    assert not offences, _report(offences)


def test_dependencies_flow_one_way() -> None:
    offences = direction_offences()
    assert not offences, _report(offences)


def test_no_sql_outside_target_service() -> None:
    offences = sql_offences()
    assert not offences, _report(offences)


def test_the_rules_catch_what_they_name() -> None:
    """Each rule, fed offending code, names it: the rules cannot pass vacuously."""
    code = "\n".join([
        "from scenarios.runner.config._matrix import SweepConfig",
        "from analysis import load_history",
        "from scenarios.sweep import _resume_config",
        "RESET = b'BEGIN;\\nTRUNCATE products;\\n'",
        "def total(n):",
        '    """UPDATE product_total SET n: a docstring, not SQL"""',
        "    return f'UPDATE product_total SET n = {n}'",
    ])
    tree = ast.parse(code)
    files = (Source(Path("scenarios/x.py"), "scenarios.x", "scenarios", tree),
             Source(Path("tests/x.py"), "tests.x", "tests", tree))
    assert private_module_offences(files)[0] == (
        "scenarios/x.py:1: imports scenarios.runner.config._matrix, private to "
        "scenarios.runner.config, from scenarios")
    assert direction_offences(files) == ["scenarios/x.py:2: scenarios imports analysis"]
    assert private_name_offences(files) == [
        "tests/x.py:3: a test imports _resume_config from scenarios.sweep: tests import public "
        "names only"]
    sql = sql_offences(files)
    assert [line.split(":")[1] for line in sql] == ["4", "7", "4", "7"]
    assert sql[0].endswith("'TRUNCATE'") and sql[1].endswith("'UPDATE product_total SET'")
