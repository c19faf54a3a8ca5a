"""Row-group statistics stand in for reading: a count column that holds its default in every row (0, false,
weight 1) is not read, and the lowest and highest values settle the kernel's checks without a pass; the
result is always the full reader's, with statistics, without them, and when they show a bad value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine_logs import BILLING, fast_json, full_json, log_table, write
from llmcost.catalog import load_catalog
from llmcost.engines import arrow_baseline, baseline_estimate, make_engine
from llmcost.engines.partitions import parquet_partitions
from llmcost.scenarios.interface import Baseline


def _table(rows: int = 3000, **columns: object) -> pa.Table:
    table = log_table(rows, seed=4, start="2026-01-01", days=20)
    for name, values in columns.items():
        array = pa.array(values)
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, array)
        else:
            table = table.append_column(name, array)
    return table


def test_columns_at_their_default_everywhere_are_not_read(tmp_path: Path) -> None:
    n = 3000
    path = write(_table(n, reasoning_tokens=np.zeros(n, np.int64), batch=np.zeros(n, bool),
                        weight=np.ones(n, np.int64), cache_write_tokens=np.zeros(n, np.int64)),
                 tmp_path / "log.parquet", 500)
    parts = parquet_partitions([path])
    assert parts is not None
    for part in parts:
        assert not {"reasoning_tokens", "batch", "weight", "cache_write_tokens", "timestamp"} & set(part.columns)
        assert {"model", "input_tokens", "output_tokens", "cache_read_tokens"} <= set(part.columns)
    assert fast_json([path]) == full_json([path])


def test_a_column_at_its_default_in_only_some_row_groups_is_read(tmp_path: Path) -> None:
    n = 3000
    reasoning = np.zeros(n, np.int64)
    reasoning[2999] = 1  # the last row group only
    batch = np.zeros(n, bool)
    batch[10] = True
    path = write(_table(n, reasoning_tokens=reasoning, batch=batch), tmp_path / "log.parquet", 500)
    parts = parquet_partitions([path], rows=1000)
    assert parts is not None
    assert [("reasoning_tokens" in p.columns, "batch" in p.columns) for p in parts] == [
        (False, True), (False, False), (True, False)]
    assert fast_json([path]) == full_json([path])


def test_without_statistics_everything_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pq.write_table(_table(), path, row_group_size=500, write_statistics=False)
    parts = parquet_partitions([str(path)])
    assert parts is not None and all(p.bounds == () and "batch" in p.columns for p in parts)
    assert fast_json([str(path)]) == full_json([str(path)])


@pytest.mark.parametrize("column", ["output_tokens", "reasoning_tokens", "cache_read_tokens"])
def test_statistics_showing_a_bad_value_send_the_log_to_the_full_reader(tmp_path: Path, column: str) -> None:
    table = _table()
    values = table.column(column).to_numpy().copy()
    values[1234] = -3 if column != "cache_read_tokens" else 10**9  # negative, or cache reads over the input
    path = write(table.set_column(table.column_names.index(column), column, pa.array(values)), tmp_path / "l.parquet")
    parts = parquet_partitions([path])
    assert parts is not None and any({c: (lo, hi) for c, lo, hi in p.bounds}.get(column) for p in parts)
    assert baseline_estimate(make_engine(), [path], load_catalog(str(BILLING)), [Baseline()]) is None


def test_bounds_settle_the_checks_without_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts never below 0, cache reads at most the smallest input, reasoning at most the smallest output:
    no min, max or comparison is computed over the columns."""
    n = 3000
    table = _table(n, input_tokens=np.full(n, 5000, np.int64), cache_read_tokens=np.full(n, 64, np.int64),
                   output_tokens=np.full(n, 300, np.int64), reasoning_tokens=np.full(n, 100, np.int64))
    path = write(table, tmp_path / "log.parquet", 1000)
    calls: list[str] = []
    real = arrow_baseline._fn

    def spy(name: str, *args: object) -> object:
        calls.append(name)
        return real(name, *args)

    monkeypatch.setattr(arrow_baseline, "_fn", spy)
    assert fast_json([path]) == full_json([path])
    assert not {"min", "max", "greater", "any"} & set(calls), calls


def test_unsigned_counts_are_read_not_bounded(tmp_path: Path) -> None:
    n = 3000
    table = _table(n, reasoning_tokens=pa.array(np.zeros(n, np.uint64)))
    path = write(table, tmp_path / "log.parquet", 500)
    parts = parquet_partitions([path])
    assert parts is not None and all("reasoning_tokens" in p.columns for p in parts)
    assert fast_json([path]) == full_json([path])
