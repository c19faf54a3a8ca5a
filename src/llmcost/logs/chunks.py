"""Reading logs in chunks of rows, for logs bigger than memory (``--chunk-rows``).

Flat native sources stream with pyarrow (Parquet row groups / batches, CSV and JSONL blocks), so peak
memory depends on the chunk size, not on the file size. Other formats are read whole and then sliced:
correct, but not constant-memory (their readers parse nested JSON per line anyway).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError
from llmcost.frame import CORE_COLUMNS, RowProblem, conform
from llmcost.logs.interface import ReadOptions, Source
from llmcost.logs.native import WRONG_FIELDS, NativeReader, csv_file_line, table_to_pandas, text_line
from llmcost.logs.registry import detect, drop_repeated
from llmcost.logs.remote import is_database, is_url, redact
from llmcost.logs.source import expand, open_binary, open_path, open_source
from llmcost.logs.timerange import TimeRange

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class Chunk:
    """One conformed slice of a log and where it came from."""

    path: str
    format: str
    frame: pd.DataFrame
    skipped: dict[str, int]


def iter_chunks(
    paths: list[str],
    chunk_rows: int,
    *,
    log_format: str | None = None,
    default_model: str | None = None,
    skip_bad: bool = False,
    columns: frozenset[str] | None = None,
    window: TimeRange | None = None,
) -> Iterator[Chunk]:
    """Yield conformed chunks of at most about ``chunk_rows`` rows from every file, in file order
    (only the requests inside ``window``, when given)."""
    if chunk_rows < 1:
        raise InputError("--chunk-rows must be at least 1")
    options = ReadOptions(default_model=default_model, skip_bad=skip_bad, columns=columns)
    window = window or TimeRange()
    seen: dict[str, object] = {}
    for name in expand(paths):
        if is_database(name):  # LiteLLM's table through a server-side cursor, chunk_rows at a time
            from llmcost.logs import postgres

            for got in postgres.iter_spend_logs(name, chunk_rows, options, since=window.since, until=window.until):
                yield Chunk(redact(name), postgres.FORMAT_NAME, got.frame, got.skipped)
            continue
        for chunk in _file_chunks(name, chunk_rows, log_format, options, seen):
            yield replace(chunk, frame=window.within(chunk.frame)) if window.given else chunk


def _file_chunks(name: str, chunk_rows: int, log_format: str | None, options: ReadOptions,
                 seen: dict[str, object]) -> Iterator[Chunk]:
    source = open_source(name)
    reader = detect(source, log_format)
    if isinstance(reader, NativeReader) and source.data is None:
        yield from _native_chunks(source, chunk_rows, options)
    else:
        whole = drop_repeated(reader, reader.read(source, options), seen)
        frame = whole.frame
        for start in range(0, max(len(frame), 1), chunk_rows):
            part = frame.iloc[start:start + chunk_rows].reset_index(drop=True)
            yield Chunk(source.name, reader.name, part, whole.skipped if start == 0 else {})

def _native_chunks(source: Source, chunk_rows: int, options: ReadOptions) -> Iterator[Chunk]:
    first_line = 2 if source.container == "csv" else 1
    wanted = None if options.columns is None else set(CORE_COLUMNS) | options.columns | {"prompt"}
    short: list[Any] = []  # CSV rows with the wrong number of fields (skipped under --skip-bad)
    counted = 0
    for batch in _batches(source, chunk_rows, wanted, short if options.skip_bad else None):
        frame = table_to_pandas(batch)
        try:
            result = conform(frame, source=source.name, first_line=first_line, default_model=options.default_model,
                             skip_bad=options.skip_bad)
        except RowProblem as exc:  # blank lines and quoted newlines: the row number is not the file line
            if source.container != "csv" or exc.line is None:
                raise
            line = csv_file_line(source, exc.line - 2)
            raise RowProblem(exc.detail, source=source.name, line=line, field=exc.field) from None
        first_line += len(frame)
        if len(short) > counted:
            result.skipped[WRONG_FIELDS] = result.skipped.get(WRONG_FIELDS, 0) + len(short) - counted
            counted = len(short)
        yield Chunk(source.name, "llmcost", result.frame, result.skipped)


def _batches(source: Source, chunk_rows: int, wanted: set[str] | None,
             skipping: list[Any] | None = None) -> Iterator[pa.Table]:
    """Tables of about ``chunk_rows`` rows; CSV rows with the wrong number of fields are an error naming
    their line, or appended to ``skipping`` and skipped when it is given (--skip-bad)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    present = None if wanted is None else [c for c in source.columns if c in wanted]
    try:
        if source.container == "parquet" and not source.gzip:
            # pre_buffer keeps every row group it buffered until the file closes: memory grew with the file
            where = open_path(source.name, random_access=True) if is_url(source.name) else source.name  # ranged reads
            parquet = pq.ParquetFile(where, pre_buffer=False)
            for batch in parquet.iter_batches(batch_size=chunk_rows, columns=present):
                yield pa.Table.from_batches([batch])
            return
        block = int(min(max(chunk_rows * 128, 1 << 20), 1 << 30))
        bad: list[Any] = []

        def invalid(row: Any) -> str:
            (skipping if skipping is not None else bad).append(row)
            return "skip" if skipping is not None else "error"

        with open_binary(source) as fh:
            if source.container == "csv":
                stream = pacsv.open_csv(
                    fh, read_options=pacsv.ReadOptions(block_size=block),
                    parse_options=pacsv.ParseOptions(invalid_row_handler=invalid),
                    convert_options=pacsv.ConvertOptions(strings_can_be_null=True, include_columns=present))
            elif source.container == "jsonl":
                stream = pajson.open_json(fh, read_options=pajson.ReadOptions(block_size=block))
            else:
                raise InputError(f"cannot stream {source.container} files", source=source.name)
            yield from _rebatch(stream, chunk_rows, wanted)
    except pa.ArrowInvalid as exc:
        if bad:
            row = bad[0]
            line = csv_file_line(source, row.number - 2) if row.number else text_line(source, row.text)
            raise InputError(f"row has {row.actual_columns} fields, expected {row.expected_columns}",
                             source=source.name, line=line) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot parse while streaming: {first} (re-run without --chunk-rows to locate the "
                         "line)", source=source.name) from None


def _rebatch(stream: pa.RecordBatchReader, chunk_rows: int, wanted: set[str] | None) -> Iterator[pa.Table]:
    """Group the reader's blocks into tables of about ``chunk_rows`` rows."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in stream:
        if wanted is not None:
            batch = batch.select([c for c in batch.schema.names if c in wanted])
        pending.append(batch)
        rows += batch.num_rows
        if rows >= chunk_rows:
            yield pa.Table.from_batches(pending)
            pending, rows = [], 0
    if pending:
        yield pa.Table.from_batches(pending)
