"""Opening inputs: globs, stdin, gzip, and sniffing the container (CSV, JSON, JSONL, Parquet)."""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import sys
from pathlib import Path
from typing import IO

from llmcost.errors import InputError
from llmcost.logs.decoding import Checked, bom_encoding, transcode
from llmcost.logs.interface import Container, Source
from llmcost.logs.remote import ClosingGzip, expand_remote, is_database, is_url, open_remote, remote_size

SNIFF_BYTES = 1 << 16
# A JSON document (or a first JSON line) bigger than the sniffed head is re-read with a head 4x bigger,
# up to this many decompressed bytes: enough for any real export's first record, and bounded.
MAX_SNIFF_BYTES = 1 << 28
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


def expand(paths: list[str]) -> list[str]:
    """Expand globs; keep ``-`` (stdin); a pattern or path that matches nothing is an error."""
    out: list[str] = []
    for p in paths:
        if p == "-" or is_database(p):
            out.append(p)
        elif is_url(p):
            out.extend(expand_remote(p))
        elif any(ch in p for ch in "*?["):
            matches = sorted(glob.glob(p, recursive=True))
            if not matches:
                raise InputError("no file matches this pattern", source=p)
            out.extend(m for m in matches if Path(m).is_file())
        else:
            if not (Path(p).is_file() or is_pipe(p)):
                raise InputError("no such file", source=p)
            out.append(p)
    if not out:
        raise InputError("no log files given")
    _once_each(out)
    return out


def _once_each(names: list[str]) -> None:
    """The same file named twice (``logs/*.jsonl logs/a.jsonl``, a symlink, ``-`` twice) would be priced
    twice: refused, naming both spellings. Different files with equal content are not checked here (a
    reader that knows its copies, Codex, drops repeated rows itself)."""
    seen: dict[object, str] = {}
    for name in names:
        if name == "-":
            key: object = "-"
        elif is_url(name) or is_database(name):
            key = name
        else:
            try:
                info = Path(name).stat()
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
        if key in seen:
            also = "" if seen[key] == name else f" (also given as {seen[key]})"
            raise InputError(f"this file is given twice{also}; each log is read once: name it once",
                             source=name)
        seen[key] = name


def open_source(name: str) -> Source:
    """Read enough of ``name`` to know its container and its columns or keys."""
    data: bytes | None = None
    if name == "-":
        data = sys.stdin.buffer.read()
        label = "<stdin>"
    else:
        label = name
        if is_pipe(name):  # a FIFO (``<(zcat ...)``) can be read once: keep it, as stdin is kept
            data = _read_pipe(name)
    raw = _head(name, data, SNIFF_BYTES, label, gunzip=False)
    is_gzip = raw.startswith(GZIP_MAGIC)
    head = _head(name, data, SNIFF_BYTES, label, gunzip=True) if is_gzip else raw
    encoding = bom_encoding(head)
    if encoding:  # UTF-16 / UTF-32 with a byte-order mark: transcoded to UTF-8 once (see decoding.py)
        with _open_raw(Source(label, "csv", data=data, gzip=is_gzip)) as fh:
            data, is_gzip = transcode(fh.read(), encoding, label), False
        head = data[:SNIFF_BYTES]
    if not head.strip():
        raise InputError("file is empty", source=label)
    if head.startswith(PARQUET_MAGIC):
        return Source(label, "parquet", data=data, gzip=is_gzip, columns=_parquet_columns(name, data))
    size = SNIFF_BYTES
    container, columns, first = _sniff_text(head, label, complete=len(head) < size)
    while container != "csv" and first is None and len(head) == size and size < MAX_SNIFF_BYTES:
        # the first JSON record does not fit the head: read a bigger one (a big single document, or a
        # JSONL file whose first line is long)
        size *= 4
        head = _head(name, data, size, label, gunzip=is_gzip)
        container, columns, first = _sniff_text(head, label, complete=len(head) < size)
    return Source(label, container, data=data, gzip=is_gzip, columns=columns, first_object=first)


def _head(name: str, data: bytes | None, size: int, label: str, *, gunzip: bool) -> bytes:
    """The first ``size`` bytes of the content (decompressed when ``gunzip``)."""
    if gunzip:
        return _gunzip_head(data if data is not None else name, label, size)
    if data is not None:
        return data[:size]
    try:
        with open_path(name, random_access=True) as fh:
            return fh.read(size)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=name) from None


def open_path(name: str, *, random_access: bool = False) -> IO[bytes]:
    """The one place a log's raw bytes are opened: a local path, ``-`` (stdin), or a remote URL
    (``s3://``, ``gs://``, ``az://``, ``https://``). Compressed content stays compressed here.
    ``random_access``: the caller reads a few ranges (a head, Parquet columns), not the whole stream."""
    if name == "-":
        return sys.stdin.buffer
    if is_url(name):
        return open_remote(name, random_access=random_access)
    return Path(name).open("rb")


def path_size(name: str) -> int:
    """Size in bytes of a local file or a remote object (0 for stdin and databases)."""
    if name == "-" or is_database(name):
        return 0
    if is_url(name):
        return remote_size(name)
    return Path(name).stat().st_size


def open_binary(source: Source) -> IO[bytes]:
    """A binary stream of the decompressed content (closing it closes the file too), checked as it is
    read by the one decoding policy (``decoding.py``: UTF-8, bounded JSON nesting, intact compression)."""
    raw = _open_raw(source)
    return raw if source.container == "parquet" else Checked(raw, source.name, source.container)  # type: ignore[return-value]


def is_pipe(name: str) -> bool:
    """A FIFO or character device given as a log path: read it once, never stat its size or seek it."""
    import stat

    try:
        mode = Path(name).stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


_PIPES: dict[str, bytes] = {}  # a pipe's content, kept for the run: it can be read only once


def _read_pipe(name: str) -> bytes:
    if name not in _PIPES:
        try:
            with Path(name).open("rb") as fh:
                _PIPES[name] = fh.read()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=name) from None
    return _PIPES[name]


def _open_raw(source: Source) -> IO[bytes]:
    if source.data is not None:
        raw: IO[bytes] = io.BytesIO(source.data)
        return gzip.GzipFile(fileobj=raw) if source.gzip else raw  # type: ignore[return-value]
    if source.gzip:
        return ClosingGzip(open_path(source.name))  # type: ignore[return-value]
    return open_path(source.name)


def read_all(source: Source) -> bytes:
    with open_binary(source) as fh:
        try:
            return fh.read()
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot decompress: {exc}", source=source.name) from None


def _gunzip_head(where: bytes | str, label: str, size: int) -> bytes:
    try:
        if isinstance(where, bytes):
            with gzip.GzipFile(fileobj=io.BytesIO(where)) as gz:
                return gz.read(size)
        with ClosingGzip(open_path(where, random_access=True)) as gz:
            return gz.read(size)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot decompress: {exc}", source=label) from None


def _parquet_columns(name: str, data: bytes | None) -> tuple[str, ...]:
    import pyarrow.parquet as pq

    try:
        if data is None and is_url(name):
            with open_path(name, random_access=True) as fh:  # the footer only: a few ranged reads
                schema = pq.read_schema(fh)
        else:
            schema = pq.read_schema(io.BytesIO(data) if data is not None else name)
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise InputError(f"not a readable Parquet file: {exc}", source=name) from None
    return tuple(schema.names)


def _sniff_text(head: bytes, label: str, *, complete: bool) -> tuple[Container, tuple[str, ...],
                                                                    dict[str, object] | None]:
    """Container, keys and first record of ``head`` (``complete``: the head is the whole content)."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("["):
        first = _first_array_item(text)
        return "json", tuple(first) if first else (), first
    if stripped.startswith("{"):
        obj = _first_line_object(stripped)
        one_line = "\n" not in stripped.rstrip()
        if isinstance(obj, dict) and one_line and complete and _api_list(obj):
            item = _pretty_object(text)  # an API list response on one line (``curl > file``)
            return "json", tuple(item) if item else (), item
        if isinstance(obj, dict) and (not one_line or complete):
            return "jsonl", tuple(obj), obj
        # a pretty-printed single JSON document
        doc = _pretty_object(text)
        return "json", tuple(doc) if doc else (), doc
    reader = csv.reader(io.StringIO(text.split("\n", 1)[0]))
    header = next(reader, [])
    if not header:
        raise InputError("cannot tell the format: no CSV header or JSON object found", source=label)
    return "csv", tuple(h.strip() for h in header), None


def _first_line_object(text: str) -> object:
    """The first of the first lines that parses as a JSON object: a malformed first line must not stop
    detection (the reader then reports it with its line number)."""
    lines = text.split("\n", 8)
    for line in lines[:8] if len(lines) > 1 else lines:
        if not line.startswith("{"):  # indented objects belong to a pretty-printed document
            continue
        try:
            obj = json.loads(line.strip())
        except (ValueError, RecursionError):  # the reader reports it (decoding.loads is stricter)
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _first_array_item(text: str) -> dict[str, object] | None:
    decoder = json.JSONDecoder()
    body = text.lstrip()[1:].lstrip()
    try:
        obj, _ = decoder.raw_decode(body)
    except (json.JSONDecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _pretty_object(text: str) -> dict[str, object] | None:
    """The document (when it fits the sniffed head), or the first item of an API list ``{"data": [...]}``."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    if _api_list(obj):
        return obj["data"][0]  # type: ignore[no-any-return]
    return obj


def _api_list(obj: dict[str, object]) -> bool:
    data = obj.get("data")
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict)
