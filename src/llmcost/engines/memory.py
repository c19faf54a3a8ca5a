"""The process's allocator, tuned for replays that free and allocate arrays of tens of MB, over and over.

glibc's malloc hands allocations above a threshold (at most 32 MB by its own adjustment) straight to
the kernel with ``mmap`` and gives them back on ``free``; the next array of the same size is fresh memory
again, and the kernel zeroes each of its pages on first touch. A replay of a 10M-row log makes thousands
of such arrays, and measured on 10M generated rows a third of its CPU time went to the kernel.
``freed_memory_kept`` asks malloc, for the length of the scenario replays, to serve big blocks from its
heap and keep what is freed for reuse (``mallopt`` ``M_MMAP_THRESHOLD``, ``M_TRIM_THRESHOLD``): the same
peak memory, far fewer page faults. It is scoped to the replays, which run on numpy, pandas and Arrow's
compute functions, and not to reading logs: with it set while pyarrow's CSV reader parsed a row bigger
than its blocks, the reader now and then failed to find the header (a timing-dependent fault in pyarrow,
not reproduced with the default allocator). Afterwards the limits are set to the values glibc's own
adjustment ends at. Off glibc (macOS, musl) it does nothing.

``small_pages`` asks Linux, for the length of a block, for no transparent huge pages in this process
(``PR_SET_THP_DISABLE``; children forked inside inherit it). Two kinds of work were measured slower with
them on the 2-core machine the bars are set on: the partitioned baseline, whose Arrow buffers are a few MB
each and touched sparsely (every first touch zeroed 2 MB: 0.15-0.3 s of a 10M-row baseline's 0.9 s of
CPU), and scenario groups on forked processes, where the processes' writes to pages they share
copy-on-write cost the children 1.4-1.6 s of system time per default set on 10M rows (0.35-0.4 s with
small pages). Afterwards the process's setting is what it was.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 1 << 30
# Where glibc's dynamic thresholds end (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit; trim at twice it).
SETTLED_MMAP = 32 << 20
SETTLED_TRIM = 64 << 20


def _mallopt() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return mallopt


_KEEPING = [0]  # blocks inside freed_memory_kept now (threads of one process may overlap theirs)
_KEEPING_LOCK = threading.Lock()


@contextlib.contextmanager
def freed_memory_kept() -> Iterator[bool]:
    """Within the block, malloc keeps freed memory for reuse (yields whether the setting took). Blocks may
    nest or overlap (Dask runs tasks on several threads of a worker): the last one out restores the limits."""
    mallopt = _mallopt()
    with _KEEPING_LOCK:
        _KEEPING[0] += 1
        took = mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) \
            and bool(mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
    try:
        yield took
    finally:
        with _KEEPING_LOCK:
            _KEEPING[0] -= 1
            if mallopt is not None and not _KEEPING[0]:
                mallopt(M_MMAP_THRESHOLD, SETTLED_MMAP)
                mallopt(M_TRIM_THRESHOLD, SETTLED_TRIM)


def release_free_memory() -> None:
    """Give the heap's free memory back to the kernel (glibc ``malloc_trim``). Called before forking: pages
    a forked child shares copy-on-write would be copied, one fault at a time, the first time either
    process reused them; returned pages come back as fresh zeroed pages instead, faulted only where used."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


PR_SET_THP_DISABLE, PR_GET_THP_DISABLE = 41, 42


@contextlib.contextmanager
def small_pages() -> Iterator[bool]:
    """Within the block, no transparent huge pages for this process and the children it forks (yields
    whether the setting took; elsewhere than Linux, or when refused, nothing changes)."""
    prctl = _prctl()
    before = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) if prctl is not None else -1
    took = before >= 0 and prctl is not None and prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    try:
        yield took
    finally:
        if took and prctl is not None and not before:
            prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0)


def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


@contextlib.contextmanager
def arrow_jemalloc() -> Iterator[bool]:
    """Within the block, Arrow allocates from its jemalloc pool (Linux, when pyarrow has it; yields whether
    it does), as the ``llmcost`` command does for its whole process (``cli.main.arrow_allocator``: Arrow's
    growing list buffers cost mimalloc seconds of freshly zeroed memory on a 10M-row log). For work in a
    process that is not llmcost's own, a Dask worker's task; the pool before comes back afterwards (buffers
    keep the pool they came from)."""
    if not sys.platform.startswith("linux"):
        yield False
        return
    import pyarrow as pa

    before = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without it
        yield False
        return
    pa.set_memory_pool(pool)
    try:
        yield True
    finally:
        pa.set_memory_pool(before)
