"""``llmcost diff BASE HEAD``: what changed between two estimate (or two bench) results."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from llmcost.cli.common import out_console, render_text, speaks_errors, write_output


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


@speaks_errors
def diff(
    base: Annotated[str, typer.Argument(help="The earlier result (estimate or bench JSON).", show_default=False,
                                       metavar="BASE.json")],
    head: Annotated[str, typer.Argument(help="The later result, of the same kind.", show_default=False,
                                       metavar="HEAD.json")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write results here (- = stdout).")] = None,
) -> None:
    """Compare two `estimate --format json` results per scenario and model (monthly cost, $ and % change,
    added and removed models), or two bench results per model (quality, p95 latency, cost per 1k)."""
    from llmcost.diff import diff_files
    from llmcost.report import diff_view

    result = diff_files(base, head)
    if fmt is Format.json:
        write_output(diff_view.render_json(result), output)
    elif fmt is Format.markdown:
        write_output(diff_view.render_markdown(result), output)
    elif output in (None, "-"):
        out_console().print(diff_view.render_table(result))
    else:
        write_output(render_text(diff_view.render_table(result)), output)
