"""Threads for the replay kernels: partitions of one replay (keys that never meet) run side by side.

numpy releases the GIL in the sorts, comparisons and gathers the replays are made of, so threads give
the cores to one replay without copying the log into other processes. The number of threads is the
engine's ``jobs``, set for the length of a run with ``workers(n)``; kernels ask ``parallel_map``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_WORKERS: contextvars.ContextVar[int] = contextvars.ContextVar("llmcost_workers", default=1)


@contextlib.contextmanager
def workers(n: int) -> Iterator[None]:
    """Let the kernels of this run use ``n`` threads."""
    token = _WORKERS.set(max(1, n))
    try:
        yield
    finally:
        _WORKERS.reset(token)


def current_workers() -> int:
    return _WORKERS.get()


def parallel_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(x) for x in items]``, on the run's threads when there are more than one."""
    n = min(_WORKERS.get(), len(items))
    if n <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n, thread_name_prefix="llmcost-replay") as pool:
        return list(pool.map(fn, items))
