"""Just enough of Parquet's page layer to read an INT64 column's pages one by one (``time_pages``).

pyarrow reads a column chunk whole; a time bucket needs only the few pages a bucket boundary crosses. So
the page headers (Thrift compact protocol) are walked in the file mapped into memory (``mmap``: no system
call per page, each of which would let go of the GIL and wait to get it back from another thread), and a
chosen page is decompressed with Arrow's codecs and decoded with numpy: PLAIN values, or dictionary
indices (RLE / bit-packed hybrid) into the chunk's PLAIN dictionary page; data pages v1 (RLE definition
levels) or v2. Anything else raises ``Unsupported`` and the caller leaves the column to Arrow's reader.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import mmap

    import numpy as np

    Buffer = bytes | mmap.mmap  # a whole Parquet file's bytes

# Parquet's codec names → Arrow's (``LZ4`` with Hadoop framing and ``LZO`` are left to Arrow's reader)
_CODECS = {"SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd", "BROTLI": "brotli", "LZ4_RAW": "lz4_raw"}
_PLAIN, _PLAIN_DICTIONARY, _RLE, _RLE_DICTIONARY = 0, 2, 3, 8  # encodings
_DATA_PAGE, DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3  # page types


class Unsupported(Exception):
    """A page or column chunk this module does not decode: the caller leaves it to Arrow's reader."""


def codec(name: str) -> str | None:
    """Arrow's name for a Parquet codec (None: uncompressed)."""
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


def walk(data: Buffer, start: int, total: int) -> list[Page]:
    """The column chunk's page headers (``data``: the whole file, mapped)."""
    pages: list[Page] = []
    at, end = start, start + total
    if end > len(data):
        raise Unsupported("file cut short")
    chunk = memoryview(data)[:end]  # a header running past the chunk: IndexError
    while at < end:
        try:
            header, at = _struct(chunk, at)
        except IndexError:
            raise Unsupported("page header cut short") from None
        pages.append(_page(header, at))
        at += pages[-1].size
    if at != end:
        raise Unsupported("pages overrun the column chunk")
    return pages


def _page(header: dict[int, Any], data_at: int) -> Page:
    kind, raw_size, size = header[1], header[2], header[3]
    if kind == DICTIONARY_PAGE:
        dict_header = header.get(7, {})
        return Page(kind, data_at, size, raw_size, dict_header.get(1, 0), dict_header.get(2, _PLAIN), None, None)
    if kind == _DATA_PAGE:
        page = header.get(5)
        if page is None or page.get(3, _RLE) != _RLE:
            raise Unsupported("data page without its header or with bit-packed levels")
        low, high = min_max(page.get(5))
        return Page(kind, data_at, size, raw_size, page[1], page[2], low, high)
    if kind == _DATA_PAGE_V2:
        page = header.get(8)
        if page is None:
            raise Unsupported("data page v2 without its header")
        low, high = min_max(page.get(8))
        return Page(kind, data_at, size, raw_size, page[1], page[4], low, high, page[5] + page[6],
                    bool(page.get(7, True)), page[2])
    raise Unsupported(f"page type {kind}")


def min_max(stats: dict[int, Any] | None) -> tuple[int | None, int | None]:
    """A page's min and max as INT64 (min_value/max_value, else the older min/max fields)."""
    if not stats:
        return None, None
    low, high = stats.get(6, stats.get(2)), stats.get(5, stats.get(1))
    if not isinstance(low, bytes) or not isinstance(high, bytes) or len(low) != 8 or len(high) != 8:
        return None, None
    return struct.unpack("<q", low)[0], struct.unpack("<q", high)[0]


def _body(data: Buffer, page: Page, compression: str | None) -> memoryview:
    """The page's value bytes after decompression (v1: definition levels first; v2: the values only)."""
    import pyarrow as pa

    raw = memoryview(data)[page.data_at:page.data_at + page.size]
    if len(raw) != page.size:
        raise Unsupported("file cut short")
    if compression is None or not page.compressed:
        return raw[page.levels:]
    return memoryview(pa.decompress(raw[page.levels:], decompressed_size=page.raw_size - page.levels,
                                    codec=compression))


def dictionary_values(data: Buffer, page: Page, compression: str | None) -> np.ndarray:
    """A dictionary page's INT64 values."""
    import numpy as np

    if page.kind != DICTIONARY_PAGE or page.encoding not in (_PLAIN, _PLAIN_DICTIONARY):
        raise Unsupported("no PLAIN dictionary page")
    return np.frombuffer(_body(data, page, compression), dtype=np.int64, count=page.values)


def decode(data: Buffer, page: Page, compression: str | None, def_level: int,
           dictionary: np.ndarray | None) -> np.ndarray:
    """A data page's INT64 values (no nulls: the row group's statistics said so)."""
    import numpy as np

    if page.nulls:
        raise Unsupported("nulls")
    body = _body(data, page, compression)
    at = 0
    if page.kind == _DATA_PAGE and def_level:
        at = 4 + int.from_bytes(body[:4], "little")  # RLE definition levels, length-prefixed
    if page.encoding == _PLAIN:
        return np.frombuffer(body, dtype=np.int64, count=page.values, offset=at)
    if page.dictionary_encoded and dictionary is not None:
        indices = hybrid(body, at + 1, body[at], page.values)
        if indices.size and int(indices.max()) >= dictionary.size:
            raise Unsupported("dictionary index out of range")
        values: np.ndarray = dictionary[indices]
        return values
    raise Unsupported(f"encoding {page.encoding}")


def hybrid(body: memoryview, at: int, width: int, count: int) -> np.ndarray:
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


def _struct(data: bytes | memoryview, at: int) -> tuple[dict[int, Any], int]:
    """A Thrift compact-protocol struct at ``at``: its fields by id, and where it ends (IndexError: the bytes
    ran out). Just enough of the protocol for a page header; one function with the one-byte varints of
    small fields read inline, as it runs once a page."""
    out: dict[int, Any] = {}
    last = 0
    while True:
        byte = data[at]
        at += 1
        if byte == 0:
            return out, at
        kind, delta = byte & 0x0F, byte >> 4
        if delta:
            last += delta
        else:
            raw, at = _varint(data, at)
            last = (raw >> 1) ^ -(raw & 1)
        if kind in (4, 5, 6):  # i16, i32, i64: zigzag varints
            raw = data[at]
            if raw < 0x80:
                at += 1
            else:
                raw, at = _varint(data, at)
            out[last] = (raw >> 1) ^ -(raw & 1)
        elif kind in (1, 2):
            out[last] = kind == 1
        elif kind == 8:
            size = data[at]
            if size < 0x80:
                at += 1
            else:
                size, at = _varint(data, at)
            if at + size > len(data):
                raise IndexError("binary cut short")
            out[last] = bytes(data[at:at + size])
            at += size
        elif kind == 12:
            out[last], at = _struct(data, at)
        else:
            out[last], at = _other(data, at, kind)


def _other(data: bytes | memoryview, at: int, kind: int) -> tuple[Any, int]:
    """A field of a kind page headers do not use (a byte, a double, a list, a set, a map), read past."""
    if kind == 3:
        return data[at], at + 1
    if kind == 7:
        return None, at + 8
    if kind in (9, 10):
        head = data[at]
        at += 1
        size = head >> 4
        if size == 15:
            size, at = _varint(data, at)
        items = []
        for _ in range(size):
            item, at = _value(data, at, head & 0x0F)
            items.append(item)
        return items, at
    if kind == 11:
        size, at = _varint(data, at)
        if not size:
            return {}, at
        types = data[at]
        at += 1
        pairs = {}
        for _ in range(size):
            key, at = _value(data, at, types >> 4)
            pairs[key], at = _value(data, at, types & 0x0F)
        return pairs, at
    raise Unsupported(f"thrift type {kind}")


def _value(data: bytes | memoryview, at: int, kind: int) -> tuple[Any, int]:
    """An element of a list, set or map (booleans there are a byte each)."""
    if kind in (1, 2):
        return data[at] == 1, at + 1
    if kind in (4, 5, 6):
        raw, at = _varint(data, at)
        return (raw >> 1) ^ -(raw & 1), at
    if kind == 8:
        size, at = _varint(data, at)
        if at + size > len(data):
            raise IndexError("binary cut short")
        return bytes(data[at:at + size]), at + size
    if kind == 12:
        return _struct(data, at)
    return _other(data, at, kind)
