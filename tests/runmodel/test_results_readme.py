"""results/README.md and runmodel cannot disagree.

- Every field of the run.json and manifest.json models is documented in the README: as a key of
  its JSON example, or by name in backticks (``params.backend``, ``requests.p99_ms``,
  ``client_overhead``).
- Every field the README documents for a modelled block (the JSON examples' keys, and
  ``params.x``, ``window.x``, ``requests.x``, ``verdict.x`` in the text) is a field of the model,
  or one of the historical fields declared below.
- The verdict table lists exactly ``runmodel.verdicts.STATUSES``, and the order sentence gives
  their order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runmodel import verdicts
from runmodel.records import (
    DelayRecord,
    Manifest,
    Params,
    Record,
    Requests,
    RunRecord,
    VerdictRecord,
    Window,
)

README = Path(__file__).resolve().parents[2] / "results" / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS: dict[str, type[Record]] = {"params": Params, "window": Window, "requests": Requests,
                                    "verdict": VerdictRecord, "rtt_delay": DelayRecord}
# Fields the README documents that no model holds any longer (none today): "block.field" or a
# top-level name, with the schema that dropped it.
HISTORICAL: dict[str, str] = {}


def _section(heading: str) -> str:
    """The text under a ``## heading`` line, up to the next heading of that level or higher."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", TEXT, re.MULTILINE)
    assert match, f"results/README.md has no heading {heading!r}"
    level = len(match.group(1))
    rest = TEXT[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def _json_keys(heading: str) -> dict[str, set[str]]:
    """The keys of the JSON example under ``heading``: "" -> top-level keys, and for each
    top-level key whose value is an object, its own keys (by brace depth; ``//`` comments out).
    """
    block = re.search(r"```json\n(.*?)```", _section(heading), re.DOTALL)
    assert block, f"no JSON example under {heading!r}"
    keys: dict[str, set[str]] = {"": set()}
    depth, parent = 0, ""
    for line in block.group(1).splitlines():
        line = re.sub(r"\s+//\s.*$", "", line)
        for token in re.finditer(r'"(\w+)"\s*:|[{}]', line):
            if token.group(0) == "{":
                depth += 1
            elif token.group(0) == "}":
                depth -= 1
            elif depth == 1:
                parent = token.group(1)
                keys[""].add(parent)
                keys.setdefault(parent, set())
            elif depth == 2:
                keys[parent].add(token.group(1))
    return keys


RUN_KEYS = _json_keys("`run.json`")
MANIFEST_KEYS = _json_keys("`manifest.json`")
BACKTICKED = set(re.findall(r"`([\w.]+)`", TEXT))


def _documented(block: str, name: str) -> bool:
    examples = RUN_KEYS if block != "manifest" else MANIFEST_KEYS
    if block in ("run", "manifest"):
        return name in examples[""] or name in BACKTICKED
    return name in examples.get(block, set()) or f"{block}.{name}" in BACKTICKED


@pytest.mark.parametrize(("block", "model"), [("run", RunRecord), ("manifest", Manifest),
                                              *BLOCKS.items()])
def test_every_model_field_is_documented(block: str, model: type[Record]) -> None:
    missing = [name for name in model.known() if not _documented(block, name)]
    assert not missing, (f"results/README.md does not document {block} fields {missing}: add "
                         "them to its JSON example or name them in backticks")


def test_every_documented_field_is_in_a_model() -> None:
    undocumented: list[str] = []
    for name in RUN_KEYS[""]:
        if name not in RunRecord.known() and name not in HISTORICAL:
            undocumented.append(name)
    for name in MANIFEST_KEYS[""]:
        if name not in Manifest.known() and name not in HISTORICAL:
            undocumented.append(f"manifest {name}")
    for block, model in BLOCKS.items():
        named = RUN_KEYS.get(block, set()) | {
            ref.split(".", 1)[1] for ref in BACKTICKED if ref.startswith(f"{block}.")}
        for name in named:
            if "." not in name and name not in model.known() and (
                    f"{block}.{name}" not in HISTORICAL):
                undocumented.append(f"{block}.{name}")
    assert not undocumented, (f"results/README.md documents {sorted(undocumented)}, which no "
                              "runmodel.records model has: add the field to the model, or to "
                              "HISTORICAL here with the schema that dropped it")


def test_the_parser_sees_the_examples() -> None:
    assert {"params", "window", "requests", "verdict"} <= RUN_KEYS[""]
    assert {"user_class", "users", "pacing"} <= RUN_KEYS["params"]
    assert {"status", "reasons", "evidence"} <= RUN_KEYS["verdict"]
    assert {"sweep_id", "matrix", "points"} <= MANIFEST_KEYS[""]


def _verdict_table() -> list[str]:
    section = _section("Verdicts")
    return re.findall(r"^\| `([\w-]+)` \|", section, re.MULTILINE)


def test_the_verdict_table_lists_the_vocabulary() -> None:
    table = _verdict_table()
    assert len(table) == len(set(table))
    assert set(table) == set(verdicts.STATUSES), (
        f"results/README.md's verdict table has {sorted(set(table))}, runmodel.verdicts.STATUSES "
        f"has {sorted(verdicts.STATUSES)}")


def test_the_verdict_order_sentence_is_the_vocabularys_order() -> None:
    sentence = re.search(r"is the first in this order:(.*?)[;.]", _section("Verdicts"),
                         re.DOTALL)
    assert sentence, "results/README.md no longer states the verdict order"
    order = tuple(re.findall(r"`([\w-]+)`", sentence.group(1)))
    assert order == verdicts.STATUSES
