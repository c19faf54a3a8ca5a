"""``llmcost logs inspect``."""

from __future__ import annotations

from typing import Annotated

import typer

from llmcost.cli.common import out_console, speaks_errors, warn
from llmcost.cli.estimate_cmd import CatalogOpt, LogFormatOpt, LogsArg, ModelOpt, SkipBadOpt

app = typer.Typer(help="Look at request logs.", no_args_is_help=True)


@app.command("inspect", no_args_is_help=True)
@speaks_errors
def inspect(
    logs: LogsArg,
    catalog: CatalogOpt = None,
    log_format: LogFormatOpt = None,
    model: ModelOpt = None,
    skip_bad: SkipBadOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Detected format, rows, weighted requests, window, models (resolved or not), token sums, skipped rows."""
    from llmcost.catalog import load_catalog
    from llmcost.logs import read_logs
    from llmcost.report.inspect_view import inspect_dict, inspect_table

    cat = load_catalog(catalog)
    logset = read_logs(logs, log_format=log_format, default_model=model, skip_bad=skip_bad)
    for report in logset.files:
        for why, n in report.skipped.items():
            warn(f"{report.path}: skipped {n:,} row(s): {why}")
    data = inspect_dict(logset, cat)
    if as_json:
        import json

        typer.echo(json.dumps(data, indent=2))
    else:
        out_console().print(inspect_table(data))


@app.command("formats")
@speaks_errors
def formats() -> None:
    """List the log formats llmcost reads (names for --log-format), most specific first."""
    from rich.table import Table

    from llmcost.logs.registry import readers

    table = Table("name", "what it reads")
    for reader in readers():
        table.add_row(reader.name, reader.description)
    out_console().print(table)
