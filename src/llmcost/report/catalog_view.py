"""Renderers for ``catalog list`` and ``catalog show``.

``catalog list`` has two renderers that draw the same table: ``catalog_table`` (a rich ``Table``, for
terminals) and ``catalog_text``, which writes the exact characters rich would put on a plain, non-terminal
console without importing rich (a rich render of this table costs more than loading the catalog). It returns
None for anything whose layout only rich can decide, and tests compare the two on every bundled catalog
and on generated ones.

Both accept any ``ListedCatalog`` and ``ListedModel`` (the protocols below): the pydantic ``Catalog`` and
``ModelPrice`` satisfy them, and so do the light rows that ``llmcost.catalog.snapshot.listing`` reads from
the snapshot without importing pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import date

    from rich.table import Table

    from llmcost.catalog import ModelPrice


class ListedLongContext(Protocol):
    @property
    def threshold_tokens(self) -> int: ...
    @property
    def inclusive(self) -> bool: ...


class ListedModel(Protocol):
    """What a row of ``catalog list`` shows of a model."""

    @property
    def id(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def tier(self) -> str | None: ...
    @property
    def input_mtok(self) -> Decimal | None: ...
    @property
    def output_mtok(self) -> Decimal | None: ...
    @property
    def cache_read_mtok(self) -> Decimal | None: ...
    @property
    def cache_write_mtok(self) -> Decimal | None: ...
    @property
    def batch_discount_fraction(self) -> Decimal | None: ...
    @property
    def long_context(self) -> ListedLongContext | None: ...
    @property
    def context_window(self) -> int | None: ...


class ListedCatalog(Protocol):
    """What the title of ``catalog list`` shows of a catalog."""

    @property
    def source(self) -> str: ...
    @property
    def as_of(self) -> date: ...

COLUMNS = ("id", "provider", "tier", "input", "output", "cache read", "cache write", "batch", "long ctx", "context")
LEFT = frozenset({"id", "provider", "tier"})


def price(value: Decimal | None) -> str:
    return "?" if value is None else f"{value.normalize():f}"


def context(tokens: int | None) -> str:
    if tokens is None:
        return "?"
    return f"{tokens // 1_000_000}M" if tokens >= 1_000_000 and tokens % 1_000_000 == 0 else f"{tokens // 1000}K"


def catalog_title(cat: ListedCatalog) -> str:
    return f"{cat.source} — as of {cat.as_of} (USD per 1M tokens; ? = unknown)"


def catalog_rows(models: Sequence[ListedModel]) -> list[tuple[str, ...]]:
    """The cells of ``catalog list``, one tuple per model, in ``COLUMNS`` order."""
    rows: list[tuple[str, ...]] = []
    for m in models:
        batch = f"-{m.batch_discount_fraction * 100:.0f}%" if m.batch_discount_fraction is not None else ""
        lc = m.long_context
        long = f"{'>=' if lc.inclusive else '>'}{lc.threshold_tokens // 1000}K" if lc else ""
        rows.append((m.id, m.provider, m.tier or "", price(m.input_mtok), price(m.output_mtok),
                     "" if m.cache_read_mtok is None else price(m.cache_read_mtok),
                     "" if m.cache_write_mtok is None else price(m.cache_write_mtok),
                     batch, long, context(m.context_window)))
    return rows


def natural_width(models: Sequence[ListedModel]) -> int:
    """The width of the ``catalog list`` table with no cell wrapped (piped output is never squeezed)."""
    rows = [COLUMNS, *catalog_rows(models)]
    return sum(max(len(row[i]) for row in rows) for i in range(len(COLUMNS))) + 3 * len(COLUMNS) + 1


def catalog_table(cat: ListedCatalog, models: Sequence[ListedModel]) -> Table:
    """One row per model. Cells are plain ``Text`` (no markup parsing: faster, and ids show as written)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=catalog_title(cat), title_justify="left")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in LEFT else "right")
    for row in catalog_rows(models):
        table.add_row(*(Text(cell) for cell in row))
    return table


# One-cell-wide characters only, no runs or edges of spaces: text rich lays out without surprises.
_PLAIN = re.compile(r"(?:[!-~—]+(?: [!-~—]+)*)?")


def catalog_text(cat: ListedCatalog, models: Sequence[ListedModel], width: int, *, grow: bool = False) -> str | None:
    """The table exactly as rich prints ``catalog_table`` on a plain console ``width`` cells wide (or, with
    ``grow``, as wide as its cells need when that is wider), or None when the text has characters rich
    measures differently, or the table would not fit and rich would shrink it."""
    title, rows = catalog_title(cat), catalog_rows(models)
    if not all(_PLAIN.fullmatch(cell) for row in [(title, *COLUMNS), *rows] for cell in row):
        return None
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    table_width = sum(widths) + 3 * len(widths) + 1
    if grow:
        width = max(width, table_width)
    if table_width > width:
        return None
    title_lines = _wrap(title, table_width)
    if title_lines is None:
        return None

    def rule(left: str, line: str, mid: str, right: str) -> str:
        return left + mid.join(line * (w + 2) for w in widths) + right

    def row_line(cells: Sequence[str], edge: str) -> str:
        padded = (c.ljust(w) if col in LEFT else c.rjust(w) for col, c, w in zip(COLUMNS, cells, widths, strict=True))
        return edge + edge.join(f" {c} " for c in padded) + edge

    lines = [line.ljust(table_width) for line in title_lines]
    lines += [rule("┏", "━", "┳", "┓"), row_line(COLUMNS, "┃"), rule("┡", "━", "╇", "┩")]
    lines += [row_line(row, "│") for row in rows]
    lines.append(rule("└", "─", "┴", "┘"))
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int) -> list[str] | None:
    """Greedy word wrap, as rich does it for single-spaced text; None when a word is wider than a line."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if len(word) > width:
            return None
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return lines


_FIRST = ("id", "aliases", "provider", "tier", "source")


def model_detail(model: ModelPrice) -> str:
    """The model as its catalog YAML would write it: names first, prices as plain numbers, nothing empty."""
    from llmcost.catalog.litellm_import import dump_yaml

    data = model.model_dump(exclude_none=True)
    kept = {k: v for k, v in data.items() if v not in ({}, [], ()) and not (k == "request_fee" and v == 0)}
    ordered = {k: kept[k] for k in _FIRST if k in kept} | {k: v for k, v in kept.items() if k not in _FIRST}
    return dump_yaml(ordered).rstrip()
