"""llmcost's own format: the normalized frame's column names, as CSV, JSONL or Parquet (gzip allowed)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError
from llmcost.frame import CORE_COLUMNS, EXTRA_TOKEN_COLUMNS, OPTIONAL_COLUMNS, Conformed, RowProblem, conform
from llmcost.logs.decoding import loads
from llmcost.logs.flat_csv import DICTIONARY_COLUMNS, read_csv
from llmcost.logs.interface import ReadOptions, Source
from llmcost.logs.remote import is_url
from llmcost.logs.source import open_binary, open_path, path_size, read_all

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

KNOWN = frozenset(CORE_COLUMNS) | frozenset(OPTIONAL_COLUMNS) | frozenset(EXTRA_TOKEN_COLUMNS)
_DICTIONARY = DICTIONARY_COLUMNS


class NativeReader:
    name = "llmcost"
    description = "llmcost's normalized columns (timestamp, model, input_tokens, ...) as CSV, JSONL or Parquet"

    def sniff(self, source: Source) -> bool:
        cols = set(source.columns)
        return {"timestamp", "input_tokens", "output_tokens"} <= cols

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        wanted = None
        if options.columns is not None:
            # Token counts may have to be estimated from the prompt text, so it is never dropped.
            wanted = set(CORE_COLUMNS) | options.columns | {"prompt"}
        frame, bad_lines = read_flat(source, options.skip_bad, wanted)
        first_line = 2 if source.container == "csv" else 1
        try:
            result = conform(
                frame,
                source=source.name,
                first_line=first_line,
                default_model=options.default_model,
                skip_bad=options.skip_bad,
            )
        except RowProblem as exc:
            if source.container != "csv" or exc.line is None:
                raise
            line = csv_file_line(source, exc.line - first_line)
            raise RowProblem(exc.detail, source=source.name, line=line, field=exc.field) from None
        if bad_lines:
            why = WRONG_FIELDS if source.container == "csv" else "invalid JSON line"
            result.skipped[why] = bad_lines
        return result


WRONG_FIELDS = "malformed CSV row (wrong number of fields)"


def text_line(source: Source, text: str) -> int | None:
    """The file line of a row pyarrow rejected, found by its text (only run to report an error)."""
    return _line_of_text(read_all(source), text)


def _line_of_text(data: bytes, text: str) -> int | None:
    at = data.find(b"\n" + text.encode("utf-8"))
    return data.count(b"\n", 0, at + 1) + 1 if at >= 0 else None


def csv_file_line(source: Source, row: int) -> int:
    """The file line of data row ``row`` (0-based): pyarrow skips blank lines and a quoted value may span
    lines, so the row number is not the line. Only run to report an error."""
    from llmcost.logs.formats._records import _csv_line

    return _csv_line(read_all(source), row, set())


def read_flat(source: Source, skip_bad: bool = False, columns: set[str] | None = None) -> tuple[pd.DataFrame, int]:
    """Read a flat CSV / JSONL / Parquet source into pandas, vectorized with pyarrow.

    A JSONL file pyarrow rejects (a malformed line, or mixed types in a column) is re-read line by line
    so the error can name its line; with ``skip_bad`` malformed lines are dropped and counted (the
    second value).
    """
    try:
        table = read_table(source, columns)
    except _WrongFieldCount:
        table, bad = _csv_rows_skipping(source, skip_bad, columns)
        return table_to_pandas(table), bad
    except _NeedsLineByLine:
        frame, bad = _jsonl_slow(source, skip_bad)
        return (frame if columns is None else frame[[c for c in frame.columns if c in columns]]), bad
    return table_to_pandas(table), 0


class _NeedsLineByLine(Exception):
    pass


class _WrongFieldCount(Exception):
    pass


def _csv_rows_skipping(source: Source, skip_bad: bool, columns: set[str] | None) -> tuple[pa.Table, int]:
    """A CSV with rows of the wrong number of fields: the first is an error naming its line, or with
    ``skip_bad`` they are skipped and counted (pyarrow's inference over the whole file, only for such files)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    data = read_all(source)
    bad: list[Any] = []

    def invalid(row: Any) -> str:
        bad.append(row)
        return "skip" if skip_bad else "error"

    include = _present(columns, source.columns)
    try:
        table = pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(invalid_row_handler=invalid),
                               convert_options=pacsv.ConvertOptions(strings_can_be_null=True,
                                                                    include_columns=include))
    except pa.ArrowInvalid as exc:
        if not bad:
            raise InputError(_arrow_message(exc), source=source.name) from None
        row = bad[0]
        line = _line_of_text(data, row.text)
        raise InputError(f"row has {row.actual_columns} fields, expected {row.expected_columns}",
                         source=source.name, line=line) from None
    return table, len(bad)


def read_table(source: Source, columns: set[str] | None = None) -> pa.Table:
    """Read a flat CSV / JSONL / Parquet source with pyarrow (vectorized), only ``columns`` if given."""
    import pyarrow as pa
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    try:
        if source.container == "parquet":
            where: Any = io.BytesIO(read_all(source)) if source.data is not None or source.gzip else source.name
            if isinstance(where, str) and is_url(where):  # ranged reads: only the wanted columns travel
                with open_path(where, random_access=True) as fh:
                    return pq.read_table(fh, columns=_present(columns, source.columns))
            return pq.read_table(where, columns=_present(columns, source.columns))
        if source.container == "csv":
            return _read_csv(source, _present(columns, source.columns))
        if source.container == "jsonl":
            with open_binary(source) as fh:
                table = pajson.read_json(fh)
            return table if columns is None else table.select([c for c in table.column_names if c in columns])
    except pa.ArrowInvalid as exc:
        if source.container == "jsonl":
            raise _NeedsLineByLine from None
        if source.container == "csv" and "columns, got" in str(exc):
            raise _WrongFieldCount from None
        raise InputError(_arrow_message(exc), source=source.name) from None
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read: {exc}", source=source.name) from None
    raise InputError(f"llmcost format expects CSV, JSONL or Parquet, not {source.container}", source=source.name)


def _read_csv(source: Source, include: list[str] | None) -> pa.Table:
    """Column types pinned from the head, read in pieces into preallocated columns (see ``flat_csv``)."""
    size = len(source.data) if source.data is not None else path_size(source.name)
    with open_binary(source) as fh:
        return read_csv(fh, include, size_hint=None if source.gzip else size)


def _present(columns: set[str] | None, available: tuple[str, ...]) -> list[str] | None:
    return None if columns is None else [c for c in available if c in columns]


def table_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert keeping low-cardinality text columns dictionary-encoded (categoricals)."""
    import pyarrow as pa

    categorical: dict[str, pd.Categorical[Any]] = {}
    order = table.column_names
    for name in _DICTIONARY:
        if name in table.column_names and pa.types.is_string(table.schema.field(name).type):
            idx = table.column_names.index(name)
            fast = _categorical(table.column(name)) if len(set(order)) == len(order) else None
            if fast is not None:
                categorical[name] = fast
                table = table.remove_column(idx)
            else:
                table = table.set_column(idx, name, table.column(name).dictionary_encode())
    frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True, types_mapper=_arrow_lists)
    if categorical:
        for name, values in categorical.items():
            frame[name] = values
        frame = frame[order]
    return frame


def _categorical(column: pa.ChunkedArray) -> pd.Categorical[Any] | None:
    """A text column as a pandas Categorical straight from Arrow's dictionary: the categories stay Arrow strings
    (pyarrow's ``to_pandas`` makes a Python string of each and pandas checks they are unique, seconds for a
    million distinct tasks). None when the categories would not have the type ``to_pandas`` gives them."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(column) == 0:
        return None
    wanted = column.slice(0, 1).dictionary_encode().to_pandas().cat.categories.dtype  # what to_pandas makes
    encoded = (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).dictionary_encode()
    try:
        categories = pd.Index(pd.array(encoded.dictionary, dtype=wanted))
    except (TypeError, ValueError, pa.ArrowException):
        return None
    if categories.dtype != wanted:
        return None
    n = len(categories)
    small = np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32  # as pandas sizes category codes
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(small, copy=False)
    fastpath = getattr(pd.CategoricalDtype, "_from_fastpath", None)  # Arrow's dictionary is unique already
    dtype = fastpath(categories, False) if fastpath is not None else pd.CategoricalDtype(categories, ordered=False)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _arrow_lists(arrow_type: pa.DataType) -> object:
    """Keep list columns (``prefix_hashes``) Arrow-backed: no Python object per row."""
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None


def _jsonl_slow(source: Source, skip_bad: bool) -> tuple[pd.DataFrame, int]:
    """Line-by-line JSONL parse, used only to locate (or skip) the line pyarrow rejected."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    bad = 0
    text = read_all(source).decode("utf-8", errors="replace")
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            if skip_bad:
                bad += 1
                continue
            raise InputError(f"invalid JSON: {exc}", source=source.name, line=lineno) from None
        rows.append(obj)
    if not rows:
        raise InputError("no valid JSON lines", source=source.name)
    return pd.DataFrame.from_records(rows), bad


def _arrow_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot parse: {text}"
