"""The Dask engine on a real cluster: a scheduler and two worker processes over TCP on 127.0.0.1, started
here. Partitions are read and summed in the workers; the client prices once. Results equal the local
engine's to the cent (and the full reader's)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine_logs import BILLING, full_json, local_cluster, log_table, write

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with local_cluster() as address:
        yield address


def test_a_cluster_of_two_worker_processes_gives_the_local_result(cli: Any, tmp_path: Path, scheduler: str) -> None:
    assert scheduler.startswith("tcp://127.0.0.1:")
    table = log_table(6000, seed=11)  # price changes, long context, tiers, unknown models
    paths = [write(table.slice(0, 2500), tmp_path / "a.parquet", 500), write(table.slice(2500), tmp_path / "b.parquet")]
    args = ["estimate", *paths, "--baseline-only", "--catalog", BILLING, "--format", "json"]
    on_dask = cli(*args, "--engine", "dask", "--scheduler", scheduler)
    local = cli(*args)
    assert on_dask.exit_code == 0, on_dask.stderr
    assert on_dask.stdout == local.stdout
    assert json.loads(on_dask.stdout) == full_json(paths)["json"]


def test_the_scheduler_address_comes_from_the_environment(cli: Any, tmp_path: Path, scheduler: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(log_table(2000, start="2026-01-01", days=9), tmp_path / "log.parquet")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", "--engine", "dask")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == full_json([path])["json"]


def test_a_file_the_workers_cannot_read_is_named(tmp_path: Path, scheduler: str) -> None:
    from llmcost.catalog import load_catalog
    from llmcost.engines.dask_engine import DaskEngine
    from llmcost.engines.interface import Partition
    from llmcost.errors import InputError

    engine = DaskEngine(scheduler)
    try:
        missing = Partition(str(tmp_path / "gone.parquet"), (0,), 10, ("model", "input_tokens", "output_tokens"))
        with pytest.raises(InputError, match=r"gone\.parquet"):
            engine.baseline([missing], load_catalog(str(BILLING)))
    finally:
        engine.close()


def test_without_the_extra_the_error_names_it(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(log_table(100), tmp_path / "log.parquet")
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--engine", "dask",
                 "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2
    assert "pip install 'llmcost[dask]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_scenarios_with_dask_replay_on_the_cluster(cli: Any, tmp_path: Path, scheduler: str) -> None:
    """The default set replays on the workers' time partitions (tests/test_dask_replays.py has the rest)."""
    path = write(log_table(3000, start="2026-01-01", days=4), tmp_path / "log.parquet")
    args = ["estimate", path, "--catalog", BILLING, "--format", "json"]
    on_dask = cli(*args, "--engine", "dask", "--scheduler", scheduler)
    assert on_dask.exit_code == 0, on_dask.stderr
    assert "on this machine" not in on_dask.stderr
    assert on_dask.stdout == cli(*args).stdout


def test_a_csv_log_replays_on_this_machine_and_says_so(cli: Any, tmp_path: Path, scheduler: str) -> None:
    path = tmp_path / "log.csv"
    log_table(2000, start="2026-01-01", days=4).to_pandas().to_csv(path, index=False)
    args = ["estimate", str(path), "--catalog", BILLING, "--format", "json"]
    on_dask = cli(*args, "--engine", "dask", "--scheduler", scheduler)
    assert on_dask.exit_code == 0, on_dask.stderr
    assert "scenario replays run on this machine's cores" in on_dask.stderr
    assert on_dask.stdout == cli(*args).stdout


def test_a_corrupt_file_read_in_a_worker_is_one_line(cli: Any, tmp_path: Path, scheduler: str) -> None:
    from engine_logs import corrupt_parquet

    path = corrupt_parquet(tmp_path / "broken.parquet")
    result = cli("estimate", path, "--baseline-only", "--catalog", "frontier", "--engine", "dask",
                 "--scheduler", scheduler)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"llmcost: error: {path}: cannot read Parquet (row groups ")
    assert len(result.stderr.strip().splitlines()) == 1
