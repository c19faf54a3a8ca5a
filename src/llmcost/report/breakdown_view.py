"""Breakdown tables (``estimate --by``) in every output format: rich table, Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from llmcost.report.money import count, json_count, json_usd, usd

if TYPE_CHECKING:
    from rich.console import RenderableType

    from llmcost.breakdowns import Breakdown, BreakdownRow
    from llmcost.estimate import Estimate

FIELDS = ("requests", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "cost_usd",
          "unpriced_requests")
TITLES = {"day": "Day (UTC)", "week": "Week of (UTC)", "hour": "Hour (UTC)", "task": "Task", "user": "User",
          "tag": "Tag", "provider": "Provider", "model": "Model"}
TAG_NOTE = "A request with several tags counts in each tag's row: tag rows do not add up to the total."


def title(b: Breakdown) -> str:
    top = f" (top {b.top_n} by cost)" if b.top_n is not None and b.other is not None else ""
    return "Cost by " + " × ".join(b.dims) + top


def _values(row: BreakdownRow) -> dict[str, Any]:
    t = row.tokens
    return {
        "requests": json_count(t.requests),
        "input_tokens": json_count(t.input_tokens),
        "cached_input_tokens": json_count(t.cache_read_tokens),
        "cache_write_tokens": json_count(t.cache_write_tokens + t.cache_write_1h_tokens),
        "output_tokens": json_count(t.output_tokens),
        "cost_usd": json_usd(row.cost),
        "unpriced_requests": json_count(row.unpriced_requests),
    }


def _row_dict(b: Breakdown, row: BreakdownRow) -> dict[str, Any]:
    return dict(zip(b.dims, row.key, strict=True)) | _values(row)


def breakdowns_json(est: Estimate) -> list[dict[str, Any]]:
    """The ``breakdowns`` field of ``estimate --format json``."""
    out = []
    for b in est.breakdowns:
        item: dict[str, Any] = {"by": list(b.dims), "rows": [_row_dict(b, r) for r in b.rows],
                                "other": _row_dict(b, b.other) if b.other is not None else None, "top_n": b.top_n}
        if b.overlapping:
            item["note"] = TAG_NOTE
        out.append(item)
    return out


def breakdowns_csv(est: Estimate) -> str:
    """Each breakdown as its own CSV block after the main table: a blank line, a header, the rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for b in est.breakdowns:
        buf.write("\n")
        writer.writerow([*b.dims, *FIELDS])
        rows = (*b.rows, b.other) if b.other is not None else b.rows
        for row in rows:
            values = _values(row)
            values["cost_usd"] = row.cost  # exact Decimal, like the main table's cost columns
            writer.writerow([*row.key, *(values[f] for f in FIELDS)])
    return buf.getvalue()


def breakdowns_markdown(est: Estimate) -> str:
    lines: list[str] = []
    for b in est.breakdowns:
        unpriced = _any_unpriced(b)
        head = [TITLES[d] for d in b.dims] + ["Requests", "Input", "Cached input", "Output", "Cost"]
        lines += ["", f"### {title(b)}", "", "| " + " | ".join(head + (["Unpriced requests"] if unpriced else []))
                  + " |", "|" + "---|" * len(b.dims) + "---:|" * (5 + unpriced)]
        for row in _all_rows(b):
            cells = [*row.key, *_counts(row), usd(row.cost)] + ([count(row.unpriced_requests)] if unpriced else [])
            lines.append("| " + " | ".join(cells) + " |")
        if b.overlapping:
            lines += ["", f"> {TAG_NOTE}"]
    return "\n".join(lines) + ("\n" if lines else "")


def breakdown_tables(est: Estimate) -> list[RenderableType]:
    """One rich table per breakdown (the terminal layout)."""
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    for b in est.breakdowns:
        unpriced = _any_unpriced(b)
        table = Table(title=title(b), title_justify="left")
        for d in b.dims:
            table.add_column(TITLES[d], overflow="fold")
        for name in ["Requests", "Input", "Cached input", "Output", "Cost"] + (["Unpriced"] if unpriced else []):
            table.add_column(name, justify="right", no_wrap=True)
        for row in _all_rows(b):
            cells = [*row.key, *_counts(row), usd(row.cost)] + ([count(row.unpriced_requests)] if unpriced else [])
            table.add_row(*cells, style="dim" if row is b.other else None)
        out.append(table)
        if b.overlapping:
            out.append(Text(TAG_NOTE, style="dim"))
    return out


def _all_rows(b: Breakdown) -> tuple[BreakdownRow, ...]:
    return (*b.rows, b.other) if b.other is not None else b.rows


def _any_unpriced(b: Breakdown) -> bool:
    return any(r.unpriced_requests for r in _all_rows(b))


def _counts(row: BreakdownRow) -> list[str]:
    t = row.tokens
    return [count(t.requests), count(t.input_tokens), count(t.cache_read_tokens), count(t.output_tokens)]
