"""Turning a source into a table of the fields a reader needs.

JSON Lines are read by pyarrow with an explicit schema of just those fields (every other field is
ignored, so varying message content costs nothing): vectorized and multi-threaded. When pyarrow rejects
the file (a truncated line, a field of the wrong type, blank lines) it is retried in runs of lines, and
only the small runs pyarrow still rejects are parsed line by line with ``json.loads``, which names the
exact line and field, or skips bad lines under ``--skip-bad``.
A single JSON document (an object, an array, or ``{"data": [...]}``) is parsed whole. CSV is read by
pyarrow with typed columns, falling back to all-text columns so bad values can be located by row.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from llmcost.errors import InputError
from llmcost.logs.csv_blocks import with_bigger_blocks
from llmcost.logs.decoding import loads
from llmcost.logs.formats._rows import Rows
from llmcost.logs.interface import ReadOptions, Source
from llmcost.logs.source import read_all

if TYPE_CHECKING:
    import pyarrow as pa

# ints: a list of whole numbers; scalar: text or a number, whichever the file uses (an epoch or ISO time,
# an HTTP status): pyarrow tries text first, then numbers
# not_object: True where the value at the path is present but not an object (a Claude Code line whose
# ``message`` is a string); fields below that path then read as missing instead of failing the record
# audio: a Gemini modality list (``[{"modality": "AUDIO", "tokenCount": 80}, ...]``) read as its AUDIO tokens;
# finish: a Gemini ``candidates`` list read as its first candidate's ``finishReason`` ("" when that candidate
# has none, missing when there are no candidates)
# present: True where the value at the path is there (not null), whatever it holds (an object whose fields are
# also wanted: a Claude Code ``usage: {}`` is present with no counts, not absent)
Kind = Literal["int", "num", "str", "bool", "obj", "ints", "scalar", "not_object", "audio", "finish", "present"]
INVALID_JSON = "invalid JSON line"


@dataclass(frozen=True)
class Field:
    """One field a reader needs, by its path in the record (``("usage", "prompt_tokens")``)."""

    path: tuple[str, ...]
    kind: Kind = "int"

    @property
    def name(self) -> str:
        return ".".join(self.path)


def fields(kind: Kind, *names: str) -> list[Field]:
    """``fields("int", "usage.input_tokens", ...)``: several fields of one kind from dotted names."""
    return [Field(tuple(n.split(".")), kind) for n in names]


def json_rows(source: Source, wanted: Sequence[Field], options: ReadOptions) -> Rows:
    """The ``wanted`` fields of every record of a JSON / JSONL source, one column per field name."""
    import numpy as np

    data = read_all(source)
    if source.container == "jsonl" or _looks_like_lines(data):
        fast = _arrow_lines(data, wanted)
        if fast is not None:
            return Rows(fast, np.arange(1, len(fast) + 1), source.name, options)
        return _chunked_lines(data, wanted, source.name, options)
    return item_rows(_document_items(data, source.name), wanted, source.name, options)


def item_rows(items: Sequence[Any], wanted: Sequence[Field], name: str, options: ReadOptions) -> Rows:
    """The ``wanted`` fields of records already parsed (a document's items), numbered from 1."""
    import numpy as np
    import pandas as pd

    columns, lines, skipped = _extract(enumerate(items, start=1), wanted, name, options.skip_bad, "item")
    frame = pd.DataFrame(columns)
    return Rows(frame, np.asarray(lines, dtype=np.int64), name, options, skipped=skipped, unit="item")


def parse_documents(source: Source) -> list[Any]:
    """Every JSON document of a source: the one document, or one per line of JSON Lines."""
    data = read_all(source)
    if source.container == "json" and not _looks_like_lines(data):
        try:
            return [loads(data)]
        except ValueError as exc:
            raise InputError(f"invalid JSON ({_short(exc)})", source=source.name,
                             line=getattr(exc, "lineno", None)) from None
    return [obj for _, obj in _parsed_lines(data, source.name, skip_bad=False)]


RUN_BYTES = 32 << 20
SMALLEST_RUN = 256 << 10


def _chunked_lines(data: bytes, wanted: Sequence[Field], name: str, options: ReadOptions) -> Rows:
    """pyarrow rejected the file: retry it in runs of whole lines; a rejected run is split again, down to
    small runs that are parsed line by line (so one bad line costs one small run, not the file)."""
    import numpy as np
    import pandas as pd

    frames: list[pd.DataFrame] = []
    lines: list[np.ndarray] = []
    skipped: dict[str, int] = {}
    for run, first_line in _runs(data, RUN_BYTES, 1):
        _read_run(run, first_line, wanted, name, options, (frames, lines, skipped))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return Rows(frame, np.concatenate(lines), name, options, skipped=skipped)


def _runs(data: bytes, size: int, first_line: int) -> Iterator[tuple[bytes, int]]:
    """Consecutive slices of about ``size`` bytes ending at a newline, with the line each starts on."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start + size)
        end = len(data) if end < 0 else end + 1
        run = data[start:end]
        yield run, first_line
        first_line += run.count(b"\n")
        start = end


def _read_run(run: bytes, first_line: int, wanted: Sequence[Field], name: str, options: ReadOptions,
              out: tuple[list[Any], list[Any], dict[str, int]]) -> None:
    import numpy as np
    import pandas as pd

    frames, lines, skipped = out
    fast = _arrow_lines(run, wanted)
    if fast is not None:
        frames.append(fast)
        lines.append(np.arange(first_line, first_line + len(fast)))
    elif len(run) > SMALLEST_RUN:
        for part, start in _runs(run, len(run) // 8, first_line):
            _read_run(part, start, wanted, name, options, out)
    else:
        records = _parsed_lines(run, name, options.skip_bad, first_line)
        columns, found, bad = _extract(records, wanted, name, options.skip_bad, "line")
        frames.append(pd.DataFrame(columns, columns=[f.name for f in wanted]))
        lines.append(np.asarray(found, dtype=np.int64))
        for why, n in bad.items():
            skipped[why] = skipped.get(why, 0) + n


def _looks_like_lines(data: bytes) -> bool:
    head = data.lstrip()[:1]
    if head != b"{":
        return False
    first, _, rest = data.strip().partition(b"\n")
    return bool(rest) and first.rstrip().endswith(b"}") and rest.lstrip().startswith(b"{")


def _arrow_type(tree: dict[str, Any]) -> pa.DataType:
    import pyarrow as pa

    return pa.struct([(k, _arrow_type(v) if isinstance(v, dict) else v) for k, v in tree.items()])


_ARROW_KINDS = {"int": "int64", "num": "float64", "str": "string", "bool": "bool_"}


def _arrow_lines(data: bytes, wanted: Sequence[Field]) -> Any:
    """A DataFrame via pyarrow, or None when pyarrow cannot take it (then the line-by-line path runs)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.json as pajson

    if any(f.kind == "obj" for f in wanted):
        return None
    marks = [f.name for f in wanted if f.kind == "not_object"]
    presence = [f for f in wanted if f.kind == "present"]
    # pyarrow only reads files where they are objects
    wanted = [f for f in wanted if f.kind not in ("not_object", "present")]
    table = None
    for scalar in ("str", "num") if any(f.kind == "scalar" for f in wanted) else ("str",):
        tree: dict[str, Any] = {}
        for f in wanted:
            node = tree
            for key in f.path[:-1]:
                node = node.setdefault(key, {})
            kind = scalar if f.kind == "scalar" else f.kind
            node[f.path[-1]] = _LIST_KINDS[kind]() if kind in _LIST_KINDS else getattr(pa, _ARROW_KINDS[kind])()
        schema = pa.schema(list(_arrow_type(tree)))
        options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        try:
            table = pajson.read_json(io.BytesIO(data), parse_options=options)
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue
    if table is None:
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows != lines:  # blank lines: row numbers would not be line numbers
        return None
    present = {f.name: _present(table, f.path) for f in presence}
    if any(v is None for v in present.values()):
        return None
    while any(pa.types.is_struct(t) for t in table.schema.types):
        table = table.flatten()
    for f in wanted:
        if f.kind in ("audio", "finish"):
            at = table.schema.get_field_index(f.name)
            reduce = _audio_counts if f.kind == "audio" else _first_finish
            table = table.set_column(at, f.name, reduce(table.column(at)))
    frame = table.select([f.name for f in wanted]).to_pandas(types_mapper=_arrow_lists)
    for name in marks:
        frame[name] = None
    for name, valid in present.items():
        mark = np.full(len(valid), None, dtype=object)
        mark[valid] = True
        frame[name] = mark
    return frame


def _present(table: pa.Table, path: tuple[str, ...]) -> Any:
    """Where the struct at ``path`` is not null (None when the path is not a struct of the schema)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if path[0] not in table.column_names:
        return None
    column: Any = table.column(path[0]).combine_chunks()
    for key in path[1:]:
        if not pa.types.is_struct(column.type) or column.type.get_field_index(key) < 0:
            return None
        column = pc.struct_field(column, key)
    return column.is_valid().to_numpy(zero_copy_only=False)


def _modalities() -> pa.DataType:
    import pyarrow as pa

    return pa.list_(pa.struct([("modality", pa.string()), ("tokenCount", pa.int64())]))


def _whole_numbers() -> pa.DataType:
    import pyarrow as pa

    return pa.list_(pa.int64())


def _candidates() -> pa.DataType:
    import pyarrow as pa

    return pa.list_(pa.struct([("finishReason", pa.string())]))


_LIST_KINDS = {"ints": _whole_numbers, "audio": _modalities, "finish": _candidates}


def _audio_counts(column: pa.ChunkedArray) -> pa.Array:
    """Per row, the ``tokenCount`` of the AUDIO entries of a modality list (null where there is no list)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = column.combine_chunks()
    entries = pc.list_flatten(lists)
    counts = pc.fill_null(pc.if_else(pc.equal(pc.struct_field(entries, "modality"), "AUDIO"),
                                     pc.struct_field(entries, "tokenCount"), 0), 0)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    sums = np.bincount(parents, weights=counts.to_numpy(zero_copy_only=False), minlength=len(lists))
    return pa.array(sums.astype(np.int64), mask=lists.is_null().to_numpy(zero_copy_only=False))


def _first_finish(column: pa.ChunkedArray) -> pa.Array:
    """Per row, the first candidate's ``finishReason`` ("" when it has none, null without candidates)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = column.combine_chunks()
    if len(lists) == 0:
        return pa.array([], type=pa.string())
    some = pc.greater(pc.fill_null(pc.list_value_length(lists), 0), 0)
    padded = pc.if_else(some, lists, pa.scalar([{"finishReason": None}], type=lists.type))
    reason = pc.fill_null(pc.struct_field(pc.list_element(padded, 0), "finishReason"), "")
    return pc.if_else(some, reason, pa.scalar(None, type=pa.string()))


def _arrow_lists(arrow_type: pa.DataType) -> object:
    """List columns (``hash_ids``) stay Arrow-backed: no Python object per row."""
    import pandas as pd
    import pyarrow as pa

    return pd.ArrowDtype(arrow_type) if pa.types.is_list(arrow_type) else None


def _parsed_lines(data: bytes, name: str, skip_bad: bool, first: int = 1) -> Iterator[tuple[int, Any]]:
    for lineno, line in enumerate(data.split(b"\n"), start=first):
        if not line.strip():
            continue
        try:
            yield lineno, loads(line)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            if not skip_bad:
                raise InputError(f"invalid JSON ({_short(exc)})", source=name, line=lineno) from None
            yield lineno, _BAD


_BAD = object()


def _document_items(data: bytes, name: str) -> list[Any]:
    try:
        doc = loads(data)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"invalid JSON ({_short(exc)})", source=name, line=line) from None
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        doc = doc["data"]  # API list responses: {"data": [...], "meta": ...}
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise InputError("the JSON array is empty", source=name)
    return items


def json_pages(source: Source, unwrap: Callable[[Any], Any]) -> list[Any]:
    """The items of a paged API answer saved whole (one JSON document) or as pages, one per line: each
    document's items as ``unwrap`` finds them (a page's ``data``), a document that is no page as one item."""
    text = read_all(source)
    try:
        docs = [loads(text)] if source.container == "json" else [
            loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise InputError(f"invalid JSON ({_short(exc)})", source=source.name) from None
    items: list[Any] = []
    for doc in docs:
        page = unwrap(doc)
        items.extend(page if isinstance(page, list) else [page])
    return items


def _short(exc: Exception) -> str:
    return str(exc).split(": line ")[0]


def _extract(records: Iterable[tuple[int, Any]], wanted: Sequence[Field], name: str,
             skip_bad: bool, unit: str) -> tuple[dict[str, list[Any]], list[int], dict[str, int]]:
    columns: dict[str, list[Any]] = {f.name: [] for f in wanted}
    lines: list[int] = []
    skipped: dict[str, int] = {}
    plan = [(columns[f.name], f.path, f.kind, f.name) for f in wanted]
    soft = frozenset(f.path for f in wanted if f.kind == "not_object")
    for where, obj in records:
        problem = _INVALID if obj is _BAD else None if isinstance(obj, dict) else ("", "not a JSON object")
        values: list[Any] = []
        if problem is None:
            for _, path, kind, fname in plan:
                value, why = _dig(obj, path, kind, soft)
                if why:
                    problem = (fname, why)
                    break
                values.append(value)
        if problem is not None:
            if not skip_bad:
                raise _record_error(name, where, problem, unit == "item")
            reason = f"{problem[0]}: {problem[1]}" if problem[0] else problem[1]
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        for (column, *_), value in zip(plan, values, strict=True):
            column.append(value)
        lines.append(where)
    return columns, lines, skipped


_INVALID = ("", INVALID_JSON)


def _record_error(name: str, where: int, problem: tuple[str, str], items: bool) -> InputError:
    field, why = problem
    if items:
        return InputError(f"array item {where}: {why}", source=name, field=field or None)
    return InputError(why, source=name, line=where, field=field or None)


def _dig(obj: dict[str, Any], path: tuple[str, ...], kind: Kind,
         soft: frozenset[tuple[str, ...]] = frozenset()) -> tuple[Any, str | None]:
    cur: Any = obj
    for depth, key in enumerate(path):
        if cur is None:
            return None, None
        if not isinstance(cur, dict):
            if path[:depth] in soft:
                return None, None
            return None, f"expected an object at '{'.'.join(path[:depth])}'"
        cur = cur.get(key)
    if kind == "not_object":
        return (None if cur is None or isinstance(cur, dict) else True), None
    if kind == "present":
        return (None if cur is None else True), None
    if kind == "audio" and cur is not None:
        return _audio_entries(cur)
    if kind == "finish" and cur is not None:
        first = cur[0] if isinstance(cur, list) and cur else None
        if not isinstance(first, dict):
            return None, None
        reason = first.get("finishReason")
        return (reason if isinstance(reason, str) else ""), None
    if cur is None or kind == "obj":
        return cur, None
    if kind in ("int", "num"):
        if isinstance(cur, bool) or not isinstance(cur, int | float | str):
            return None, f"must be a number, not {_json_type(cur)}"
        return cur, None
    if kind == "ints":
        if not isinstance(cur, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in cur):
            return None, "must be an array of whole numbers"
        return cur, None
    if kind == "scalar":
        if isinstance(cur, bool) or not isinstance(cur, int | float | str):
            return None, f"must be text or a number, not {_json_type(cur)}"
        return cur, None
    if kind == "str":
        if isinstance(cur, dict | list):
            return None, f"must be a string, not {_json_type(cur)}"
        return cur if isinstance(cur, str) else str(cur), None
    return cur, None


def _audio_entries(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        return None, "must be an array of {modality, tokenCount} objects"
    total = 0
    for entry in value:
        count = entry.get("tokenCount")
        if entry.get("modality") == "AUDIO" and count is not None:
            if isinstance(count, bool) or not isinstance(count, int):
                return None, "tokenCount must be a whole number"
            total += count
    return total, None


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean", str: "a string"}.get(type(value), "a number")


def csv_rows(source: Source, wanted: Sequence[str], options: ReadOptions) -> Rows:
    """The ``wanted`` columns (those present) of a CSV source, typed by pyarrow, with file lines per row."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if source.container != "csv":
        raise InputError(f"expected a CSV file, got {source.container}", source=source.name)
    present = [c for c in dict.fromkeys(wanted) if c in source.columns]
    data = read_all(source)
    short: list[Any] = []

    def invalid_row(row: Any) -> str:
        short.append(row)
        return "skip" if options.skip_bad else "error"

    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=invalid_row)
    table = None
    for text_only in (False, True):  # typed first; all-text when a value does not fit the inferred type
        short.clear()
        types = {c: pa.string() for c in present} if text_only else None
        convert = pacsv.ConvertOptions(include_columns=present, strings_can_be_null=True, column_types=types)
        try:
            table = with_bigger_blocks(functools.partial(_read_csv_bytes, data, parse, convert))
            break
        except pa.ArrowInvalid as exc:
            if short:
                row = short[0]
                raise InputError(f"row has {row.actual_columns} fields, expected {row.expected_columns}",
                                 source=source.name, line=_line_of_text(data, row.text)) from None
            if text_only:
                raise InputError(f"cannot parse CSV: {str(exc).splitlines()[0]}", source=source.name) from None
    assert table is not None
    frame = table.to_pandas()
    skipped = {"malformed CSV row (wrong number of fields)": len(short)} if short else {}
    rows = Rows(frame, np.arange(2, len(frame) + 2), source.name, options, skipped=skipped)
    # quoted values may span lines, and pyarrow skips blank lines: find real lines only when reporting
    if short or b'"' in data or b"\n\n" in data or b"\n\r\n" in data:
        rows.locate = lambda naive: _csv_line(data, naive - 2, {r.text for r in short})
    return rows


def _read_csv_bytes(data: bytes, parse: Any, convert: Any, options: Any) -> pa.Table:
    import pyarrow.csv as pacsv

    return pacsv.read_csv(io.BytesIO(data), read_options=options, parse_options=parse, convert_options=convert)


def _line_of_text(data: bytes, text: str) -> int | None:
    """The line holding exactly ``text`` (a row pyarrow rejected), when it can be found."""
    raw = text.encode("utf-8")
    at = data.find(b"\n" + raw + b"\n")
    if at < 0:
        at = data.find(b"\n" + raw)
    return None if at < 0 else data.count(b"\n", 0, at + 1) + 1


def _csv_line(data: bytes, row: int, dropped: set[str]) -> int:
    """The file line where data row ``row`` (0-based, after rows pyarrow dropped) starts."""
    import csv

    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
    next(reader, None)
    start = reader.line_num + 1
    index = 0
    for record in reader:
        if not record:  # a blank line: pyarrow skips it, it is no row
            start = reader.line_num + 1
            continue
        if ",".join(record) not in dropped or not dropped:
            if index == row:
                return start
            index += 1
        start = reader.line_num + 1
    return start
