"""Time buckets (``--by hour|day|week``) of a Parquet log's rows from its timestamp pages' statistics.

The Arrow baseline never reads the ``timestamp`` column (row-group statistics give the window); a time
bucket needs every row's bucket, and decoding the whole column costs about as much as the columns the
baseline sums. But a bucket only changes a few times per row group (a day every ~300k rows of a 10M-row
month), and the writers of Parquet logs (Arrow, parquet-mr) put each data page's min and max in its header.
So the page headers are walked (a few bytes each, in the file mapped into memory): a page whose min and
max fall in one bucket gives all its rows that bucket, and consecutive such pages make one ``Run`` of rows
(the group-by sums a run without a bucket column at all); only the pages a bucket boundary crosses (or
without statistics) are decompressed and decoded here (PLAIN or dictionary-encoded INT64), each row's
bucket then an array. Nothing assumes the rows are sorted: each page stands on its own.

A row group that this does not cover (a remote file, an encoding or codec not handled here, nulls, a
nested column, a page that does not add up) or that a boundary crosses in more than half its rows (hour
buckets of a busy log) is read with Arrow as before. Every bucket is exact: a bucket number is
``floor((t + shift) / step)`` on the stored integers, the same as the full reader's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcost.breakdowns.keys import _MONDAY_SHIFT_NS, _NS
from llmcost.engines import parquet_pages as pages

if TYPE_CHECKING:
    import mmap

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

_UNIT_NS = {"milliseconds": 1_000_000, "microseconds": 1_000, "nanoseconds": 1}
PAGE_ROWS = 20_000  # Arrow's rows per data page (the most): a bucket boundary crosses one page of this many
DECODE_SHARE = 0.5  # past this share of a row group's rows in crossed pages, Arrow decodes the whole column


@dataclass(frozen=True)
class Step:
    """A time bucket in the stored unit: bucket = (value + shift) // size."""

    dim: str
    size: int
    shift: int


def steps(dims: Sequence[str], unit_ns: int) -> list[Step]:
    return [Step(d, _NS[d] // unit_ns, (_MONDAY_SHIFT_NS if d == "week" else 0) // unit_ns) for d in dims]


@dataclass
class Run:
    """Rows ``start``-``end`` of a partition and their buckets per dimension: one number for every row of
    the run (pages inside one bucket), or an int32 array of each row's (pages a boundary crosses, row
    groups Arrow decoded)."""

    start: int
    end: int
    buckets: dict[str, int | np.ndarray]

    @property
    def constant(self) -> bool:
        return all(isinstance(b, int) for b in self.buckets.values())

    def arrays(self) -> dict[str, np.ndarray]:
        """Each dimension's buckets as an int32 array of the run's rows."""
        import numpy as np

        return {d: np.full(self.end - self.start, b, dtype=np.int32) if isinstance(b, int) else b
                for d, b in self.buckets.items()}


def partition_runs(path: str, row_groups: Sequence[int], dims: Sequence[str],
                   meta: pq.FileMetaData | None = None) -> list[Run]:
    """The rows of ``row_groups`` of the local Parquet file ``path`` (``meta``: its footer, when the caller
    has it), in the order Arrow reads them, as runs of rows with their bucket numbers per dimension of
    ``dims`` (hour, day, week: since the epoch, UTC; weeks from a Monday): a run inside one bucket is one
    number per dimension, so a month's ten million rows are a few dozen runs. Row groups whose pages do not
    give the buckets cheaply are read by Arrow."""
    import sys

    import pyarrow.parquet as pq

    if meta is None:
        meta = pq.ParquetFile(path).metadata
    column = _timestamp_column(meta) if sys.byteorder == "little" else None
    data = _mapped(path) if column is not None else None
    runs: list[Run] = []
    at = 0
    for group in row_groups:
        got = None
        if column is not None and data is not None:
            try:
                got = _group_runs(data, meta, group, column, dims, at)
            except (pages.Unsupported, ValueError, IndexError):
                got = None  # Arrow's reader below decodes it, or names what is wrong with it
        if got is None:
            got = [_arrow_run(path, group, dims, at)]
        for run in got:
            _append(runs, run)
        at += meta.row_group(group).num_rows
    return runs


def _append(runs: list[Run], run: Run) -> None:
    """Add ``run`` after the last, joined to it when both are one bucket (the same) or both are arrays."""
    import numpy as np

    if run.end == run.start:
        return
    last = runs[-1] if runs else None
    if last is None or last.end != run.start:
        runs.append(run)
    elif last.constant and run.constant and last.buckets == run.buckets:
        last.end = run.end
    elif not last.constant and not run.constant:
        mine, more = last.arrays(), run.arrays()
        last.buckets = {d: np.concatenate([mine[d], more[d]]) for d in mine}
        last.end = run.end
    else:
        runs.append(run)


def _mapped(path: str) -> mmap.mmap | None:
    """The file mapped read-only (None: it cannot be, e.g. empty; Arrow's reader then decodes it). Not
    closed here: arrays decoded from PLAIN pages may view it, and it is unmapped when the last one goes."""
    import mmap

    try:
        with open(path, "rb") as handle:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def _timestamp_column(meta: pq.FileMetaData) -> tuple[int, int] | None:
    """The flat INT64 ``timestamp`` column's index and its unit in ns (None: not one this reader handles)."""
    import json

    schema = meta.schema
    for i in range(len(schema)):
        col = schema.column(i)
        if col.path != "timestamp":
            continue
        if col.physical_type != "INT64" or col.max_repetition_level != 0 or col.max_definition_level > 1:
            return None
        logical = json.loads(col.logical_type.to_json())
        unit = _UNIT_NS.get(logical.get("timeUnit", "")) if logical.get("Type") == "Timestamp" else None
        return None if unit is None else (i, unit)
    return None


def _arrow_run(path: str, group: int, dims: Sequence[str], at: int) -> Run:
    """A row group's buckets from its timestamps as Arrow decodes them (a bad page: ``InputError``)."""
    import numpy as np

    from llmcost.engines.arrow_baseline import _NS_PER
    from llmcost.engines.interface import Partition
    from llmcost.engines.partitions import read_partition

    column = read_partition(Partition(path, (group,), 0, ("timestamp",), None), threads=False).column(0)
    unit = _NS_PER[column.type.unit]
    values = [int64_values(chunk) for chunk in column.chunks]
    stamps = np.concatenate(values) if len(values) != 1 else values[0]
    return Run(at, at + len(stamps), {s.dim: ((stamps + s.shift) // s.size).astype(np.int32)
                                      for s in steps(dims, unit)})


def int64_values(chunk: pa.Array) -> np.ndarray:
    """An int64 or timestamp Arrow array without nulls as int64 numpy values, zero-copy (``to_numpy``
    imports pandas: 0.3 s; ``cast`` imports ``pyarrow.compute``: 20-30 ms)."""
    import numpy as np

    if chunk.null_count or chunk.type.bit_width != 64:
        raise ValueError("nulls, or not 64-bit values")
    return np.frombuffer(chunk.buffers()[1], dtype=np.int64, count=len(chunk), offset=chunk.offset * 8)


def _group_runs(data: mmap.mmap, meta: pq.FileMetaData, group: int, column: tuple[int, int],
                dims: Sequence[str], at: int) -> list[Run] | None:
    """One row group's runs from its pages (its first row is the partition's row ``at``); None (nothing
    decided) when more than ``DECODE_SHARE`` of its rows lie in pages a bucket boundary crosses."""
    import numpy as np

    index, unit = column
    chunk = meta.row_group(group).column(index)
    rows = meta.row_group(group).num_rows
    stats = chunk.statistics
    if stats is None or not stats.has_min_max or stats.null_count != 0:
        raise pages.Unsupported("no statistics or nulls")
    wanted = steps(dims, unit)
    low, high = int(stats.min_raw), int(stats.max_raw)
    if all((low + s.shift) // s.size == (high + s.shift) // s.size for s in wanted):
        return [Run(at, at + rows, {s.dim: (low + s.shift) // s.size for s in wanted})]
    compression = pages.codec(chunk.compression)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    walked = pages.walk(data, start, chunk.total_compressed_size)
    data_pages = [p for p in walked if p.kind != pages.DICTIONARY_PAGE]
    if sum(p.values for p in data_pages) != rows:
        raise pages.Unsupported("pages do not add up to the row group")
    crossed = [p.low is None or p.high is None
               or any((p.low + s.shift) // s.size != (p.high + s.shift) // s.size for s in wanted) for p in data_pages]
    if sum(p.values for p, c in zip(data_pages, crossed, strict=True) if c) > DECODE_SHARE * rows:
        return None
    dictionary = None
    levels = int(meta.schema.column(index).max_definition_level)
    runs: list[Run] = []
    extending: tuple[int, ...] | None = None  # the buckets of the last run while it is one page's after another
    for page, cross in zip(data_pages, crossed, strict=True):
        end = at + page.values
        if not page.values:
            continue
        if not cross:
            assert page.low is not None
            buckets = tuple((page.low + s.shift) // s.size for s in wanted)
            if buckets == extending:
                runs[-1].end = end
            else:
                runs.append(Run(at, end, {s.dim: b for s, b in zip(wanted, buckets, strict=True)}))
                extending = buckets
            at = end
            continue
        extending = None
        if page.dictionary_encoded and dictionary is None:
            dictionary = pages.dictionary_values(data, walked[0], compression)
        values = pages.decode(data, page, compression, levels, dictionary)
        if len(values) != page.values or (len(values) and (
                int(values.min()) < (low if page.low is None else page.low)
                or int(values.max()) > (high if page.high is None else page.high))):
            raise pages.Unsupported("decoded values outside the statistics")  # Arrow decodes it, or says why
        _append(runs, Run(at, end, {s.dim: ((values + s.shift) // s.size).astype(np.int32) for s in wanted}))
        at = end
    return runs
