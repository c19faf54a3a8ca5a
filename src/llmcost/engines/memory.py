"""The process's allocator, tuned for replays that free and allocate arrays of tens of MB, over and over.

glibc's malloc hands allocations above a threshold (at most 32 MB by its own adjustment) straight to
the kernel with ``mmap`` and gives them back on ``free``; the next array of the same size is fresh memory
again, and the kernel zeroes each of its pages on first touch. A replay of a 10M-row log makes thousands
of such arrays, and measured on 10M generated rows a third of its CPU time went to the kernel.
``keep_freed_memory`` asks malloc to serve big blocks from its heap and keep what is freed for reuse
(``mallopt`` ``M_MMAP_THRESHOLD``, ``M_TRIM_THRESHOLD``): the same peak memory, far fewer page faults, but the
process holds its peak until it exits. So the command-line commands call it (a process that runs one
estimate and exits); library callers decide for themselves. Off glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as above; whether it took."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))


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
