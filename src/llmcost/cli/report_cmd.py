"""``llmcost report``: one HTML page (charts and tables) from saved estimate, bench and check JSON results,
and the same charts as PNG or SVG files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmcost.cli.common import check_writable, info, speaks_errors, write_output


@speaks_errors
def report(
    results: Annotated[list[str], typer.Argument(help="JSON results of estimate, bench, check or plan (--format json), "
                                                 "or a bench --results JSONL file.", show_default=False)],
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the HTML page here (- = stdout; "
                                               "the default unless --png/--svg is given).")] = None,
    png: Annotated[str | None, typer.Option("--png", help="Write each chart as a PNG into this directory.")] = None,
    svg: Annotated[str | None, typer.Option("--svg", help="Write each chart as an SVG into this directory.")] = None,
    title: Annotated[str, typer.Option("--title", help="The page's title.")] = "llmcost report",
) -> None:
    """Build one self-contained HTML report (opens offline) from saved JSON results, several on one page."""
    from llmcost.errors import UsageError
    from llmcost.report.html import render_page
    from llmcost.report.html.images import write_images
    from llmcost.report.html.load import build_sections, load_results

    if png and svg:
        raise UsageError("--png and --svg cannot be used together: give one image format")
    check_writable(output)
    sections = build_sections(load_results(results))
    images = png or svg
    if images:
        written = write_images(sections, Path(images), "png" if png else "svg")
        info(f"wrote {len(written)} chart image(s) to {images}")
    if output is not None or not images:
        write_output(render_page(sections, title=title), output)
        if output not in (None, "-"):
            info(f"wrote {output}")
