"""Load a YAML file through a strict pydantic model, with errors that name the file and field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from llmcost.errors import InputError

M = TypeVar("M", bound=BaseModel)
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on a big catalog
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


class _StrictLoader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader, except that a key written twice in one mapping is an error (YAML 1.2 forbids it;
    PyYAML keeps the last one, so ``input_mtok: 2.0`` then ``input_mtok: 200.0`` would price 100x higher),
    and an impossible date (``2025-13-45``) is an error at its line instead of a ValueError."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # an unhashable key: let PyYAML report it as it always has
                continue
            if first != line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first on line {first}, again on line {line}); "
                    "write each key once", key_node.start_mark)
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date '{node.value}' ({exc}); expected YYYY-MM-DD", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_yaml_map)


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``models[3].input_mtok``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def read_yaml(path: Path, error: type[InputError]) -> Any:
    """Parse a YAML file, turning I/O and syntax errors into ``error`` with file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
    text = decode_yaml(raw, str(path), error)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, max(exc.position, 0)) + 1
            code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
            problem = f"control character U+{code:04X} is not allowed in YAML"
        raise error(f"invalid YAML: {problem}", source=str(path), line=line) from None
    except RecursionError:
        raise error("invalid YAML: nested too deeply", source=str(path)) from None


def decode_yaml(raw: bytes, source: str, error: type[InputError]) -> str:
    """UTF-8 (a byte-order mark allowed), or UTF-16/32 with a byte-order mark, as YAML allows; anything
    else is an error naming the line and the byte, never a UnicodeDecodeError."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            encoding = name
            break
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1 if encoding == "utf-8" else None
        bad = raw[exc.start:exc.start + 1].hex()
        raise error(f"not valid {encoding.upper().replace('-SIG', '')} (byte 0x{bad} at offset {exc.start}); "
                    "save the file as UTF-8", source=source, line=line) from None
    return text[1:] if text.startswith("\ufeff") else text


def validate(data: Any, model: type[M], source: str, error: type[InputError]) -> M:
    """Validate parsed data; the first error names the field path and what was expected."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = field_path(tuple(first["loc"]))
        hint = _describe(data, tuple(first["loc"]))
        msg = first["msg"]
        if first["type"] == "extra_forbidden":
            msg = "unknown field"
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise error(f"{msg}{hint}{suffix}", source=source, field=path or None) from None


def load(path: Path, model: type[M], error: type[InputError]) -> M:
    """Read and validate ``path`` as ``model``."""
    data = read_yaml(path, error)
    if data is None:
        raise error("file is empty", source=str(path))
    return validate(data, model, str(path), error)


def _describe(data: Any, loc: tuple[int | str, ...]) -> str:
    """Name the list entry an error sits in by its ``id`` or ``name``, when it has one."""
    node = data
    label = ""
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict):
            ident = node.get("id") or node.get("name")
            if ident:
                label = f" (in '{ident}')"
    return label
