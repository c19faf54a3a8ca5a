"""The one decoding policy for every log reader: text logs are UTF-8.

Every byte of a text log (CSV, JSON, JSON Lines, gzip or not) reaches a reader through :class:`Checked`
(a stream) or :func:`check_bytes` (bytes already read), which enforce, in one place:

- **UTF-8 only, no replacement.** A UTF-8 byte-order mark is ignored. A file that starts with a UTF-16 or
  UTF-32 byte-order mark is transcoded to UTF-8 once, when it is opened (:func:`transcode`). Any other byte
  sequence that is not UTF-8 stops the read with one error naming the file, the line, the field (the CSV
  column or the JSON key the bytes sit in) and the bytes found. Replacing them (U+FFFD) was rejected: a
  model name with a replaced byte is a different, unpriced model, and two names could collide.
- **JSON nesting at most** ``MAX_DEPTH`` **levels.** pyarrow's JSON reader crashes the process (a segmentation
  fault) on a line nested some 20,000 levels deep, and Python's parser raises RecursionError near 1,000; no log
  record nests more than a few dozen. Brackets are counted per line without parsing (a vectorized pass over
  the brackets only); a line whose count passes the limit is parsed on its own to confirm, so brackets inside
  strings never refuse a valid line.
- **Compressed data that does not decompress** (a truncated gzip member, a corrupt block) is an error naming
  the file, wherever the reader is when it finds out.
"""

from __future__ import annotations

import io
import json
import re
from typing import IO, Any

from llmcost.errors import InputError

MAX_DEPTH = 500
# Decoding works on slices of this size (a str of this size is the only copy made).
SLICE = 16 << 20
_BRACKETS = b"{}[]\n"
_DELETE = bytes(b for b in range(256) if b not in _BRACKETS)
UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_32_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                  (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def loads(text: str | bytes) -> Any:
    """``json.loads`` as strict as JSON itself: ``NaN`` and ``Infinity`` are not JSON (Python accepts them),
    a number beyond a float (``1e400``) is refused rather than read as infinity, and too-deep input is a
    ValueError like any other malformed JSON."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:30]} is beyond the range of a float")
    return value


def bom_encoding(head: bytes) -> str | None:
    """The encoding a UTF-16/UTF-32 byte-order mark at the start of ``head`` announces (None: UTF-8)."""
    for bom, encoding in _UTF16_32_BOMS:
        if head.startswith(bom):
            return encoding
    return None


def transcode(data: bytes, encoding: str, name: str) -> bytes:
    """A UTF-16/UTF-32 file (with its byte-order mark) as UTF-8, or an error naming the line."""
    bom = next(b for b, e in _UTF16_32_BOMS if e == encoding)
    try:
        return data[len(bom):].decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[len(bom):len(bom) + exc.start].decode(encoding, errors="replace")
        raise InputError(f"invalid {encoding.upper()[:6]} text (bytes {exc.object[exc.start:exc.start + 4]!r}); "
                         "save the log as UTF-8", source=name, line=good.count("\n") + 1) from None


class _State:
    """What the checks carry from one piece of the content to the next."""

    def __init__(self, name: str, container: str) -> None:
        self.name = name
        self.json = container in ("json", "jsonl")
        self.lines = 0  # newlines before the current piece
        self.partial = b""  # an incomplete UTF-8 sequence cut at the end of the last piece
        self.tail: list[bytes] = []  # the raw bytes of the unfinished last line
        self.level = 0  # bracket count of the unfinished last line
        self.header = b""  # a CSV's first line (to name the column of a bad byte)
        self.start = True

    def check(self, piece: bytes | memoryview, final: bool) -> None:
        data = bytes(piece)
        if self.start:
            self.start = False
            if data.startswith(UTF8_BOM):
                data = data[3:]
            if not self.json:
                self.header = data[:1 << 16].split(b"\n", 1)[0]
        self._utf8(data, final)
        if self.json:
            self._depth(data)
        if final:
            return  # nothing follows: no need to count this piece's lines
        self.lines += data.count(b"\n")
        cut = data.rfind(b"\n")
        if cut < 0:
            self.tail.append(data)
        else:
            self.tail = [data[cut + 1:]]

    def _utf8(self, data: bytes, final: bool) -> None:
        view = memoryview(self.partial + data if self.partial else data)
        offset = -len(self.partial)  # where ``view`` starts in ``data``
        self.partial = b""
        start = 0
        while start < len(view):
            end = min(start + SLICE, len(view))
            while end < len(view) and end > start and 0x80 <= view[end] < 0xC0:
                end -= 1  # never cut a character between slices
            try:
                str(view[start:end], "utf-8")
            except UnicodeDecodeError as exc:
                at = start + exc.start
                if exc.reason == "unexpected end of data" and end == len(view) and not final:
                    self.partial = bytes(view[at:])  # a character cut between pieces
                    return
                self._bad_byte(data, offset + at, bytes(view[at:start + exc.end]))
            start = end

    def _bad_byte(self, data: bytes, at: int, found: bytes) -> None:
        at = max(at, 0)
        line_start = data.rfind(b"\n", 0, at) + 1
        line = self.lines + data.count(b"\n", 0, at) + 1
        prefix = (b"".join(self.tail) if line_start == 0 else b"") + data[line_start:at]
        shown = " ".join(f"0x{b:02X}" for b in found[:4]).strip()
        raise InputError(f"not UTF-8 text (bytes {shown}); llmcost reads logs as UTF-8: save the file as UTF-8 "
                         "(a UTF-16 file needs its byte-order mark)", source=self.name, line=line,
                         field=self._field(prefix))

    def _field(self, prefix: bytes) -> str | None:
        text = prefix.decode("utf-8", errors="replace")
        if self.json:
            keys = re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', text)
            return keys[-1] if keys else None
        import csv

        try:
            index = len(next(csv.reader([text]))) - 1 if text else 0
            header = next(csv.reader([self.header.decode("utf-8", errors="replace")]))
        except (csv.Error, StopIteration):
            return None
        return header[index].strip() if 0 <= index < len(header) else None

    def _depth(self, data: bytes) -> None:
        brackets = data.translate(None, _DELETE)
        if len(brackets) + self.level <= MAX_DEPTH:
            self.level = _level_after(brackets, self.level)
            return
        import numpy as np

        codes = np.frombuffer(brackets, dtype=np.uint8)
        step = np.zeros(len(codes) + 1, dtype=np.int32)
        step[0] = self.level
        step[1:][(codes == ord("{")) | (codes == ord("["))] = 1
        step[1:][(codes == ord("}")) | (codes == ord("]"))] = -1
        newline = np.flatnonzero(codes == ord("\n")) + 1
        level = np.cumsum(step)
        # the level relative to the start of each line: subtract the level at the line's newline
        marks = np.zeros(len(level), dtype=np.int32 if len(level) < 2**31 else np.int64)
        marks[newline] = newline
        base = level[np.maximum.accumulate(marks)]
        base[: newline[0] if len(newline) else len(base)] = 0
        relative = level - base
        self.level = int(relative[-1])
        over = np.flatnonzero(relative > MAX_DEPTH)
        if len(over):
            lines = data.split(b"\n")
            for line in np.unique(np.searchsorted(newline, over, side="right")):
                self._confirm_deep(lines, int(line))

    def _confirm_deep(self, lines: list[bytes], line_in_piece: int) -> None:
        """The bracket count passed the limit on this line: parse the line itself (brackets in strings
        count too, so only the parser can tell), unless it is not complete yet."""
        if line_in_piece >= len(lines) - 1:
            return  # the line continues in the next piece: the count carries over
        raw = lines[line_in_piece]
        if line_in_piece == 0:
            raw = b"".join(self.tail) + raw
        try:
            json.loads(raw)
        except RecursionError:
            raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels (no log record nests like this)",
                             source=self.name, line=self.lines + line_in_piece + 1) from None
        except ValueError:
            pass  # malformed JSON: the reader reports it with its line


def _level_after(brackets: bytes, level: int) -> int:
    """Bracket count of the unfinished last line (few brackets: no need for numpy)."""
    last = brackets.rfind(b"\n")
    rest = brackets[last + 1:]
    start = 0 if last >= 0 else level
    return start + rest.count(b"{") + rest.count(b"[") - rest.count(b"}") - rest.count(b"]")


class Checked(io.RawIOBase):
    """A binary stream that checks what passes through it (see the module docstring)."""

    def __init__(self, raw: IO[bytes], name: str, container: str) -> None:
        super().__init__()
        self._raw = raw
        self._name = name
        self._container = container
        self._state = _State(name, container)
        self._fresh = True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._raw.seekable())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("only a rewind is supported")
        self._state = _State(self._name, self._container)
        self._fresh = True
        return int(self._raw.seek(0))

    def tell(self) -> int:
        return int(self._raw.tell())

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        got = self._read(lambda: self._raw.readinto(view))  # type: ignore[attr-defined]
        got = int(got or 0)
        self._state.check(view[:got], final=not got)
        if self._fresh and got:
            self._fresh = False
            if bytes(view[:3]) == UTF8_BOM:  # the byte-order mark is not content
                view[:got - 3] = view[3:got]
                got -= 3
        return got

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._read(lambda: self._raw.read(size))
        self._state.check(data, final=not data or size is None or size < 0)
        if self._fresh and data:
            self._fresh = False
            if data.startswith(UTF8_BOM):  # the byte-order mark is not content
                data = data[3:]
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def _read(self, call: Any) -> Any:
        try:
            return call()
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot read or decompress: {exc}", source=self._name) from None

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def check_bytes(data: bytes, name: str, container: str) -> bytes:
    """``data`` (the whole content) checked; a leading UTF-8 byte-order mark removed."""
    _State(name, container).check(data, final=True)
    return data[3:] if data.startswith(UTF8_BOM) else data
