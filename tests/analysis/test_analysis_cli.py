"""The command line: summary, report, compare, and every kind of bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from _analysis_helpers import edit_json, final_run_dirs, run_cli

from analysis.histograms import decode_hdr, encode_hdr, new_hdr


def _one_clean_error_line(result: object, names: str) -> str:
    stderr = result.stderr.strip()  # type: ignore[attr-defined]
    assert result.returncode == 2, (result.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert names in stderr, stderr
    return stderr


def test_summary_of_a_sweep_as_table_and_json(sweep_dir: Path) -> None:
    table = run_cli("summary", sweep_dir)
    assert table.returncode == 0, table.stderr
    assert "read-heavy" in table.stdout and "fast" in table.stdout
    document = json.loads(run_cli("summary", sweep_dir, "--json").stdout)
    aggregated = [row for row in document["rows"] if row["endpoint"] == "Aggregated"]
    assert {row["users"] for row in aggregated} == {1, 10}
    assert all(row["requests"] > 0 for row in aggregated)


def test_summary_of_a_plain_locust_csv_prefix_with_and_without_json(
        sweep_dir: Path, tmp_path: Path) -> None:
    run_dir = final_run_dirs(sweep_dir)[0]
    with_json = json.loads(run_cli("summary", run_dir / "locust", "--json").stdout)
    for name in ("locust_stats.csv", "locust_stats_history.csv"):
        shutil.copy(run_dir / name, tmp_path / name)
    csv_only = json.loads(run_cli("summary", tmp_path / "locust", "--json").stdout)
    total_json = next(r for r in with_json["rows"] if r["endpoint"] == "Aggregated")
    total_csv = next(r for r in csv_only["rows"] if r["endpoint"] == "Aggregated")
    assert total_csv["statuses"] == "unchecked 1/1"
    # plain Locust output has no CPU evidence: it used to count as trusted
    assert total_csv["trusted"] is False and total_json["trusted"] is False
    assert 0 < total_csv["requests"] <= total_json["requests"]


def test_report_is_self_contained_and_prints_its_path_last(sweep_copy: Path) -> None:
    latest = sweep_copy.parent / "latest"
    latest.symlink_to(sweep_copy.name)
    result = run_cli("report", latest)
    assert result.returncode == 0, result.stderr
    index = Path(result.stdout.strip().splitlines()[-1])
    assert index == sweep_copy.resolve() / "report" / "index.html"
    page = index.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<script[^>]*\bsrc\b", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page, re.I)
    assert page.count('src="data:image/png;base64,') >= 4
    assert "Latency attributed end to end" in page  # analysis/attribution.py's table
    # the answer and the key figure first, then the tables; metadata as a table, not a JSON dump
    assert page.index('id="trust"') < page.index("<img") < page.index("<table") < page.index(
        "Run metadata")
    assert '"schema_version"' not in page and "<pre" not in page
    report_dir = index.parent
    assert (report_dir / "report.md").read_text().startswith("# Sweep ")
    assert (report_dir / "throughput.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_a_sweep_with_itself_changes_nothing(sweep_copy: Path) -> None:
    # no configuration whose every repeat is valid: nothing to compare (3)
    _all_status(sweep_copy, "generator-bound")
    result = run_cli("compare", sweep_copy, sweep_copy)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "nothing comparable" in result.stdout
    _all_status(sweep_copy, "valid")
    result = run_cli("compare", sweep_copy, sweep_copy)
    # no change, but 2 noisy repeats could not have shown a 10% regression: underpowered (4);
    # a powered compare exits 0 (test_analysis_inference.py)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "REGRESSION" not in result.stdout and "UNDERPOWERED" in result.stdout


def test_compare_fails_when_every_after_point_is_sut_errors(
        sweep_copy: Path, tmp_path: Path) -> None:
    # before: this compare said "no comparable cell" and exited 0 for a broken service
    _all_valid(sweep_copy)
    broken = tmp_path / "broken"
    shutil.copytree(sweep_copy, broken)
    for run_json in broken.glob("runs/*/run.json"):
        edit_json(run_json, lambda run: run["verdict"].update(
            status="sut-errors", reasons=["unexpected failures 40% (threshold 1%)"]))
    result = run_cli("compare", sweep_copy, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "valid 2/2" in result.stdout and "sut-errors 2/2" in result.stdout
    document = json.loads(run_cli("compare", sweep_copy, broken, "--json").stdout)
    assert {row["change"] for row in document["verdicts"]} == {"worse"}
    assert len(document["verdicts"]) == 4
    # the other way round the verdicts got better: reported, and not a failure
    assert run_cli("compare", broken, sweep_copy).returncode == 0


def test_compare_reports_an_improvement_without_failing(sweep_copy: Path, tmp_path: Path) -> None:
    # before: an improvement beyond the threshold exited 1, like a regression
    _all_valid(sweep_copy)
    slower = tmp_path / "slower"
    shutil.copytree(sweep_copy, slower)
    _slower_by(slower, 50)
    result = run_cli("compare", slower, sweep_copy)
    # not a failure (1): underpowered (4) at 2 noisy repeats, the improvement still reported
    assert result.returncode == 4, result.stdout + result.stderr
    assert "improvement" in result.stdout and "REGRESSION" not in result.stdout


def test_compare_with_no_common_cell_exits_3(sweep_copy: Path, tmp_path: Path) -> None:
    _all_valid(sweep_copy)
    other = tmp_path / "other"
    shutil.copytree(sweep_copy, other)
    for run_json in other.glob("runs/*/run.json"):
        edit_json(run_json, lambda run: run["params"].update(users=run["params"]["users"] + 1))
    result = run_cli("compare", sweep_copy, other)
    assert result.returncode == 3, result.stdout + result.stderr
    help_text = " ".join(run_cli("compare", "--help").stdout.split())
    assert all(code in help_text for code in ("0 fine", "1 compare", "3 compare", "4 compare"))


def _all_status(sweep: Path, status: str) -> None:
    for run_json in sweep.glob("runs/*/run.json"):
        edit_json(run_json, lambda run: run["verdict"].update(status=status, reasons=[]))


def _all_valid(sweep: Path) -> None:
    _all_status(sweep, "valid")


def _slower_by(sweep: Path, milliseconds: int) -> None:
    def shift(entries: list[dict[str, object]]) -> None:
        for entry in entries:
            times = entry["response_times"]
            assert isinstance(times, dict)
            entry["response_times"] = {str(int(k) + milliseconds): v for k, v in times.items()}
            entry["total_response_time"] = (float(entry["total_response_time"])  # type: ignore
                                             + milliseconds * int(entry["num_requests"]))  # type: ignore
    def shift_hdr(document: dict[str, Any]) -> None:
        for entry in document["endpoints"]:
            slower = new_hdr()
            for step in decode_hdr(entry["histogram"]).get_recorded_iterator():
                slower.record_value(step.value_iterated_to + milliseconds * 1000,
                                    step.count_added_in_this_iter_step)
            entry["histogram"] = encode_hdr(slower)
    for locust_json in sweep.glob("runs/*/locust.json"):
        edit_json(locust_json, shift)
    hdr_files = list(sweep.glob("runs/*/evidence/hdr-*.json"))
    assert hdr_files, "the fixture has HDR evidence (schema 2)"
    for hdr_json in hdr_files:
        edit_json(hdr_json, shift_hdr)


def test_compare_flags_a_latency_regression_beyond_threshold_and_noise(
        sweep_copy: Path, tmp_path: Path) -> None:
    _all_valid(sweep_copy)
    slower = tmp_path / "slower"
    shutil.copytree(sweep_copy, slower)
    _slower_by(slower, 50)
    result = run_cli("compare", sweep_copy, slower)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "REGRESSION" in result.stdout and "regression" in result.stdout
    table = json.loads(run_cli("compare", sweep_copy, slower, "--json").stdout)["metrics"]
    flagged = {row["metric"] for row in table if row["flagged"]}
    # Holm over the 16 cell-metric tests of 2 noisy repeats each: p50 is flagged, the noisier
    # tail percentiles need not be
    assert "p50_ms" in flagged
    assert all(row["direction"] == "regression" for row in table if row["flagged"])
    lenient = run_cli("compare", sweep_copy, slower, "--threshold", "1000")
    # no regression at a threshold of 100,000%: 0, or 4 where the noise hides even that
    assert lenient.returncode in (0, 4) and "REGRESSION" not in lenient.stdout, lenient.stdout


def test_missing_path(tmp_path: Path) -> None:
    """The real command line (the other tests call it in process): one line, status 2."""
    _one_clean_error_line(run_cli("summary", tmp_path / "nope", process=True),
                          str(tmp_path / "nope"))
    _one_clean_error_line(run_cli("report", tmp_path, process=True), "manifest.json")


def test_unknown_schema_version(sweep_copy: Path) -> None:
    edit_json(sweep_copy / "manifest.json", lambda m: m.update(schema_version=99))
    line = _one_clean_error_line(run_cli("summary", sweep_copy), "manifest.json")
    assert "schema_version 99" in line


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_locust_json_in_a_sweep(sweep_copy: Path, damage: str) -> None:
    target = final_run_dirs(sweep_copy)[0] / "locust.json"
    text = target.read_text()
    target.write_text(text[: len(text) // 2] if damage == "truncate" else "\x00not json")
    _one_clean_error_line(run_cli("report", sweep_copy), str(target))


def test_missing_locust_json_in_a_finished_run(sweep_copy: Path) -> None:
    target = final_run_dirs(sweep_copy)[0] / "locust.json"
    target.unlink()
    _one_clean_error_line(run_cli("summary", sweep_copy), str(target))


def test_truncated_or_corrupt_stats_csv_of_a_prefix(sweep_dir: Path, tmp_path: Path) -> None:
    source = final_run_dirs(sweep_dir)[0] / "locust_stats.csv"
    lines = source.read_text().splitlines()
    (tmp_path / "cut_stats.csv").write_text("\n".join(lines[:2])[:-7])
    _one_clean_error_line(run_cli("summary", tmp_path / "cut"), "cut_stats.csv")
    (tmp_path / "bad_stats.csv").write_text(lines[0] + "\nGET,x,abc,0\n,Aggregated,zz,0\n")
    _one_clean_error_line(run_cli("summary", tmp_path / "bad"), "bad_stats.csv")
    (tmp_path / "empty_stats.csv").write_text("")
    _one_clean_error_line(run_cli("summary", tmp_path / "empty"), "empty_stats.csv")


def test_truncated_history_csv(sweep_copy: Path) -> None:
    from analysis import AnalysisError, load

    run_dir = final_run_dirs(sweep_copy)[0]
    history = run_dir / "locust_stats_history.csv"
    text = history.read_text()
    history.write_text(text[:300] + "\n1795593432,x,GET\n")
    with pytest.raises(AnalysisError, match=r"locust_stats_history\.csv"):
        load(sweep_copy).history(run_dir.name)
    history.write_text(text.rstrip("\n") + "\n1795593499,10,,Aggregated,12.0\n")
    with pytest.raises(AnalysisError, match="truncated"):
        load(sweep_copy).history(run_dir.name)


def test_empty_run(sweep_dir: Path, tmp_path: Path) -> None:
    header = (final_run_dirs(sweep_dir)[0] / "locust_stats.csv").read_text().splitlines()[0]
    (tmp_path / "idle_stats.csv").write_text(
        header + "\n" + ",Aggregated,0,0,0,0,0,0,0,0.0,0.0" + ",N/A" * 11 + "\n")
    line = _one_clean_error_line(run_cli("summary", tmp_path / "idle"), "idle_stats.csv")
    assert "empty run" in line
    sweep = tmp_path / "sweep"
    shutil.copytree(sweep_dir, sweep)
    for run_json in sweep.glob("runs/*/run.json"):
        run_json.unlink()
    _one_clean_error_line(run_cli("report", sweep), "no finished runs")


def test_a_partial_sweep_still_reports_what_it_has(sweep_copy: Path) -> None:
    edit_json(sweep_copy / "manifest.json", lambda m: m.update(status="running",
                                                                finished_at=None))
    killed = sorted(sweep_copy.glob("runs/*/run.json"))[-3:]
    for run_json in killed:
        run_json.unlink()
    result = run_cli("report", sweep_copy)
    assert result.returncode == 0, result.stderr
    page = Path(result.stdout.strip().splitlines()[-1]).read_text()
    assert "Partial sweep" in page and "running" in page
    for run_json in killed:
        assert run_json.parent.name.removesuffix("-p1") in page


def test_a_failed_run_without_stats_keeps_its_place_and_verdict(sweep_copy: Path) -> None:
    run_dir = final_run_dirs(sweep_copy)[0]
    (run_dir / "locust.json").unlink()

    def failed(run: dict[str, object]) -> None:
        run.update(exit_code=2, window={"start": None, "end": None, "seconds": None},
                   requests={"total": None, "failures": None, "rps": None},
                   verdict={"status": "failed", "reasons": ["Locust exited with code 2"],
                            "warnings": ["a warning"], "evidence": {}})

    edit_json(run_dir / "run.json", failed)
    document = json.loads(run_cli("summary", sweep_copy, "--json").stdout)
    rows = [row for row in document["rows"] if row["status"] == "failed"]
    assert rows and "failed 1/2" in rows[0]["statuses"] and not rows[0]["trusted"]
    result = run_cli("report", sweep_copy)
    assert result.returncode == 0, result.stderr
    page = Path(result.stdout.strip().splitlines()[-1]).read_text()
    assert "Locust exited with code 2" in page and "a warning" in page
