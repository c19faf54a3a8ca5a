"""Cutting Parquet logs into partitions (whole row groups) and reading one partition."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llmcost.engines.arrow_baseline import READ_COLUMNS, covers
from llmcost.engines.interface import Partition

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from llmcost.catalog import Catalog
    from llmcost.engines.arrow_baseline import PartialBaseline

# Rows per partition: big enough that a partition's read and group-by outweigh opening it, small enough
# that the few summed side by side (engines.local) keep memory flat and low (~270 MB with two in flight).
PARTITION_ROWS = 1_000_000


def parquet_partitions(files: list[str], *, log_format: str | None = None,
                       default_model: str | None = None, rows: int = PARTITION_ROWS) -> list[Partition] | None:
    """Partitions of ``files`` when every one is a Parquet log in llmcost's own columns that the Arrow
    kernel covers; None otherwise (stdin, gzip, other formats, ``--model``: the full reader).

    A partition's first and last timestamps come from its row groups' statistics when they all have
    them, and the timestamp column is then left out (``sum_partition`` reads it only if a model of the
    partition changed price inside its time span). So do the lowest and highest value of each count
    column (``Partition.bounds``: the kernel skips the checks they already settle), and a column the
    statistics show to be its default in every row (cache, reasoning or audio-free counts all 0, ``batch``
    all false, ``weight`` all 1) is not read at all: summed, it is what leaving it out gives."""
    import pyarrow.parquet as pq

    from llmcost.logs.native import NativeReader
    from llmcost.logs.registry import detect
    from llmcost.logs.source import open_source

    if default_model is not None or "-" in files:
        return None
    out: list[Partition] = []
    for name in files:
        source = open_source(name)
        if source.container != "parquet" or source.gzip or source.data is not None:
            return None
        if not isinstance(detect(source, log_format), NativeReader) or not covers(source.columns):
            return None
        columns = tuple(c for c in source.columns if c in READ_COLUMNS)
        with _open(name) as where:
            meta = pq.ParquetFile(where).metadata
            groups = [(meta.row_group(i).num_rows, _stamps(meta, i), _bounds(meta, i, columns))
                      for i in range(meta.num_row_groups)]
        out.extend(_cut(name, groups, columns, rows))
    return [replace(p, columns=tuple(c for c in p.columns if not _unread(p, c))) for p in out]


# Count columns whose statistics may stand in for reading them, with the value that equals leaving them out.
DEFAULTS = {"cache_read_tokens": 0, "cache_write_tokens": 0, "cache_write_1h_tokens": 0, "reasoning_tokens": 0,
            "batch": 0, "weight": 1}
BOUNDED = ("input_tokens", "output_tokens", *DEFAULTS)


def _unread(part: Partition, column: str) -> bool:
    """Whether the partition can leave ``column`` out: timestamps given by the statistics, or a column
    that holds its default in every row."""
    if column == "timestamp":
        return part.stamps is not None
    default = DEFAULTS.get(column)
    return default is not None and (column, default, default) in part.bounds


def _bounds(meta: pq.FileMetaData, group: int, columns: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """The lowest and highest value of each count column of a row group, from statistics that record them
    with no nulls, on plain signed integers (booleans for ``batch``): what the kernel would read."""
    import json

    row_group = meta.row_group(group)
    out: dict[str, tuple[int, int]] = {}
    for i in range(row_group.num_columns):
        column = row_group.column(i)
        name = column.path_in_schema
        stats = column.statistics
        if name not in BOUNDED or name not in columns or stats is None or not stats.has_min_max:
            continue
        if not stats.has_null_count or stats.null_count != 0:
            continue
        kind = stats.physical_type
        logical = json.loads(meta.schema.column(i).logical_type.to_json())
        if name == "batch":
            if kind != "BOOLEAN":
                continue
        elif kind not in ("INT32", "INT64") or logical.get("Type", "None") not in ("None", "Int") or \
                logical.get("isSigned", True) is not True:
            continue
        out[name] = (int(stats.min), int(stats.max))
    return out


def _stamps(meta: pq.FileMetaData, group: int) -> tuple[int, int] | None:
    """A row group's first and last timestamp in ns from its statistics (None: not recorded, or nulls)."""
    import json

    row_group = meta.row_group(group)
    for i in range(row_group.num_columns):
        column = row_group.column(i)
        if column.path_in_schema != "timestamp":
            continue
        stats = column.statistics
        if stats is None or not stats.has_min_max or stats.null_count != 0 or stats.physical_type != "INT64":
            return None
        logical = json.loads(meta.schema.column(i).logical_type.to_json())
        unit = _NS_PER_UNIT.get(logical.get("timeUnit", "")) if logical.get("Type") == "Timestamp" else None
        return None if unit is None else (int(stats.min_raw) * unit, int(stats.max_raw) * unit)
    return None


_NS_PER_UNIT = {"milliseconds": 1_000_000, "microseconds": 1_000, "nanoseconds": 1}


def _cut(name: str, groups: list[tuple[int, tuple[int, int] | None, dict[str, tuple[int, int]]]],
         columns: tuple[str, ...], rows: int) -> list[Partition]:
    parts: list[Partition] = []
    chosen: list[int] = []
    count = 0
    bounds: list[tuple[int, int] | None] = []
    values: list[dict[str, tuple[int, int]]] = []

    def close() -> None:
        known = [b for b in bounds if b is not None]
        stamps = (min(b[0] for b in known), max(b[1] for b in known)) if len(known) == len(bounds) else None
        everywhere = set.intersection(*(set(v) for v in values))
        lows_highs = tuple((c, min(v[c][0] for v in values), max(v[c][1] for v in values))
                           for c in sorted(everywhere))
        parts.append(Partition(name, tuple(chosen), count, columns, stamps, lows_highs))

    for i, (size, stamps, value) in enumerate(groups):
        if chosen and count + size > rows:
            close()
            chosen, count, bounds, values = [], 0, [], []
        chosen.append(i)
        count += size
        bounds.append(stamps)
        values.append(value)
    if chosen:
        close()
    return parts


def sum_partition(part: Partition, catalog: Catalog, *, threads: bool = True) -> PartialBaseline | None:
    """Read a partition and sum its token groups (None: it needs the full reader). Timestamps are read
    only when the statistics did not give the first and last, or a model in it changed price in between."""
    from llmcost.engines.arrow_baseline import NeedsTimestamps, baseline_of_table

    bounds = {c: (low, high) for c, low, high in part.bounds}
    try:
        return baseline_of_table(read_partition(part, threads=threads), catalog, part.stamps, threads=threads,
                                 bounds=bounds)
    except NeedsTimestamps:
        with_stamps = replace(part, columns=(*part.columns, "timestamp"))
        return baseline_of_table(read_partition(with_stamps, threads=threads), catalog, part.stamps,
                                 threads=threads, bounds=bounds)


def read_partition(part: Partition, *, threads: bool = True) -> pa.Table:
    """The partition's row groups, only the columns the kernel sums (in the worker that sums them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from llmcost.errors import InputError

    try:
        with _open(part.path) as where:
            # pre_buffer: the column chunks fetched in coalesced reads (twice as fast; the buffers go when
            # the file closes, and one file object serves one partition)
            return pq.ParquetFile(where, pre_buffer=True).read_row_groups(
                list(part.row_groups), columns=list(part.columns), use_threads=threads)
    except (pa.ArrowException, OSError) as exc:  # a corrupt page, a file gone or cut short since it was opened
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        rows = f"row groups {part.row_groups[0]}-{part.row_groups[-1]}"
        raise InputError(f"cannot read Parquet ({rows}): {text}", source=part.path) from None


def _open(name: str) -> contextlib.AbstractContextManager[Any]:
    """What pyarrow reads: a local path as it is (Arrow's own file reader: native, threaded reads), a remote
    URL through the logs' one opening function (ranged requests)."""
    from llmcost.logs.remote import is_url
    from llmcost.logs.source import open_path

    if is_url(name):
        return open_path(name, random_access=True)
    return contextlib.nullcontext(name)
