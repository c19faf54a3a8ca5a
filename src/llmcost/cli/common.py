"""What every command shares: error speaking, atomic output, consoles and progress."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from llmcost.errors import LlmcostError, UsageError
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
    from llmcost.report.fit import fitting_render

    target = file if file is not None else sys.stdout
    is_tty = hasattr(target, "isatty") and target.isatty()
    # A terminal's own width, or COLUMNS when set (rich reads it); a pipe or file gets TABLE_WIDTH.
    wide = is_tty or os.environ.get("COLUMNS", "").isdigit()
    console = safe_console(file=target, width=None if wide else TABLE_WIDTH, highlight=False,
                           no_color=not is_tty, soft_wrap=False, markup=False)
    fitting_render(console)  # no table cuts a dollar figure or a name (llmcost.report.fit)
    return console


def warn(message: str) -> None:
    text = printable(message, one_line=True)
    if _plain_stderr(f"warning: {text}"):
        return
    err_console().print(f"[yellow]warning:[/yellow] {escape(text)}", soft_wrap=True)


def info(message: str) -> None:
    text = printable(message)
    if _plain_stderr(text):
        return
    err_console().print(escape(text), style="dim", soft_wrap=True)


def _plain_stderr(line: str) -> bool:
    """Write ``line`` to stderr as it is, without importing rich (start-up time), when rich would print
    exactly those characters: stderr is not a terminal, colour is not forced, and the line is printable
    ASCII with no tab and nothing rich would read as an emoji code (``:name:``). False: rich prints it."""
    if sys.platform == "win32" or os.environ.get("TTY_COMPATIBLE", "") not in ("", "0") or os.environ.get(
            "FORCE_COLOR"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is None or isatty() or not line.isascii() or not line.isprintable() or _EMOJI_LIKE.search(line):
        return False
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    return True


_EMOJI_LIKE = re.compile(r":\S*?:")


def write_output(text: str, output: str | None) -> None:
    """Write ``text`` to stdout (``None`` or ``-``) or atomically to a file (temp file + rename)."""
    if output in (None, "-"):
        sys.stdout.write(printable(text) if sys.stdout.isatty() else text)
        sys.stdout.flush()
        return
    assert output is not None
    write_atomic(Path(output), text)


def write_atomic(path: Path, text: str) -> None:
    """Temp file + rename, so a failure never leaves a partial file and the old file stays whole. The new
    file keeps the mode of the one it replaces (else the umask's default, not mkstemp's 0600). A target
    that exists and is not a regular file (``/dev/null``, a pipe) is written in place: renaming over it
    would replace it. Every OS failure (a directory, no permission, a full disk) is one ``UsageError``."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        mode = None  # does not exist yet
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"{path}: is a directory; give a file path to write to")
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(path, text)
        return
    directory = path.parent if str(path.parent) else Path()
    if not directory.is_dir():
        raise UsageError(f"{path}: output directory does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        if isinstance(exc, OSError):
            what = "; the old file is unchanged" if mode is not None else ""
            raise UsageError(f"{path}: cannot write: {exc.strerror or exc}{what}") from None
        raise


def _write_in_place(path: Path, text: str) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(*outputs: str | None) -> None:
    """Before any work or any write: every output path given can be written (its directory exists and it
    is not a directory), so a command with several outputs never writes one and then fails on the next."""
    for output in outputs:
        if output in (None, "-"):
            continue
        assert output is not None
        path = Path(output)
        directory = path.parent if str(path.parent) else Path()
        if path.is_dir():
            raise UsageError(f"{path}: is a directory; give a file path to write to")
        if not directory.is_dir():
            raise UsageError(f"{path}: output directory does not exist")
        if not os.access(directory, os.W_OK) and not (path.exists() and os.access(path, os.W_OK)):
            raise UsageError(f"{path}: cannot write: permission denied")


def render_text(renderable: RenderableType) -> str:
    """Render a rich renderable to plain text at a fixed width (for files and tests)."""
    from rich.console import Console

    from llmcost.report.fit import fitting_render

    console = Console(width=TABLE_WIDTH, record=True, file=open(os.devnull, "w"),
                      no_color=True, highlight=False, markup=False)
    fitting_render(console)
    console.print(renderable)
    text = console.export_text()
    console.file.close()
    return text


@contextlib.contextmanager
def progress(description: str, total: float | None = None, unit: str = "") -> Iterator[Progress | None]:
    """A rich progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    # A total that is unknown (rows of a log being read) shows a spinner and the count so far, not "0/None".
    shape = [BarColumn()] if total is not None else [SpinnerColumn()]
    with Progress(TextColumn("{task.description}"), *shape, count_column(), TimeElapsedColumn(),
                  console=err_console(), transient=True) as bar:
        bar.add_task(description, total=total, unit=unit)
        yield bar


def count_column() -> Any:
    """``done/total`` when the total is known, else the count so far and its unit (nothing before the first)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Count(ProgressColumn):
        def render(self, task: Any) -> Text:
            done = int(task.completed)
            if task.total is not None:
                return Text(f"{done:,}/{int(task.total):,}")
            unit = task.fields.get("unit") or ""
            return Text(f"{done:,} {unit}".rstrip() if done else "")

    return Count()
