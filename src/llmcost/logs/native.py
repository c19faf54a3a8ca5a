"""llmcost's own format: the normalized frame's column names, as CSV, JSONL or Parquet (gzip allowed)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError
from llmcost.frame import CORE_COLUMNS, OPTIONAL_COLUMNS, Conformed, conform
from llmcost.logs.interface import ReadOptions, Source
from llmcost.logs.source import open_binary, read_all

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

KNOWN = frozenset(CORE_COLUMNS) | frozenset(OPTIONAL_COLUMNS)
_DICTIONARY = ("model", "task", "user", "region", "status")


class NativeReader:
    name = "llmcost"
    description = "llmcost's normalized columns (timestamp, model, input_tokens, ...) as CSV, JSONL or Parquet"

    def sniff(self, source: Source) -> bool:
        cols = set(source.columns)
        return {"timestamp", "input_tokens", "output_tokens"} <= cols

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        frame, bad_lines = read_flat(source, options.skip_bad)
        first_line = 2 if source.container == "csv" else 1
        result = conform(
            frame,
            source=source.name,
            first_line=first_line,
            default_model=options.default_model,
            skip_bad=options.skip_bad,
        )
        if bad_lines:
            result.skipped["invalid JSON line"] = bad_lines
        return result


def read_flat(source: Source, skip_bad: bool = False) -> tuple[pd.DataFrame, int]:
    """Read a flat CSV / JSONL / Parquet source into pandas, vectorized with pyarrow.

    A JSONL file pyarrow rejects (a malformed line, or mixed types in a column) is re-read line by line
    so the error can name its line; with ``skip_bad`` malformed lines are dropped and counted (the
    second value).
    """
    try:
        table = read_table(source)
    except _NeedsLineByLine:
        return _jsonl_slow(source, skip_bad)
    return table_to_pandas(table), 0


class _NeedsLineByLine(Exception):
    pass


def read_table(source: Source) -> pa.Table:
    """Read a flat CSV / JSONL / Parquet source with pyarrow (vectorized)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    try:
        if source.container == "parquet":
            where: Any = io.BytesIO(read_all(source)) if source.data is not None or source.gzip else source.name
            return pq.read_table(where)
        if source.container == "csv":
            with open_binary(source) as fh:
                return pacsv.read_csv(fh, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
        if source.container == "jsonl":
            with open_binary(source) as fh:
                return pajson.read_json(fh)
    except pa.ArrowInvalid as exc:
        if source.container == "jsonl":
            raise _NeedsLineByLine from None
        raise InputError(_arrow_message(exc), source=source.name) from None
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read: {exc}", source=source.name) from None
    raise InputError(f"llmcost format expects CSV, JSONL or Parquet, not {source.container}", source=source.name)


def table_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert keeping low-cardinality text columns dictionary-encoded (categoricals)."""
    import pyarrow as pa

    for name in _DICTIONARY:
        if name in table.column_names and pa.types.is_string(table.schema.field(name).type):
            idx = table.column_names.index(name)
            table = table.set_column(idx, name, table.column(name).dictionary_encode())
    frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True)
    return frame


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
            obj = json.loads(line)
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
