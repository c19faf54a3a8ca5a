"""--jobs, --engine and --scheduler on the command line: the same baseline on one core and all, and one clear
line when the engine cannot be used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine_logs import BILLING, full_json, log_table, write


def test_cli_baseline_equals_on_one_and_all_cores(cli: Any, tmp_path: Path) -> None:
    path = write(log_table(3000), tmp_path / "log.parquet")
    runs = [cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", *extra)
            for extra in ([], ["--jobs", "1"], ["-j", "2"])]
    assert all(r.exit_code == 0 for r in runs)
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert json.loads(runs[0].stdout) == full_json([path])["json"]


@pytest.mark.parametrize(("args", "message"), [
    (["--jobs", "0"], "'--jobs' / '-j': 0 is not in the range x>=1"),
    (["--engine", "spark"], "'spark' is not one of 'local', 'dask'"),
])
def test_bad_engine_values_exit_2(cli: Any, tmp_path: Path, args: list[str], message: str) -> None:
    path = write(log_table(100), tmp_path / "log.parquet")
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, *args)
    assert result.exit_code == 2
    assert message in result.stderr  # one line when run as a program (tests/hostile/test_cli_values.py)


@pytest.mark.parametrize(("args", "message"), [
    (["--engine", "dask"], "--engine dask needs --scheduler ADDRESS (or DASK_SCHEDULER_ADDRESS)"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
])
def test_bad_dask_options_exit_2_with_one_line(cli: Any, tmp_path: Path, args: list[str], message: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("llmcost.engines.dask_engine.CONNECT_TIMEOUT_S", 2)
    path = write(log_table(100), tmp_path / "log.parquet")
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1



def test_check_takes_the_same_engine_options(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)  # the example policy names its logs relative to the repository
    runs = [cli("check", "--policy", "examples/llmcost.yaml", "--format", "json", *extra)
            for extra in (["--jobs", "1"], ["--jobs", "2"])]
    assert all(r.exit_code == 0 for r in runs), runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    bad = cli("check", "--policy", "examples/llmcost.yaml", "--engine", "dask")
    assert bad.exit_code == 2 and "--scheduler" in bad.stderr


def test_a_corrupt_data_page_is_one_line_naming_the_file(cli: Any, tmp_path: Path) -> None:
    from engine_logs import corrupt_parquet

    path = corrupt_parquet(tmp_path / "broken.parquet")
    out = tmp_path / "out.json"
    result = cli("estimate", path, "--baseline-only", "--catalog", "frontier", "-f", "json", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"llmcost: error: {path}: cannot read Parquet (row groups ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
