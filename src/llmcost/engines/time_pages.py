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

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmcost.breakdowns.keys import _MONDAY_SHIFT_NS, _NS

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

# Parquet's codec names → Arrow's (``LZ4`` with Hadoop framing and ``LZO`` are left to Arrow's reader)
_CODECS = {"SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd", "BROTLI": "brotli", "LZ4_RAW": "lz4_raw"}
_UNIT_NS = {"milliseconds": 1_000_000, "microseconds": 1_000, "nanoseconds": 1}
_PLAIN, _PLAIN_DICTIONARY, _RLE, _RLE_DICTIONARY = 0, 2, 3, 8
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3
PAGE_ROWS = 20_000  # Arrow's rows per data page (the most): a bucket boundary crosses one page of this many
DECODE_SHARE = 0.5  # past this share of a row group's rows in crossed pages, Arrow decodes the whole column


class Unsupported(Exception):
    """A page or column chunk this reader does not decode: the row group is read by Arrow."""


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
                except (Unsupported, ValueError, IndexError, struct.error, OSError):
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
    for chunk in column.cast("int64").chunks:
        values = int64_values(chunk)
        for s in steps(list(into), unit):
            into[s.dim][at:at + len(values)] = (values + s.shift) // s.size
        at += len(values)


def int64_values(chunk: pa.Array) -> np.ndarray:
    """An int64 Arrow array without nulls as numpy, zero-copy (``to_numpy`` imports pandas: 0.3 s)."""
    import numpy as np

    if chunk.null_count:
        raise ValueError("nulls")
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
        raise Unsupported("no statistics or nulls")
    wanted = steps(list(into), unit)
    low, high = int(stats.min_raw), int(stats.max_raw)
    if all((low + s.shift) // s.size == (high + s.shift) // s.size for s in wanted):
        for s in wanted:
            into[s.dim][:] = (low + s.shift) // s.size
        return True
    codec = _codec(chunk.compression)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    pages = _walk(fd, start, chunk.total_compressed_size)
    data = [p for p in pages if p.kind != _DICTIONARY_PAGE]
    if sum(p.values for p in data) != rows:
        raise Unsupported("pages do not add up to the row group")
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
                dictionary = _dictionary(fd, pages[0], codec)
            values = _decode(fd, page, codec, levels, dictionary)
            if len(values) != page.values or (len(values) and (
                    int(values.min()) < (low if page.low is None else page.low)
                    or int(values.max()) > (high if page.high is None else page.high))):
                raise Unsupported("decoded values outside the statistics")  # Arrow decodes it, or says why
            for s in wanted:
                into[s.dim][at:end] = (values + s.shift) // s.size
        else:
            assert page.low is not None
            for s in wanted:
                into[s.dim][at:end] = (page.low + s.shift) // s.size
        at = end
    return True


def _codec(name: str) -> str | None:
    if name == "UNCOMPRESSED":
        return None
    if name not in _CODECS:
        raise Unsupported(f"codec {name}")
    return _CODECS[name]


@dataclass(frozen=True)
class Page:
    kind: int
    data_at: int  # file offset of the page's (compressed) bytes
    size: int  # compressed bytes
    raw_size: int  # uncompressed bytes
    values: int
    encoding: int
    low: int | None
    high: int | None
    levels: int = 0  # v2: bytes of (uncompressed) levels before the values
    compressed: bool = True
    nulls: int = 0

    @property
    def dictionary_encoded(self) -> bool:
        return self.encoding in (_PLAIN_DICTIONARY, _RLE_DICTIONARY)


def _walk(fd: int, start: int, total: int) -> list[Page]:
    """The column chunk's page headers, read a few hundred bytes at a time."""
    import os

    pages: list[Page] = []
    at, end = start, start + total
    while at < end:
        want = 256
        while True:
            head = os.pread(fd, min(want, end - at), at)
            try:
                header, used = _Thrift(head).header()
                break
            except IndexError:
                if want >= end - at or want > 1 << 20:
                    raise Unsupported("page header cut short") from None
                want *= 8
        pages.append(_page(header, at + used))
        at += used + pages[-1].size
    if at != end:
        raise Unsupported("pages overrun the column chunk")
    return pages


def _page(header: dict[int, Any], data_at: int) -> Page:
    kind, raw_size, size = header[1], header[2], header[3]
    if kind == _DICTIONARY_PAGE:
        dict_header = header.get(7, {})
        return Page(kind, data_at, size, raw_size, dict_header.get(1, 0), dict_header.get(2, _PLAIN), None, None)
    if kind == _DATA_PAGE:
        page = header.get(5)
        if page is None or page.get(3, _RLE) != _RLE:
            raise Unsupported("data page without its header or with bit-packed levels")
        low, high = _min_max(page.get(5))
        return Page(kind, data_at, size, raw_size, page[1], page[2], low, high)
    if kind == _DATA_PAGE_V2:
        page = header.get(8)
        if page is None:
            raise Unsupported("data page v2 without its header")
        low, high = _min_max(page.get(8))
        return Page(kind, data_at, size, raw_size, page[1], page[4], low, high, page[5] + page[6],
                    bool(page.get(7, True)), page[2])
    raise Unsupported(f"page type {kind}")


def _min_max(stats: dict[int, Any] | None) -> tuple[int | None, int | None]:
    """A page's min and max as INT64 (min_value/max_value, else the older min/max fields)."""
    if not stats:
        return None, None
    low, high = stats.get(6, stats.get(2)), stats.get(5, stats.get(1))
    if not isinstance(low, bytes) or not isinstance(high, bytes) or len(low) != 8 or len(high) != 8:
        return None, None
    return struct.unpack("<q", low)[0], struct.unpack("<q", high)[0]


def _body(fd: int, page: Page, codec: str | None) -> memoryview:
    """The page's value bytes after decompression (v1: definition levels first; v2: the values only)."""
    import os

    import pyarrow as pa

    raw = os.pread(fd, page.size, page.data_at)
    if len(raw) != page.size:
        raise Unsupported("file cut short")
    if codec is None or not page.compressed:
        return memoryview(raw)[page.levels:]
    return memoryview(pa.decompress(memoryview(raw)[page.levels:], decompressed_size=page.raw_size - page.levels,
                                    codec=codec))


def _dictionary(fd: int, page: Page, codec: str | None) -> np.ndarray:
    import numpy as np

    if page.kind != _DICTIONARY_PAGE or page.encoding not in (_PLAIN, _PLAIN_DICTIONARY):
        raise Unsupported("no PLAIN dictionary page")
    return np.frombuffer(_body(fd, page, codec), dtype=np.int64, count=page.values)


def _decode(fd: int, page: Page, codec: str | None, def_level: int, dictionary: np.ndarray | None) -> np.ndarray:
    """A data page's INT64 values (no nulls: the row group's statistics said so)."""
    import numpy as np

    if page.nulls:
        raise Unsupported("nulls")
    body = _body(fd, page, codec)
    at = 0
    if page.kind == _DATA_PAGE and def_level:
        at = 4 + int.from_bytes(body[:4], "little")  # RLE definition levels, length-prefixed
    if page.encoding == _PLAIN:
        return np.frombuffer(body, dtype=np.int64, count=page.values, offset=at)
    if page.dictionary_encoded and dictionary is not None:
        indices = _hybrid(body, at + 1, body[at], page.values)
        if indices.size and int(indices.max()) >= dictionary.size:
            raise Unsupported("dictionary index out of range")
        values: np.ndarray = dictionary[indices]
        return values
    raise Unsupported(f"encoding {page.encoding}")


def _hybrid(body: memoryview, at: int, width: int, count: int) -> np.ndarray:
    """Parquet's RLE / bit-packed hybrid run of ``count`` unsigned ``width``-bit integers: the runs' headers
    walked in Python (Arrow's bit-packed runs hold at most 504 values), the values unpacked in one pass."""
    import numpy as np

    if width > 32:
        raise Unsupported("index width")
    out = np.empty(count, dtype=np.int64)
    packed: list[tuple[int, int, int]] = []  # (first value, values, bit where they start)
    filled = 0
    while filled < count:
        header, at = _varint(body, at)
        if header & 1:  # bit-packed: groups of 8 values, least significant bit first
            take = min((header >> 1) * 8, count - filled)
            packed.append((filled, take, at * 8))
            at += (header >> 1) * width
        else:
            run = header >> 1
            if not run:
                raise Unsupported("empty run")
            take = min(run, count - filled)
            out[filled:filled + take] = int.from_bytes(body[at:at + (width + 7) // 8], "little")
            at += (width + 7) // 8
        filled += take
    if at > len(body):
        raise Unsupported("bit-packed run cut short")
    if packed:
        firsts, sizes, bits = (np.array(c, dtype=np.int64) for c in zip(*packed, strict=True))
        where = np.concatenate([np.arange(f, f + n) for f, n in zip(firsts.tolist(), sizes.tolist(), strict=True)])
        bit = where * width + np.repeat(bits - firsts * width, sizes)
        out[where] = _unpack(body, bit, width)
    return out


def _unpack(body: memoryview, bit: np.ndarray, width: int) -> np.ndarray:
    """The ``width``-bit values starting at bits ``bit`` of ``body``: each gathered as the 5 bytes from where
    it starts, shifted and masked (no per-bit arrays)."""
    import numpy as np

    data = np.zeros(len(body) + 8, dtype=np.uint8)
    data[:len(body)] = np.frombuffer(body, dtype=np.uint8)
    first = bit >> 3
    word = np.zeros(len(bit), dtype=np.uint64)
    for k in range(5):  # a value of up to 32 bits starting at any bit of a byte spans at most 5 bytes
        word |= data[first + k].astype(np.uint64) << np.uint64(8 * k)
    return ((word >> (bit & 7).astype(np.uint64)) & np.uint64((1 << width) - 1)).astype(np.int64)


def _varint(data: bytes | memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


class _Thrift:
    """Just enough of Thrift's compact protocol to read a page header (IndexError: the bytes ran out)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def header(self) -> tuple[dict[int, Any], int]:
        return self.struct(), self.at

    def struct(self) -> dict[int, Any]:
        out: dict[int, Any] = {}
        last = 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            if byte == 0:
                return out
            kind, delta = byte & 0x0F, byte >> 4
            if delta:
                last += delta
            else:
                last = self.zigzag()
            out[last] = self.value(kind)

    def zigzag(self) -> int:
        value, self.at = _varint(self.data, self.at)
        return (value >> 1) ^ -(value & 1)

    def value(self, kind: int) -> Any:
        if kind in (1, 2):
            return kind == 1
        if kind == 3:
            self.at += 1
            return self.data[self.at - 1]
        if kind in (4, 5, 6):
            return self.zigzag()
        if kind == 7:
            self.at += 8
            return None
        if kind == 8:
            size, self.at = _varint(self.data, self.at)
            self.at += size
            if self.at > len(self.data):
                raise IndexError("binary cut short")
            return self.data[self.at - size:self.at]
        if kind in (9, 10):
            head = self.data[self.at]
            self.at += 1
            size = head >> 4
            if size == 15:
                size, self.at = _varint(self.data, self.at)
            return [self.value(head & 0x0F) for _ in range(size)]
        if kind == 11:
            size, self.at = _varint(self.data, self.at)
            if not size:
                return {}
            types = self.data[self.at]
            self.at += 1
            return {self.value(types >> 4): self.value(types & 0x0F) for _ in range(size)}
        if kind == 12:
            return self.struct()
        raise Unsupported(f"thrift type {kind}")
