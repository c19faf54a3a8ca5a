"""The local engine sums partitions side by side (a few in flight, on threads): the same integer sums as one
partition after another, whatever the number of threads, partitions in flight or finishing order; a
partition that needs the full reader stops the run (None), and an unreadable page is one InputError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from engine_logs import BILLING, corrupt_parquet, fast_json, full_json, log_table, write
from llmcost.catalog import load_catalog
from llmcost.engines import local
from llmcost.engines.local import LocalEngine
from llmcost.engines.partitions import parquet_partitions
from llmcost.errors import InputError


def _partitions(tmp_path: Path, rows: int = 6000, bad_row: int | None = None) -> list[str]:
    table = log_table(rows, seed=21)
    if bad_row is not None:
        outputs = table.column("output_tokens").to_numpy().copy()
        outputs[bad_row] = -1
        table = table.set_column(table.column_names.index("output_tokens"), "output_tokens", pa.array(outputs))
    return [write(table.slice(0, rows // 2), tmp_path / "a.parquet", 500),
            write(table.slice(rows // 2), tmp_path / "b.parquet", 700)]


@pytest.mark.parametrize(("jobs", "in_flight"), [(2, 2), (3, 2), (2, 4), (8, 3)])
def test_side_by_side_sums_equal_one_after_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int,
                                                   in_flight: int) -> None:
    paths = _partitions(tmp_path)
    parts = parquet_partitions(paths, rows=1000)
    assert parts is not None and len(parts) >= 6
    catalog = load_catalog(str(BILLING))
    one = LocalEngine(1).baseline(parts, catalog)
    monkeypatch.setattr(local, "IN_FLIGHT", in_flight)
    many = LocalEngine(jobs).baseline(parts, catalog)
    assert one is not None and many == one
    assert list(many.groups.known) == list(one.groups.known)  # the same order of billing groups too


def test_the_whole_run_on_many_partitions_equals_the_full_reader(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight and more partitions, merged, print what the full reader prints (an unpriced model's reason names
    the first service tier without a card in the full reader's order of billing groups)."""
    from llmcost.engines import partitions

    paths = _partitions(tmp_path)
    defaults = {**(partitions.parquet_partitions.__kwdefaults__ or {}), "rows": 800}
    monkeypatch.setattr(partitions.parquet_partitions, "__kwdefaults__", defaults)
    assert len(parquet_partitions(paths) or []) >= 8
    full = full_json(paths)
    for jobs in (1, 2):  # merged partitions keep the full reader's order of billing groups (unpriced reasons)
        assert fast_json(paths, jobs=jobs) == full


@pytest.mark.parametrize("bad_row", [100, 3500, 5999])  # first, a middle and the last partition
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_partition_for_the_full_reader_stops_the_sum(tmp_path: Path, bad_row: int, jobs: int) -> None:
    parts = parquet_partitions(_partitions(tmp_path, bad_row=bad_row), rows=1000)
    assert parts is not None
    assert LocalEngine(jobs).baseline(parts, load_catalog(str(BILLING))) is None


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_unreadable_page_is_one_input_error(tmp_path: Path, jobs: int) -> None:
    path = corrupt_parquet(tmp_path / "bad.parquet")
    parts = parquet_partitions([path], rows=10_000)
    assert parts is not None and len(parts) > 1
    with pytest.raises(InputError) as caught:
        LocalEngine(jobs).baseline(parts, load_catalog(None))
    assert str(path) in str(caught.value.source) and "cannot read Parquet" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_arrow_pool_size_is_restored(tmp_path: Path) -> None:
    before = pa.cpu_count()
    parts = parquet_partitions(_partitions(tmp_path), rows=1000)
    assert parts is not None
    LocalEngine(max(1, before - 1) if before > 1 else 3).baseline(parts, load_catalog(str(BILLING)))
    assert pa.cpu_count() == before
    assert np.all(np.asarray([p.rows for p in parts]) > 0)
