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
        table, bad_lines = read_table(source, options.skip_bad)
        frame = table_to_pandas(table)
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


def read_table(source: Source, skip_bad: bool = False) -> tuple[pa.Table, int]:
    """Read a flat CSV / JSONL / Parquet source with pyarrow (vectorized).

    Returns the table and the number of malformed JSON lines skipped (only with ``skip_bad``).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    try:
        if source.container == "parquet":
            where: Any = io.BytesIO(read_all(source)) if source.data is not None or source.gzip else source.name
            return pq.read_table(where), 0
        if source.container == "csv":
            with open_binary(source) as fh:
                table = pacsv.read_csv(fh, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
                return table, 0
        if source.container == "jsonl":
            with open_binary(source) as fh:
                return pajson.read_json(fh), 0
    except pa.ArrowInvalid as exc:
        if source.container == "jsonl":
            return _jsonl_slow(source, skip_bad)
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


def _jsonl_slow(source: Source, skip_bad: bool) -> tuple[pa.Table, int]:
    """Line-by-line JSONL parse, used only to locate (or skip) the line pyarrow rejected."""
    import pyarrow as pa

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
    return pa.Table.from_pylist(rows), bad


def _arrow_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot parse: {text}"
