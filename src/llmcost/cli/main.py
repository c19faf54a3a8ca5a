"""The ``llmcost`` command. Command modules import heavy libraries only inside their functions,
so ``llmcost --help`` stays fast."""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer

from llmcost import __version__
from llmcost.cli import (
    bench_cmd,
    catalog_cmd,
    check_cmd,
    diff_cmd,
    estimate_cmd,
    logs_cmd,
    plan_cmd,
    report_cmd,
    tokens_cmd,
)

# Each command, registered on an app: the whole CLI, or (see ``main``) only the command being run.
_COMMANDS: dict[str, Callable[[typer.Typer], object]] = {
    "estimate": lambda a: a.command("estimate", no_args_is_help=True)(estimate_cmd.estimate),
    "bench": lambda a: a.command("bench", no_args_is_help=True)(bench_cmd.bench),
    "catalog": lambda a: a.add_typer(catalog_cmd.app, name="catalog"),
    "logs": lambda a: a.add_typer(logs_cmd.app, name="logs"),
    "tokens": lambda a: a.command("tokens")(tokens_cmd.tokens),
    "check": lambda a: a.command("check")(check_cmd.check),
    "diff": lambda a: a.command("diff", no_args_is_help=True)(diff_cmd.diff),
    "plan": lambda a: a.command("plan", no_args_is_help=True)(plan_cmd.plan),
    "report": lambda a: a.command("report", no_args_is_help=True)(report_cmd.report),
}


def _app(commands: list[str]) -> typer.Typer:
    built = typer.Typer(
        name="llmcost",
        help="What your LLM API traffic costs, what it would cost under routing, caching, compression and "
        "batch, and a CI gate for the bill. Exit codes: 0 ok, 1 a check failed, 2 bad input.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
    )
    for name in commands:
        _COMMANDS[name](built)
    built.callback()(_root)
    return built


def _version(value: bool) -> None:
    if value:
        typer.echo(f"llmcost {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """llmcost"""


app = _app(list(_COMMANDS))


def main() -> None:
    """Run the command line. When the first argument names a command, only that command is built:
    typer turns every command's signature into click parameters before running anything, and for a
    quick command (``catalog list``) building the other six is most of its start-up time."""
    arrow_allocator()
    first = sys.argv[1] if len(sys.argv) > 1 else None
    chosen = _app([first]) if first in _COMMANDS else app
    sys.exit(run_one_line(chosen, sys.argv[1:]))


def arrow_allocator() -> None:
    """Arrow's jemalloc pool for this command's process, on Linux (where pyarrow's wheels ship it), unless
    ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise. Reading a 10M-row log with prefix-hash lists, Arrow grows
    its list buffers by reallocation: mimalloc copies each into fresh memory, which the kernel zeroes page
    by page, where jemalloc's big reallocations move pages instead. Measured on the 2-core machine the bars
    are set on: ``pyarrow.parquet.read_table`` 1.33 s instead of 1.72-3.46 s (system time 0.85 s instead of
    1.4-4.7 s), the default scenario set 9.2-9.4 s instead of 9.9-10.4 s. Set before pyarrow is imported
    (it reads the variable once); library callers keep their own choice."""
    import os

    if sys.platform.startswith("linux"):
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")


def run_one_line(chosen: typer.Typer, args: list[str]) -> int:
    """Run the app; a bad option value or a missing argument is ONE line on stderr (exit 2), like every
    other llmcost error, instead of click's usage block: scripts and CI logs grep for ``llmcost: error:``."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from llmcost.cli.common import err_console, escape
    from llmcost.sanitize import printable

    try:
        code = typer.main.get_command(chosen).main(args, prog_name="llmcost", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        return exc.exit_code
    except UsageError as exc:
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        message = printable(exc.format_message(), one_line=True)
        err_console().print(f"[red]llmcost: error:[/red] {escape(message)}{where}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except ClickException as exc:
        exc.show()
        return exc.exit_code
    except typer.Abort:
        err_console().print("llmcost: aborted")
        return 1
    return code if isinstance(code, int) else 0
