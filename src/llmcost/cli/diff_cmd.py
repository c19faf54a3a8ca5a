"""``llmcost diff BASE HEAD``: what changed between two estimate (or two bench) results."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from llmcost.cli.common import out_console, render_text, speaks_errors, warn, write_output


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


@speaks_errors
def diff(
    base: Annotated[str, typer.Argument(help="The earlier result: estimate JSON, bench JSON or a bench "
                                       "--results JSONL file.", show_default=False, metavar="BASE")],
    head: Annotated[str, typer.Argument(help="The later result, of the same kind.", show_default=False,
                                       metavar="HEAD")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write results here (- = stdout).")] = None,
) -> None:
    """Compare two `estimate --format json` results per scenario and model (monthly cost, $ and % change,
    added and removed models), or two bench results per model (quality, p95 latency, cost per 1k); a bench
    result is a `bench --format json` summary or a `--results` JSONL file. Results of different suites are
    compared with a warning."""
    from llmcost.diff import BenchDiff, diff_files
    from llmcost.report import diff_view

    result = diff_files(base, head)
    if isinstance(result, BenchDiff):
        for message in result.warnings:
            warn(message)
    if fmt is Format.json:
        write_output(diff_view.render_json(result), output)
    elif fmt is Format.markdown:
        write_output(diff_view.render_markdown(result), output)
    elif output in (None, "-"):
        out_console().print(diff_view.render_table(result))
    else:
        write_output(render_text(diff_view.render_table(result)), output)
