"""One sanitizer for text from logs (model names, tasks, users, tags, endpoint bodies) on its way to a terminal.

A model name is whatever a log says it is. Written raw to a terminal, ``\\x1b[2J`` clears the screen, an OSC
sequence can set the window title or a hyperlink, and U+202E (RIGHT-TO-LEFT OVERRIDE) makes ``gpt-4o\\u202e``
read backwards. ``printable`` shows each such character as a visible escape (``\\x1b``, ``\\u202e``) instead;
everything else, accents and CJK included, passes unchanged. JSON, CSV and ``--output`` files keep the exact
text: only what is shown on a terminal is escaped.
"""

from __future__ import annotations

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional formatting characters
# (embeddings, overrides, isolates and marks) that reorder how a line reads.
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_UNSAFE = (*(c for c in range(0x20) if c not in (0x09, 0x0A)), 0x7F, *range(0x80, 0xA0), *_BIDI)


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE = {code: _escape(code) for code in _UNSAFE}
_ONE_LINE = {**_TABLE, 0x0A: "\\n", 0x09: "\\t"}


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with every terminal control and bidi formatting character shown as an escape; with
    ``one_line`` newlines and tabs too, so a message stays on the one line it promises."""
    return text.translate(_ONE_LINE if one_line else _TABLE)
