"""A locustfile of the user's own in the sweep's configuration (quick: nothing is started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.runner.config import (
    LOCUSTFILE_PACING,
    ConfigError,
    expand,
    is_product,
    locust_files,
    pacing_params,
    resolve_config,
)
from scenarios.runner.config import parse_locust_args as locust_args
from tests.byo.conftest import LOCUSTFILE
from tests.conftest import REPO_ROOT


def test_the_product_scenario_is_recognised_however_its_path_is_written() -> None:
    assert is_product("scenarios/locustfile.py")
    assert is_product(str(REPO_ROOT / "scenarios" / "locustfile.py"))
    assert not is_product(str(LOCUSTFILE))
    assert locust_files("scenarios/locustfile.py") == "scenarios/locustfile.py"
    first, second = locust_files(str(LOCUSTFILE)).split(",")
    assert first.endswith("scenarios/loadbench_plugin.py") and Path(second) == LOCUSTFILE


def test_locust_args_from_a_toml_table_or_shell_words() -> None:
    assert locust_args({"projects": 40, "verbose": True, "quiet": False, "tag": ["a", "b"]},
                       "x") == ["--projects", "40", "--verbose", "--tag", "a", "--tag", "b"]
    assert locust_args(["--search-share 0.3", "--x='a b'"], "x") == [
        "--search-share", "0.3", "--x=a b"]
    with pytest.raises(ValueError, match="x: expected a table"):
        locust_args(3, "x")


def test_a_byo_sweep_is_its_own_mix_with_the_files_class_names(tmp_path: Path) -> None:
    config = resolve_config({"locustfile": str(LOCUSTFILE), "host": "http://127.0.0.1:1",
                             "user_classes": "FastShopper", "users": "1,2", "repeats": 1,
                             "locust_args": ["--search-share 0.4"]})
    assert not config.product and config.locust_args == ["--search-share", "0.4"]
    points = expand(config)
    assert [p.point_id for p in points] == ["FastShopper-shop_locustfile-u0001-r1",
                                            "FastShopper-shop_locustfile-u0002-r1"]
    assert points[0].weights == {}
    config.pacing = LOCUSTFILE_PACING  # set by the preflight when a class waits
    assert pacing_params(config) == {"kind": "locustfile"}


def test_the_toml_table_passes_through(tmp_path: Path) -> None:
    toml = tmp_path / "byo.toml"
    toml.write_text(f'locustfile = "{LOCUSTFILE}"\nhost = "http://127.0.0.1:1"\n'
                    '[locust_args]\nsearch-share = 0.5\n')
    config = resolve_config({"config_file": str(toml)})
    assert config.locust_args == ["--search-share", "0.5"]
    assert config.user_classes == []  # none named: every class (the sweep's preflight)


def test_product_sweeps_keep_their_short_names() -> None:
    with pytest.raises(ConfigError, match="unknown user class 'FastShopper'"):
        resolve_config({"user_classes": "FastShopper"})
    assert resolve_config({"user_classes": "fast"}).user_classes == ["fast"]
