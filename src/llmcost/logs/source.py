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
from llmcost.logs.interface import Container, Source

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
        if p == "-":
            out.append(p)
        elif any(ch in p for ch in "*?["):
            matches = sorted(glob.glob(p, recursive=True))
            if not matches:
                raise InputError("no file matches this pattern", source=p)
            out.extend(m for m in matches if Path(m).is_file())
        else:
            if not Path(p).is_file():
                raise InputError("no such file", source=p)
            out.append(p)
    if not out:
        raise InputError("no log files given")
    return out


def open_source(name: str) -> Source:
    """Read enough of ``name`` to know its container and its columns or keys."""
    data: bytes | None = None
    if name == "-":
        data = sys.stdin.buffer.read()
        label = "<stdin>"
    else:
        label = name
    raw = _head(name, data, SNIFF_BYTES, label, gunzip=False)
    is_gzip = raw.startswith(GZIP_MAGIC)
    head = _head(name, data, SNIFF_BYTES, label, gunzip=True) if is_gzip else raw
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
        with Path(name).open("rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=name) from None


def open_binary(source: Source) -> IO[bytes]:
    """A binary stream of the decompressed content (closing it closes the file too)."""
    if source.data is not None:
        raw: IO[bytes] = io.BytesIO(source.data)
        return gzip.GzipFile(fileobj=raw) if source.gzip else raw  # type: ignore[return-value]
    if source.gzip:
        return gzip.open(source.name, "rb")  # type: ignore[return-value]
    return Path(source.name).open("rb")


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
        with gzip.open(where, "rb") as gz:
            return gz.read(size)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot decompress: {exc}", source=label) from None


def _parquet_columns(name: str, data: bytes | None) -> tuple[str, ...]:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(io.BytesIO(data) if data is not None else name)
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
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _first_array_item(text: str) -> dict[str, object] | None:
    decoder = json.JSONDecoder()
    body = text.lstrip()[1:].lstrip()
    try:
        obj, _ = decoder.raw_decode(body)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _pretty_object(text: str) -> dict[str, object] | None:
    """The document (when it fits the sniffed head), or the first item of an API list ``{"data": [...]}``."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    if _api_list(obj):
        return obj["data"][0]  # type: ignore[no-any-return]
    return obj


def _api_list(obj: dict[str, object]) -> bool:
    data = obj.get("data")
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict)
