"""The ``llmcost`` command. Command modules import heavy libraries only inside their functions,
so ``llmcost --help`` stays fast."""

from __future__ import annotations

import typer

from llmcost import __version__
from llmcost.cli import bench_cmd, catalog_cmd, check_cmd, diff_cmd, estimate_cmd, logs_cmd, tokens_cmd

app = typer.Typer(
    name="llmcost",
    help="What your LLM API traffic costs, what it would cost under routing, caching, compression and "
    "batch, and a CI gate for the bill. Exit codes: 0 ok, 1 a check failed, 2 bad input.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
app.command("estimate", no_args_is_help=True)(estimate_cmd.estimate)
app.command("bench", no_args_is_help=True)(bench_cmd.bench)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(logs_cmd.app, name="logs")
app.command("tokens")(tokens_cmd.tokens)
app.command("check")(check_cmd.check)
app.command("diff", no_args_is_help=True)(diff_cmd.diff)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"llmcost {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """llmcost"""


def main() -> None:
    app()
