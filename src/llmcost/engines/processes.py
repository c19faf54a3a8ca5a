"""Work split across forked processes that share the in-memory log without copying it.

Once a log is read, the scenarios of a run are independent of each other. With more than one core, the
estimate splits them into groups and runs each group in a process forked from this one: the child sees
the parent's frame through the kernel's copy-on-write pages (no pickling, no second read), computes its
scenarios' integer token sums and details, and sends back only those (kilobytes, pickled to a private
temporary file). Pricing stays in the parent, once, in ``Decimal``.

Threads already give the cores to the replay kernels' big sorts and gathers, but most of a scenario's
time is pandas and numpy work on one slice of the log at a time, much of it under the GIL; processes
scale where threads cannot. Only Linux forks here (macOS's system libraries are not fork-safe); elsewhere
the groups run one after the other in this process, with the same results.

An error raised in a child (an ``LlmcostError`` naming a row, say) is raised again in the parent as
the same class with the same attributes; a child that dies without a result is an ``LlmcostError``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

R = TypeVar("R")


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def run_forked(tasks: Sequence[Callable[[], R]]) -> list[R]:
    """``[task() for task in tasks]``: the first here, each other one in a forked child, side by side."""
    import tempfile

    if len(tasks) <= 1 or not can_fork():
        return [task() for task in tasks]
    from llmcost.engines.memory import release_free_memory

    release_free_memory()
    children: list[tuple[int, str]] = []
    try:
        for task in tasks[1:]:
            fd, path = tempfile.mkstemp(prefix="llmcost-part-", suffix=".pickle")
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's lines run in another process
                _child(task, fd)
            os.close(fd)
            children.append((pid, path))
        first = tasks[0]()
        return [first, *(_collect(pid, path) for pid, path in children)]
    finally:
        _reap(children)


def _child(task: Callable[[], object], fd: int) -> None:  # pragma: no cover - runs in the child
    """Run ``task``, write (ok, result or error) to ``fd`` and leave without running the parent's exit code."""
    import pickle

    code = 0
    try:
        try:
            outcome: tuple[bool, object] = (True, task())
        except BaseException as exc:  # every failure goes back to the parent
            outcome = (False, _portable(exc))
        with os.fdopen(fd, "wb") as out:
            pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)


def _portable(exc: BaseException) -> tuple[type[BaseException], tuple[object, ...], dict[str, object]]:
    """An exception as (class, args, attributes): rebuilt without calling its ``__init__``, whose
    signature need not accept ``args`` back (``InputError`` takes keyword-only locations)."""
    import pickle

    state = {k: v for k, v in vars(exc).items() if _picklable(v, pickle)}
    args = tuple(a for a in exc.args if _picklable(a, pickle))
    cls = type(exc) if _picklable(type(exc), pickle) else RuntimeError
    return cls, args, state


def _picklable(value: object, pickle: object) -> bool:
    try:
        pickle.dumps(value)  # type: ignore[attr-defined]
    except Exception:  # what cannot cross a process boundary stays behind
        return False
    return True


def _collect(pid: int, path: str) -> R:  # type: ignore[type-var]
    import pickle

    from llmcost.errors import LlmcostError

    _, status = os.waitpid(pid, 0)
    try:
        with open(path, "rb") as fh:
            ok, value = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError) as exc:
        why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else \
            f"exit code {os.waitstatus_to_exitcode(status)}"
        raise LlmcostError(f"a worker process of this run ended without a result ({why}); "
                           "run again with --jobs 1 to use one process") from exc
    if ok:
        return value  # type: ignore[no-any-return]
    cls, args, state = value
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    raise error


def _reap(children: list[tuple[int, str]]) -> None:
    """Stop and wait for children still running (the parent failed), and remove their files."""
    import signal

    for pid, path in children:
        try:
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # already collected
        Path(path).unlink(missing_ok=True)
