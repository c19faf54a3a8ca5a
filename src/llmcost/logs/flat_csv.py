"""Reading a flat CSV with pyarrow fast and in little fresh memory.

Three paths, the first that applies:

1. **Pieces.** Column types are pinned from a 1 MiB sample of the head; the file is read in pieces of
   16 MiB (pyarrow parses each piece's blocks in parallel) and every piece's numbers are copied into
   one preallocated array per column, so only the final columns are new memory: each piece's parse
   buffers are recycled for the next. Text columns named in ``DICTIONARY_COLUMNS`` become codes into
   one dictionary. The result is a single-chunk table, which pandas then wraps without copying.
2. **Pinned.** The same pinned types, whole file at once (when a column was empty in the sample, or a
   line is longer than a piece).
3. **Inferred.** Plain pyarrow inference over the whole file, as when a later value does not fit the
   pinned type (a float after whole numbers, a timestamp without zone): the result, and any error
   naming a line, are exactly what inference gives.
"""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING, Any

from llmcost.logs.csv_blocks import with_bigger_blocks

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DICTIONARY_COLUMNS = ("model", "task", "user", "region", "status")
# Column types are pinned from this much of the head (pyarrow itself infers from its first 1 MiB block).
SAMPLE_BYTES = 1 << 20
PIECE_BYTES = 16 << 20
# Past this many distinct values a dictionary column (a ``user`` id, say) stays Arrow-encoded.
MAX_CATEGORIES = 4096


class _Fallback(Exception):
    """The pieces path cannot read this file; read it whole."""


def read_csv(fh: IO[bytes], include: list[str] | None, size_hint: int | None = None) -> pa.Table:
    """Read the CSV in ``fh`` (seekable), only the ``include`` columns if given."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    head = fh.read(SAMPLE_BYTES)
    if len(head) < SAMPLE_BYTES:
        return pacsv.read_csv(io.BytesIO(head), convert_options=_convert(include))
    types = sampled_types(head, include)
    names = header_names(head)
    try:
        if size_hint and names and len(set(names)) == len(names) \
                and all(n in types for n in names if include is None or n in include):
            fh.seek(0)
            try:
                return _Pieces(names, head, types, size_hint).read(fh)
            except (_Fallback, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass
        if types:
            return with_bigger_blocks(lambda options: _rewound(fh, options, _convert(include, types)))
    except pa.ArrowInvalid:  # a value the pinned type rejects: whole-file inference decides
        pass
    return with_bigger_blocks(lambda options: _rewound(fh, options, _convert(include)))


def _rewound(fh: IO[bytes], options: Any, convert: Any) -> pa.Table:
    import pyarrow.csv as pacsv

    fh.seek(0)
    return pacsv.read_csv(fh, read_options=options, convert_options=convert)


def _convert(include: list[str] | None, types: dict[str, pa.DataType] | None = None) -> Any:
    import pyarrow.csv as pacsv

    return pacsv.ConvertOptions(strings_can_be_null=True, include_columns=include, column_types=types)


def sampled_types(head: bytes, include: list[str] | None) -> dict[str, pa.DataType]:
    """The types pyarrow infers from the whole lines of ``head``: timestamps widened to nanoseconds,
    low-cardinality text dictionary-encoded. Columns empty in the sample are left to inference."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    end = head.rfind(b"\n")
    try:
        sample = pacsv.read_csv(io.BytesIO(head[:end + 1]), convert_options=_convert(include))
    except pa.ArrowInvalid:
        return {}
    types: dict[str, pa.DataType] = {}
    for field in sample.schema:
        kind = field.type
        if pa.types.is_null(kind):
            continue
        if pa.types.is_timestamp(kind):
            kind = pa.timestamp("ns", tz=kind.tz)
        elif pa.types.is_string(kind) and field.name in DICTIONARY_COLUMNS:
            kind = pa.dictionary(pa.int32(), pa.string())
        types[field.name] = kind
    return types


def header_names(head: bytes) -> list[str] | None:
    """The column names exactly as pyarrow reads them from the header line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    end = head.find(b"\n")
    try:
        return pacsv.read_csv(io.BytesIO(head[:end + 1])).column_names if end > 0 else None
    except pa.ArrowInvalid:
        return None


class _Pieces:
    """Read the file piece by piece into preallocated columns (see the module docstring)."""

    def __init__(self, names: list[str], head: bytes, types: dict[str, pa.DataType], size_hint: int) -> None:
        self.names = names
        self.types = types
        lines = max(head.count(b"\n") - 1, 1)
        per_line = len(head) / lines
        # np.empty is lazy: rows reserved but never filled cost no memory.
        self.capacity = int(size_hint / per_line * 1.25) + 1024
        self.columns = {name: _Column(name, kind, self.capacity) for name, kind in types.items()}
        self.rows = 0

    def read(self, fh: IO[bytes]) -> pa.Table:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        buffer = bytearray(PIECE_BYTES)
        view = memoryview(buffer)
        carry = 0
        first = True
        while True:
            got = _fill(fh, view[carry:])
            end = carry + got
            last = end < len(buffer)
            cut = end if last else buffer.rfind(b"\n", 0, end) + 1
            if cut == 0 and not last:
                raise _Fallback  # a line longer than a piece
            if cut > 0:
                options = pacsv.ReadOptions(column_names=None if first else self.names)
                table = pacsv.read_csv(pa.BufferReader(pa.py_buffer(view[:cut])), read_options=options,
                                       convert_options=_convert(list(self.types), self.types))
                self._take(table)
            first = False
            if last:
                return pa.table({name: column.finish(self.rows) for name, column in self.columns.items()})
            tail = bytes(view[cut:end])
            buffer[:len(tail)] = tail
            carry = len(tail)

    def _take(self, table: pa.Table) -> None:
        n = table.num_rows
        if self.rows + n > self.capacity:
            self.capacity = 2 * (self.rows + n)
            for column in self.columns.values():
                column.grow(self.rows, self.capacity)
        for name, column in self.columns.items():
            column.take(table.column(name), self.rows)
        self.rows += n


def _fill(fh: IO[bytes], into: memoryview) -> int:
    done = 0
    while done < len(into):
        got = fh.readinto(into[done:])  # type: ignore[attr-defined]
        if not got:
            break
        done += got
    return done


class _Column:
    """One column being filled: numbers go to a numpy array, dictionary text to codes, anything else
    (or numbers once a null shows up) is kept as Arrow chunks."""

    def __init__(self, name: str, kind: pa.DataType, capacity: int) -> None:
        import numpy as np
        import pyarrow as pa

        self.name = name
        self.kind = kind
        self.chunks: list[pa.Array] | None = None
        self.values: np.ndarray | None = None
        self.categories: dict[str | None, int] = {}
        self.nulls = False
        if pa.types.is_dictionary(kind):
            self.values = np.empty(capacity, dtype=np.int32)
        elif pa.types.is_integer(kind) or pa.types.is_timestamp(kind):
            self.values = np.empty(capacity, dtype=np.int64)
        elif pa.types.is_floating(kind):
            self.values = np.empty(capacity, dtype=np.float64)
        elif pa.types.is_boolean(kind):
            self.values = np.empty(capacity, dtype=bool)
        else:
            self.chunks = []

    def grow(self, rows: int, capacity: int) -> None:
        import numpy as np

        if self.values is not None:
            bigger = np.empty(capacity, dtype=self.values.dtype)
            bigger[:rows] = self.values[:rows]
            self.values = bigger

    def take(self, data: pa.ChunkedArray, start: int) -> None:
        for chunk in data.chunks:
            if self.values is not None and self._keep_as_arrow(chunk):
                self.chunks = [self._as_arrow(start)]
                self.values = None
            if self.chunks is not None:
                self.chunks.append(chunk)
            else:
                self._copy(chunk, start)
            start += len(chunk)

    def _keep_as_arrow(self, chunk: pa.Array) -> bool:
        """From now on keep Arrow chunks: a null in whole numbers, booleans or timestamps (pandas must
        see it, as inference would give it), or too many distinct texts to map in Python."""
        import pyarrow as pa

        if pa.types.is_dictionary(self.kind):
            return len(self.categories) > MAX_CATEGORIES
        return bool(chunk.null_count) and not pa.types.is_floating(self.kind)

    def _copy(self, chunk: pa.Array, start: int) -> None:
        import pyarrow as pa

        assert self.values is not None
        out = self.values[start:start + len(chunk)]
        if pa.types.is_dictionary(self.kind):
            self._codes(chunk, out)
        elif pa.types.is_timestamp(self.kind):
            out[:] = chunk.cast(pa.int64()).to_numpy()
        else:
            out[:] = chunk.to_numpy(zero_copy_only=False)

    def _codes(self, chunk: pa.DictionaryArray, out: np.ndarray) -> None:
        import numpy as np

        known = self.categories
        words = chunk.dictionary.to_pylist()
        lookup = np.array([known.setdefault(word, len(known)) for word in words] + [-1], dtype=np.int32)
        indices = chunk.indices
        if chunk.null_count:
            self.nulls = True
            indices = indices.fill_null(len(words))
        np.take(lookup, indices.to_numpy(), out=out)

    def _as_arrow(self, rows: int) -> pa.Array:
        import pyarrow as pa

        assert self.values is not None
        values = self.values[:rows]
        if pa.types.is_timestamp(self.kind):
            return pa.array(values, type=pa.int64()).view(self.kind)
        if not pa.types.is_dictionary(self.kind):
            return pa.array(values, type=self.kind)
        indices = pa.array(values, mask=values < 0) if self.nulls else pa.array(values)
        return pa.DictionaryArray.from_arrays(indices, pa.array(list(self.categories), type=pa.string()))

    def finish(self, rows: int) -> pa.Array | pa.ChunkedArray:
        import pyarrow as pa

        if self.chunks is not None:
            return pa.chunked_array(self.chunks, type=self.kind)
        return self._as_arrow(rows)
