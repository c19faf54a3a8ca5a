"""``json.dumps(data, indent=2)``, byte for byte, without Python's indenting encoder for long lists.

With ``indent`` set, ``json`` encodes in Python, not in C: 100,000 unknown models in five scenarios or 632,000
per-task verdicts take seconds there. The long lists of flat dicts (text, numbers, booleans, None) are
written here instead, each value by the same primitives ``json`` uses, and put back in place; everything
else is ``json.dumps`` itself.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from typing import Any

LONG = 64  # lists of flat dicts at least this long are written by ``flat_list``


def dumps(data: Any, *, ensure_ascii: bool = True) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=ensure_ascii)``."""
    token = secrets.token_hex(8)
    lists: dict[str, list[dict[str, Any]]] = {}

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            if len(value) >= LONG and all(type(v) is dict for v in value):
                mark = f"@@{token}-{len(lists)}@@"
                lists[mark] = value
                return mark
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(data), indent=2, ensure_ascii=ensure_ascii)
    for mark, items in lists.items():
        at = text.index(f'"{mark}"')
        line = text[text.rindex("\n", 0, at) + 1:at]  # '    "key": ' (or only spaces in a list)
        depth = (len(line) - len(line.lstrip(" "))) // 2
        text = text.replace(f'"{mark}"', flat_list(items, depth, ensure_ascii=ensure_ascii), 1)
    return text


def _json_float(value: float) -> str:
    return float.__repr__(value) if math.isfinite(value) else json.dumps(value)


def flat_list(items: list[dict[str, Any]], depth: int, *, ensure_ascii: bool = False) -> str:
    """A list of flat dicts (text, numbers, booleans, None) as ``json.dumps(items, indent=2)`` writes it at
    nesting ``depth``; a dict holding anything else is handed to ``json.dumps`` itself."""
    from json.encoder import encode_basestring, encode_basestring_ascii

    text = encode_basestring_ascii if ensure_ascii else encode_basestring
    pad, inner = " " * (2 * depth), " " * (2 * depth + 2)
    scalar: dict[type, Callable[[Any], str]] = {
        str: text, float: _json_float, type(None): lambda _: "null",
        bool: lambda b: "true" if b else "false", int: int.__repr__}
    out = []
    for item in items:
        if not item:
            out.append("{}")
            continue
        try:
            body = f",\n{inner}  ".join(f"{text(k)}: {scalar[type(v)](v)}" for k, v in item.items())
        except (KeyError, TypeError):
            nested = json.dumps(item, indent=2, ensure_ascii=ensure_ascii)
            out.append(nested.replace("\n", "\n" + inner))
            continue
        out.append(f"{{\n{inner}  {body}\n{inner}}}")
    if not out:
        return "[]"
    return f"[\n{inner}" + f",\n{inner}".join(out) + f"\n{pad}]"
