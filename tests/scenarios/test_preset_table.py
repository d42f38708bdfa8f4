"""scenarios/README.md's preset table says what scenarios/sweeps/*.toml run (quick tier).

The study preset was once described as 3 mixes × 5 levels × 3 repeats with a 10 s window while
its TOML ran 2 mixes × 8 levels × 2 repeats with an 8 s window: every preset must have a row,
every row a preset, and each row's key settings must be the TOML's.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from runmodel.values import rtt_delay_label

ROOT = Path(__file__).resolve().parents[2]
SWEEPS = ROOT / "scenarios" / "sweeps"
README = ROOT / "scenarios" / "README.md"


def _rows() -> dict[str, str]:
    text = README.read_text()
    start = text.index("| preset | matrix |")
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        found = re.match(r"\|\s*`([\w-]+)`\s*\|", line)
        assert found, f"scenarios/README.md: a preset row without a `name`: {line}"
        rows[found.group(1)] = line
    return rows


def _seconds(value: object) -> str:
    text = str(value).strip()
    number = float(text[:-2]) / 1000 if text.endswith("ms") else float(text.rstrip("s"))
    return f"{number:g} s"


def _delay(value: str) -> str:
    return rtt_delay_label(value)  # none, 10 ms, 40±5 ms, lognormal 44 ms, p95 110 ms


def _expected(settings: dict[str, object]) -> list[str]:
    """Fragments the row must contain, from the TOML's key settings."""
    wanted = [", ".join(map(str, settings["user-classes"]))]  # type: ignore[call-overload]
    if "mixes" in settings:
        wanted.append(", ".join(map(str, settings["mixes"])))  # type: ignore[call-overload]
    if "weights" in settings:
        for pair in str(settings["weights"]).split(","):
            name, weight = pair.split("=")
            wanted.append(f"`{name}` {weight}")
    if "arrival-rates" in settings:  # the open model: rates instead of users
        wanted.append(", ".join(map(str, settings["arrival-rates"]))  # type: ignore[call-overload]
                      + " arrivals/s")
    else:
        wanted.append(", ".join(map(str, settings["users"])) + " users")  # type: ignore[call-overload]
    if "repeats" in settings:  # a capacity search's preset repeats only its deciding rates
        repeats = int(settings["repeats"])  # type: ignore[call-overload]
        wanted.append(f"× {repeats} repeat" + ("s" if repeats != 1 else ""))
    wanted.append(f"ramp {_seconds(settings['ramp'])}")
    wanted.append(f"window {_seconds(settings['duration'])}")
    processes = settings.get("processes")
    if processes is not None:
        wanted.append(f"{processes} process")
    cpus = settings.get("service-cpu")
    if cpus is not None:
        wanted.extend(f"`{cpu}`" for cpu in (cpus if isinstance(cpus, list) else [cpus]))
    delays = settings.get("rtt-delay")
    if delays is not None:
        for delay in delays if isinstance(delays, list) else [delays]:
            wanted.append(_delay(str(delay)))
    pacing = str(settings.get("pacing", "none"))
    if pacing.startswith("between:"):
        low, high = pacing.split(":")[1:]
        wanted.append(f"`between({low}, {high})`")
    return wanted


def test_every_preset_has_a_row_and_every_row_a_preset() -> None:
    presets = {path.stem for path in SWEEPS.glob("*.toml")}
    assert presets, "no presets found"
    assert set(_rows()) == presets


@pytest.mark.parametrize("preset", sorted(path.stem for path in SWEEPS.glob("*.toml")))
def test_each_row_states_its_presets_settings(preset: str) -> None:
    settings = tomllib.loads((SWEEPS / f"{preset}.toml").read_text())
    row = _rows()[preset]
    missing = [fragment for fragment in _expected(settings) if fragment not in row]
    assert not missing, f"scenarios/README.md row `{preset}` lacks {missing}: {row}"
