"""What every command shares: error speaking, atomic output, consoles and progress."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from llmcost.errors import LlmcostError
from llmcost.sanitize import printable

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import Progress

P = ParamSpec("P")
R = TypeVar("R")
TABLE_WIDTH = 140


def speaks_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn an ``LlmcostError`` into one line on stderr and its exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except LlmcostError as exc:
            err_console().print(f"[red]llmcost: error:[/red] {escape(printable(str(exc), one_line=True))}",
                                highlight=False, soft_wrap=True)
            raise typer.Exit(code=exc.exit_code) from None
        except KeyboardInterrupt:
            err_console().print("llmcost: interrupted")
            raise typer.Exit(code=130) from None

    return wrapper


def finite(value: float | None) -> float | None:
    """Option callback for every float option: refuse NaN and infinity, which click's range checks let
    through (``--window-days nan`` used to fail deep inside pricing with a traceback).
    tests/hostile/test_cli_values.py walks the command tree to make sure every float option uses it."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def safe_console(**kwargs: Any) -> Console:
    """A rich Console that shows terminal controls and bidi overrides in any text it writes as visible
    escapes (llmcost.sanitize), whichever renderable the text came in: table cells, Text, plain strings."""
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def _render_buffer(self, buffer: Any) -> str:
            clean = (seg if seg.control else Segment(printable(seg.text), seg.style) for seg in buffer)
            return str(super()._render_buffer(clean))

    return SafeConsole(**kwargs)


@functools.cache
def err_console() -> Console:
    return safe_console(stderr=True, highlight=False)


def out_console(file: Any = None) -> Console:
    """The console for results. ``markup=False``: a model name like ``[bold]x`` or ``[link=…]`` is text."""
    target = file if file is not None else sys.stdout
    is_tty = hasattr(target, "isatty") and target.isatty()
    return safe_console(file=target, width=None if is_tty else TABLE_WIDTH, highlight=False,
                        no_color=not is_tty, soft_wrap=False, markup=False)


def warn(message: str) -> None:
    err_console().print(f"[yellow]warning:[/yellow] {escape(printable(message, one_line=True))}", soft_wrap=True)


def info(message: str) -> None:
    err_console().print(escape(printable(message)), style="dim", soft_wrap=True)


def write_output(text: str, output: str | None) -> None:
    """Write ``text`` to stdout (``None`` or ``-``) or atomically to a file (temp file + rename)."""
    if output in (None, "-"):
        sys.stdout.write(printable(text) if sys.stdout.isatty() else text)
        sys.stdout.flush()
        return
    assert output is not None
    write_atomic(Path(output), text)


def write_atomic(path: Path, text: str) -> None:
    """Temp file + rename, so a failure never leaves a partial file. A target that exists and is not a
    regular file (``/dev/null``, a pipe) is written in place: renaming over it would replace it."""
    import stat

    from llmcost.errors import UsageError

    try:
        special = not stat.S_ISREG(path.stat().st_mode) and not path.is_dir()
    except OSError:
        special = False  # does not exist yet
    if special:
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        return
    directory = path.parent if str(path.parent) else Path()
    if not directory.is_dir():
        raise UsageError(f"{path}: output directory does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def render_text(renderable: RenderableType) -> str:
    """Render a rich renderable to plain text at a fixed width (for files and tests)."""
    from rich.console import Console

    console = Console(width=TABLE_WIDTH, record=True, file=open(os.devnull, "w"),
                      no_color=True, highlight=False, markup=False)
    console.print(renderable)
    text = console.export_text()
    console.file.close()
    return text


@contextlib.contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Progress | None]:
    """A rich progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console(), transient=True) as bar:
        bar.add_task(description, total=total)
        yield bar
