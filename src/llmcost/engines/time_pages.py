"""Time buckets (``--by hour|day|week``) of a Parquet log's rows from its timestamp pages' statistics.

The Arrow baseline never reads the ``timestamp`` column (row-group statistics give the window); a time
bucket needs every row's bucket, and decoding the whole column costs about as much as the columns the
baseline sums. But a bucket only changes a few times per row group (a day every ~300k rows of a 10M-row
month), and the writers of Parquet logs (Arrow, parquet-mr) put each data page's min and max in its header.
So the page headers are walked (a few bytes each, read with ``pread``): a page whose min and max fall in
one bucket gives all its rows that bucket; only the pages a bucket boundary crosses (or without
statistics) are decompressed and decoded here (PLAIN or dictionary-encoded INT64). Nothing assumes the
rows are sorted: each page stands on its own.

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


def partition_buckets(path: str, row_groups: Sequence[int], dims: Sequence[str]) -> dict[str, np.ndarray]:
    """Each row's bucket number (int32) per dimension of ``dims`` (hour, day, week: since the epoch, UTC;
    weeks from a Monday) for the rows of ``row_groups`` of the local Parquet file ``path``, in the order
    Arrow reads them. Row groups whose pages do not give the buckets cheaply are read by Arrow."""
    import sys

    import numpy as np
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    column = _timestamp_column(meta) if sys.byteorder == "little" else None
    rows = sum(meta.row_group(g).num_rows for g in row_groups)
    out = {d: np.empty(rows, dtype=np.int32) for d in dims}
    at = 0
    with open(path, "rb") as handle:
        for group in row_groups:
            end = at + meta.row_group(group).num_rows
            into = {d: a[at:end] for d, a in out.items()}
            done = False
            if column is not None:
                try:
                    done = _group_buckets(handle.fileno(), meta, group, column, into)
                except (pages.Unsupported, ValueError, IndexError, OSError):
                    done = False  # Arrow's reader below decodes it, or names what is wrong with it
            if not done:
                _arrow_buckets(path, group, into)
            at = end
    return out


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


def _arrow_buckets(path: str, group: int, into: dict[str, np.ndarray]) -> None:
    """A row group's buckets from its timestamps as Arrow decodes them (a bad page: ``InputError``)."""
    from llmcost.engines.arrow_baseline import _NS_PER
    from llmcost.engines.interface import Partition
    from llmcost.engines.partitions import read_partition

    size = len(next(iter(into.values())))
    column = read_partition(Partition(path, (group,), size, ("timestamp",), None), threads=False).column(0)
    unit = _NS_PER[column.type.unit]
    at = 0
    for chunk in column.chunks:
        values = int64_values(chunk)
        for s in steps(list(into), unit):
            into[s.dim][at:at + len(values)] = (values + s.shift) // s.size
        at += len(values)


def int64_values(chunk: pa.Array) -> np.ndarray:
    """An int64 or timestamp Arrow array without nulls as int64 numpy values, zero-copy (``to_numpy``
    imports pandas: 0.3 s; ``cast`` imports ``pyarrow.compute``: 20-30 ms)."""
    import numpy as np

    if chunk.null_count or chunk.type.bit_width != 64:
        raise ValueError("nulls, or not 64-bit values")
    return np.frombuffer(chunk.buffers()[1], dtype=np.int64, count=len(chunk), offset=chunk.offset * 8)


def _group_buckets(fd: int, meta: pq.FileMetaData, group: int, column: tuple[int, int],
                   into: dict[str, np.ndarray]) -> bool:
    """One row group's buckets from its pages, written into ``into``; False (nothing decided) when more
    than ``DECODE_SHARE`` of its rows lie in pages a bucket boundary crosses."""
    index, unit = column
    chunk = meta.row_group(group).column(index)
    rows = meta.row_group(group).num_rows
    stats = chunk.statistics
    if stats is None or not stats.has_min_max or stats.null_count != 0:
        raise pages.Unsupported("no statistics or nulls")
    wanted = steps(list(into), unit)
    low, high = int(stats.min_raw), int(stats.max_raw)
    if all((low + s.shift) // s.size == (high + s.shift) // s.size for s in wanted):
        for s in wanted:
            into[s.dim][:] = (low + s.shift) // s.size
        return True
    compression = pages.codec(chunk.compression)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    walked = pages.walk(fd, start, chunk.total_compressed_size)
    data = [p for p in walked if p.kind != pages.DICTIONARY_PAGE]
    if sum(p.values for p in data) != rows:
        raise pages.Unsupported("pages do not add up to the row group")
    crossed = [p.low is None or p.high is None
               or any((p.low + s.shift) // s.size != (p.high + s.shift) // s.size for s in wanted) for p in data]
    if sum(p.values for p, c in zip(data, crossed, strict=True) if c) > DECODE_SHARE * rows:
        return False
    dictionary = None
    levels = int(meta.schema.column(index).max_definition_level)
    at = 0
    for page, cross in zip(data, crossed, strict=True):
        end = at + page.values
        if cross:
            if page.dictionary_encoded and dictionary is None:
                dictionary = pages.dictionary_values(fd, walked[0], compression)
            values = pages.decode(fd, page, compression, levels, dictionary)
            if len(values) != page.values or (len(values) and (
                    int(values.min()) < (low if page.low is None else page.low)
                    or int(values.max()) > (high if page.high is None else page.high))):
                raise pages.Unsupported("decoded values outside the statistics")  # Arrow decodes it, or says why
            for s in wanted:
                into[s.dim][at:end] = (values + s.shift) // s.size
        else:
            assert page.low is not None
            for s in wanted:
                into[s.dim][at:end] = (page.low + s.shift) // s.size
        at = end
    return True
