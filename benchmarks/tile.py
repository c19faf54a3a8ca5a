#!/usr/bin/env python3
"""Make a longer log from a generated one: N copies of a Parquet log, each shifted in time after the last.

    python benchmarks/tile.py benchmarks/out/logs-10000000/logs.parquet --copies 4 --out /tmp/logs-40m.parquet

Streams row group by row group (memory stays at one row group), so a 40M-row log for the
"peak memory does not grow with the file" measurement takes a minute instead of generating 40M rows
at once. The copies keep the traffic's daily shape and repeats; only timestamps move.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def tile(source: Path, copies: int, out: Path) -> int:
    reader = pq.ParquetFile(source)
    stamps = pq.read_table(source, columns=["timestamp"]).column(0)
    span = pc.max(stamps).value - pc.min(stamps).value + 1  # in the column's unit
    rows = 0
    with pq.ParquetWriter(out, reader.schema_arrow) as writer:
        for copy in range(copies):
            for group in range(reader.num_row_groups):
                table = reader.read_row_group(group)
                column = table.column("timestamp")
                shifted = pc.add(column.cast(pa.int64()), copy * span).cast(column.type)
                table = table.set_column(table.column_names.index("timestamp"), "timestamp", shifted)
                writer.write_table(table)
                rows += table.num_rows
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = tile(args.source, args.copies, args.out)
    print(f"{rows:,} rows to {args.out} ({args.out.stat().st_size / 1e6:,.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
