"""Cache replays over integer-coded keys: the only sequential part of the scenario engine.

Semantics shared by both caches (response cache and provider prompt cache): every request that
reaches the cache *touches* its key, a miss writes it and a hit refreshes it, so an entry expires
``ttl`` after its key was last seen (sliding expiration, as provider prompt caches behave). A request
is a hit when its key was seen before and less than ``ttl`` ago: a gap of ttl − 1 s hits, exactly ttl
or more misses. With sliding expiration the replay needs no loop: sort by (key, time), and a request
hits exactly when the previous request with the same key is less than ``ttl`` earlier.

A bounded cache (``max_entries``, least-recently-used eviction) depends on every other key's history,
so it is replayed with one pass in timestamp order over an ``OrderedDict`` (the slower path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def replay_ttl(keys: np.ndarray, times: np.ndarray, ttl: int) -> np.ndarray:
    """Hits of an unbounded sliding-TTL cache. ``keys`` are int codes (< 0 = uncacheable), ``times``
    int64 in any unit that ``ttl`` shares. Ties in time replay in row order. Returns a bool mask."""
    return replay_ttl_reuse(keys, times, ttl)[0]


# Below this many requests a replay is not worth splitting across threads.
PARTITION_MIN = 1 << 20


def replay_ttl_reuse(keys: np.ndarray, times: np.ndarray, ttl: int) -> tuple[np.ndarray, np.ndarray]:
    """(hits, reused): ``reused[i]`` is true when the next request with the same key hits (comes within
    ``ttl``), i.e. storing request i's entry pays off later.

    With several workers (``engines.threads``) the keys are partitioned (key mod partitions) and each
    partition replayed on its own thread: rows of one key stay together and in row order, so the
    result is the same as one replay of all rows."""
    from llmcost.engines.threads import current_workers

    jobs = current_workers()
    if jobs > 1 and len(keys) >= PARTITION_MIN:
        return _replay_partitioned(keys, times, ttl, 2 * jobs)
    return _replay_ttl_reuse(keys, times, ttl)


def _replay_partitioned(keys: np.ndarray, times: np.ndarray, ttl: int,
                        parts: int) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    from llmcost.engines.threads import parallel_map

    hits = np.zeros(len(keys), dtype=bool)
    reused = np.zeros(len(keys), dtype=bool)
    part = np.where(keys >= 0, keys % parts, -1)  # uncacheable rows neither hit nor are reused

    def run(p: int) -> None:
        rows = np.flatnonzero(part == p)
        got, again = _replay_ttl_reuse(keys[rows], times[rows], ttl)
        hits[rows] = got  # partitions write disjoint rows
        reused[rows] = again

    parallel_map(run, list(range(parts)))
    return hits, reused


def _replay_ttl_reuse(keys: np.ndarray, times: np.ndarray, ttl: int) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    n = len(keys)
    hits = np.zeros(n, dtype=bool)
    reused = np.zeros(n, dtype=bool)
    if n < 2:
        return hits, reused
    # Sort once on a composite int64 (key << bits | time rank): several times faster than lexsort or a
    # stable argsort. Keys must stay below 2**(63 - bits) (billions of distinct keys for 10M rows).
    # Built and split in place, a slice at a time: every 10M-row temporary is fresh memory to fault in.
    by_time = None if bool(np.all(times[1:] >= times[:-1])) else np.argsort(times, kind="stable")
    k = keys if by_time is None else keys[by_time]
    t = times if by_time is None else times[by_time]
    bits = max(int(n - 1).bit_length(), 1)
    composite = np.left_shift(k, bits, dtype=np.int64)
    for lo in range(0, n, _SLICE):
        composite[lo:lo + _SLICE] |= np.arange(lo, min(lo + _SLICE, n), dtype=np.int64)
    composite.sort()
    rank = composite & ((1 << bits) - 1)
    composite >>= bits  # the keys, sorted
    t = t[rank]
    follows = composite[1:] == composite[:-1]
    follows &= composite[1:] >= 0
    for lo in range(0, n - 1, _SLICE):
        hi = min(lo + _SLICE, n - 1)
        follows[lo:hi] &= (t[lo + 1:hi + 1] - t[lo:hi]) < ttl
    where = rank if by_time is None else by_time[rank]
    hits[where[1:]] = follows
    reused[where[:-1]] = follows
    return hits, reused


_SLICE = 1 << 20


def replay_lru(keys: np.ndarray, times: np.ndarray, ttl: int, max_entries: int) -> np.ndarray:
    """Hits of a sliding-TTL cache holding at most ``max_entries`` keys, evicting the least recently
    used. Entries past their TTL are the least recently used ones, so they are evicted first."""
    from collections import OrderedDict

    import numpy as np

    order = np.argsort(times, kind="stable")
    hits = np.zeros(len(keys), dtype=bool)
    cache: OrderedDict[int, int] = OrderedDict()
    key_list = keys[order].tolist()
    time_list = times[order].tolist()
    out = []
    for key, now in zip(key_list, time_list, strict=True):
        if key < 0:
            out.append(False)
            continue
        seen = cache.get(key)
        if seen is not None:
            out.append(now - seen < ttl)
            cache.move_to_end(key)
        else:
            out.append(False)
            if len(cache) >= max_entries:
                cache.popitem(last=False)
        cache[key] = now
    hits[order] = np.array(out, dtype=bool)
    return hits


def leading_block_hits(
    blocks: np.ndarray, offsets: np.ndarray, times: np.ndarray, ttl: int
) -> np.ndarray:
    """Provider prefix caching: for request ``r`` with block keys ``blocks[offsets[r]:offsets[r+1]]``,
    how many leading blocks were already cached (touched less than ``ttl`` before). Every request
    touches all its blocks (it reads the cached ones and writes the rest), so each block is a
    sliding-TTL key of its own; the request's cached prefix is the leading run of block hits."""
    return prefix_replay(blocks, offsets, times, ttl)[0]


def prefix_replay(
    blocks: np.ndarray, offsets: np.ndarray, times: np.ndarray, ttl: int
) -> tuple[np.ndarray, np.ndarray]:
    """(leading cached blocks, blocks up to the last one a later request reuses) per request."""
    import numpy as np

    counts = np.diff(offsets)
    n_requests = len(counts)
    if len(blocks) == 0:
        return np.zeros(n_requests, dtype=np.int64), np.zeros(n_requests, dtype=np.int64)
    owner = np.repeat(np.arange(n_requests), counts)
    block_hits, reused = replay_ttl_reuse(blocks, times[owner], ttl)
    position = np.arange(len(blocks)) - offsets[owner]
    first_miss = np.where(block_hits, np.iinfo(np.int64).max, position)
    last_reused = np.where(reused, position + 1, 0)
    lead = counts.astype(np.int64).copy()
    useful = np.zeros(n_requests, dtype=np.int64)
    nonempty = counts > 0
    starts = offsets[:-1][nonempty]
    lead[nonempty] = np.minimum(np.minimum.reduceat(first_miss, starts), counts[nonempty])
    useful[nonempty] = np.maximum.reduceat(last_reused, starts)
    return lead, useful
