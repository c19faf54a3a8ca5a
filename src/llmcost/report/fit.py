"""Tables that fit the terminal: no dollar figure or name is ever cut to "…".

A table that fits as it is prints as it is. Otherwise each column gets at least its longest unbreakable
token (a dollar figure, a model or scenario name: cells wrap only at spaces), column titles are abbreviated,
and the room left goes to the columns with the most to wrap. When even that does not fit, the table prints
vertically: one block per row, a "Title: value" line per column. ``fitting_render`` installs this on a
console, so every table any command prints is fitted to the width it is printed at.
"""

from __future__ import annotations

import copy
import dataclasses
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.table import Table

ELLIPSIS = "…"
# Shorter column titles, tried when a table is too wide (the data is never shortened).
SHORT_TITLES = {
    "Requests": "Reqs", "Provider requests": "Prov. reqs", "Input tokens": "Input", "Output tokens": "Output",
    "Cached input": "Cached", "Cache read": "C. read", "Cache write": "C. write", "Observed": "Obs.",
    "Monthly": "Month", "Saves / month": "Saves/mo", "Saves %": "Save %", "With growth": "w/ growth",
    "Unpriced": "Unpr.", "Provider": "Prov.", "Share": "%", "Day (UTC)": "Day", "Week of (UTC)": "Week",
    "Hour (UTC)": "Hour",
}


def fitting_render(console: Console) -> None:
    """Make ``console`` fit every table it renders to the width it renders it at."""
    render = console.render

    def fitted(renderable: Any, options: ConsoleOptions | None = None) -> Iterable[Any]:
        from rich.table import Table

        if isinstance(renderable, Table) and not getattr(renderable, "_llmcost_fitted", False):
            width = (options or console.options).max_width
            renderable = fit_table(renderable, width)
        return render(renderable, options)

    console.render = fitted  # type: ignore[method-assign]


def fit_table(table: Table, width: int) -> RenderableType:
    """``table`` as is when it fits in ``width``; else narrowed with short titles; else vertical."""
    texts = [[_plain(c) for c in column._cells] for column in table.columns]
    if _cuts(table, width, texts) == 0:
        return _mark(table)
    for candidate in (table, _compact(table)):
        narrowed = _narrowed(candidate, width, texts)
        if narrowed is not None and _cuts(narrowed, width, texts) == 0:
            return _mark(narrowed)
    return vertical(table)


def _compact(table: Table) -> Table:
    """No box: columns two spaces apart (a header rule kept), for tables a few cells too wide."""
    from rich import box

    compact = copy.copy(table)
    compact.box, compact.show_edge, compact.pad_edge = box.SIMPLE_HEAD, False, False
    return compact


def _mark(table: Table) -> Table:
    table._llmcost_fitted = True  # type: ignore[attr-defined]
    return table


def _plain(cell: Any) -> str:
    from rich.text import Text

    return cell.plain if isinstance(cell, Text) else str(cell)


def _cuts(table: Table, width: int, texts: list[list[str]]) -> int:
    """How many cells rendering ``table`` at ``width`` would cut (ellipses beyond those in the data)."""
    from rich.console import Console

    probe = copy.copy(table)
    probe.columns = [dataclasses.replace(c, overflow="ellipsis") for c in table.columns]
    console = Console(width=width, file=io.StringIO(), no_color=True, highlight=False, markup=False,
                      legacy_windows=False)
    console.print(probe)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    in_data = sum(t.count(ELLIPSIS) for cells in texts for t in cells)
    return int(shown.count(ELLIPSIS) - in_data)


def _narrowed(table: Table, width: int, texts: list[list[str]]) -> Table | None:
    """Short titles and fixed column widths: each column its longest token, the rest shared out."""
    from rich.cells import cell_len

    columns = [dataclasses.replace(c, header=_short(c.header)) for c in table.columns]
    need = [max([_longest_token(t) for t in cells] + [_longest_token(_plain(c.header))], default=1)
            for c, cells in zip(columns, texts, strict=True)]
    natural = [max([cell_len(t) for t in cells] + [cell_len(_plain(c.header))], default=1)
               for c, cells in zip(columns, texts, strict=True)]
    room = width - _overhead(table)
    if sum(need) > room:
        return None
    widths = list(need)
    spare = room - sum(widths)
    while spare > 0:  # one cell at a time to the column furthest from its natural width
        gaps = [n - w for n, w in zip(natural, widths, strict=True)]
        widest = max(range(len(gaps)), key=lambda i: gaps[i])
        if gaps[widest] <= 0:
            break
        widths[widest] += 1
        spare -= 1
    narrowed = copy.copy(table)
    narrowed.columns = [dataclasses.replace(c, width=w, min_width=None, max_width=None, no_wrap=False,
                                            overflow="ellipsis")
                        for c, w in zip(columns, widths, strict=True)]
    return narrowed


def _short(header: Any) -> Any:
    return SHORT_TITLES.get(header, header) if isinstance(header, str) else header


def _longest_token(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for line in text.splitlines() for word in line.split()), default=0)


def _overhead(table: Table) -> int:
    """Columns' padding plus the box's vertical rules."""
    _, right, _, left = table.padding
    n = len(table.columns)
    pads = n * (left + right) - (0 if table.pad_edge else left + right)
    rules = (n + 1 if table.show_edge else n - 1) if table.box is not None else 0
    return pads + rules


def vertical(table: Table) -> RenderableType:
    """One block per row: the table's title, then "Column: value" lines (values wrap at spaces only)."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = []
    if table.title:
        parts.append(Text(_plain(table.title), style="bold"))
    titles = [_plain(c.header) for c in table.columns]
    rows = list(zip(*[[_plain(c) for c in column._cells] for column in table.columns], strict=True))
    if table.show_footer:
        rows.append(tuple(_plain(c.footer) for c in table.columns))
    for i, row in enumerate(rows):
        if i:
            parts.append(Text(""))
        for title, value in zip(titles, row, strict=True):
            if value:
                parts.append(Text(f"{title}: {value}" if title else value, overflow="fold"))
    return Group(*parts)

