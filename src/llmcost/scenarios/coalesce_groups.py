"""The arrays half of request coalescing: cutting requests into groups, and the prefix blocks a group's
members share. No pandas here: every input is a numpy array over the rows being grouped (the rows
carried from earlier chunks first, then the chunk's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from llmcost.scenarios.prefix_index import PrefixIndex


@dataclass
class Groups:
    """The rows in (scope, time) order, cut into groups."""

    order: np.ndarray  # row of each sorted position
    starts: np.ndarray  # first sorted position of each group
    sizes: np.ndarray
    flush: np.ndarray  # ns, when each group is sent
    closed: np.ndarray  # bool per group (False: a later row may still join it)
    times: np.ndarray  # ns, of each sorted position


def _sorted_by_scope(scope: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """(order, composite, bits, times in time order): rows sorted by (scope, time, row) and the sorted
    composite keys ``scope << bits | rank in time``. A log in time order with few scopes is a radix sort."""
    import numpy as np

    n = len(times)
    bits = max(n.bit_length(), 1)
    if bool(np.all(times[1:] >= times[:-1])):
        small = scope.astype(np.int16) if int(scope.max(initial=0)) < 2**15 else scope
        order = np.argsort(small, kind="stable")
        return order, (scope[order] << bits) | order, bits, times
    by_time = np.argsort(times, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_time] = np.arange(n, dtype=np.int64)
    composite = np.sort((scope << bits) | rank)
    return by_time[composite & ((1 << bits) - 1)], composite, bits, times[by_time]


def group_starts(scope: np.ndarray, times: np.ndarray, window: int, max_batch: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, starts): see ``_partition``."""
    order, starts, _ = _partition(scope, times, window, max_batch)
    return order, starts


def _partition(scope: np.ndarray, times: np.ndarray, window: int,
               max_batch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, starts, sorted times): the greedy partition (see ``scenarios.coalesce``). ``scope`` are non-negative
    int64 codes, ``times`` int64 in the unit of ``window``.

    For each sorted position, the position where a group opened there ends is one ``searchsorted``: the
    first row of its scope at or after ``t + window``, at most ``max_batch`` rows on. A row certainly
    opens a group when it starts its scope or comes a window or more after the row before it; only runs
    of rows closer than that need the jump loop, one step per group."""
    import numpy as np

    order, composite, bits, in_time = _sorted_by_scope(scope, times)
    n = len(order)
    sorted_times = times[order]
    sorted_scope = composite >> bits
    new_scope = np.ones(n, dtype=bool)
    new_scope[1:] = sorted_scope[1:] != sorted_scope[:-1]
    hard = new_scope.copy()
    hard[1:] |= sorted_times[1:] - sorted_times[:-1] >= window
    starts = hard.copy()
    bounds = np.append(np.flatnonzero(hard), n)
    long_runs = np.flatnonzero(np.diff(bounds) > 1)
    if len(long_runs):
        rank = sorted_scope if int(sorted_scope[-1]) < 2**20 else np.cumsum(new_scope) - 1
        key = _time_key(rank, sorted_times, window)
        if key is None:  # times too far apart to key (scope, time) in one int64: by rank in time instead
            def ends(at: np.ndarray) -> np.ndarray:
                threshold = np.searchsorted(in_time, sorted_times[at] + window, side="left")
                found: np.ndarray = np.searchsorted(composite, (sorted_scope[at] << bits) | threshold, side="left")
                capped: np.ndarray = np.minimum(found, at + max_batch)
                return capped
        else:
            def ends(at: np.ndarray) -> np.ndarray:
                found: np.ndarray = np.searchsorted(key, key[at] + window, side="left")
                capped: np.ndarray = np.minimum(found, at + max_batch)
                return capped
        _walk(ends, bounds[long_runs], bounds[long_runs + 1], starts)
    return order, np.flatnonzero(starts), sorted_times


def _walk(ends: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, starts: np.ndarray) -> None:
    """Mark the group starts of each run ``[lo, hi)`` (its first row is marked): every run takes one jump
    (``ends``: where a group opened at a position ends) per step, all runs at once, until few are left;
    those finish one jump at a time over their rows' ends, computed together."""
    import numpy as np

    at = ends(lo)
    while len(at) > 256:
        inside = at < hi
        at, hi = at[inside], hi[inside]
        starts[at] = True
        at = ends(at)
    inside = at < hi
    at, hi = at[inside], hi[inside]
    if not len(at):
        return
    counts = hi - at
    rows = np.repeat(at - np.cumsum(np.append(0, counts[:-1])), counts) + np.arange(int(counts.sum()))
    nxt = dict(zip(rows.tolist(), ends(rows).tolist(), strict=True))
    for i, end in zip(at.tolist(), hi.tolist(), strict=True):
        while i < end:
            starts[i] = True
            i = nxt[i]


def _time_key(rank: np.ndarray, sorted_times: np.ndarray, window: int) -> np.ndarray | None:
    """For rows sorted by (scope, time), the monotone key ``scope rank · stride + t − t_min`` in which the
    end of a window is one search (None when it would not fit in an int64)."""
    low = int(sorted_times.min())
    stride = int(sorted_times.max()) - low + window + 1
    if stride * (int(rank[-1]) + 1) >= 2**62:
        return None
    key: np.ndarray = rank * stride + (sorted_times - low)
    return key


def cut(scope: np.ndarray, times: np.ndarray, window: int, max_batch: int, latest: int | None) -> Groups:
    """Groups of the rows; with ``latest`` (a streamed chunk, not the last), a scope's last group that a
    later row (arriving at ``latest`` or after) could still join stays open."""
    import numpy as np

    order, starts, sorted_times = _partition(scope, times, window, max_batch)
    sizes = np.diff(np.append(starts, len(order)))
    first = sorted_times[starts]
    full = sizes >= max_batch
    flush = np.where(full, sorted_times[starts + sizes - 1], first + window)
    closed = np.ones(len(starts), dtype=bool)
    if latest is not None and len(starts):
        group_scope = scope[order[starts]]
        last_of_scope = np.append(group_scope[1:] != group_scope[:-1], True)
        closed = ~last_of_scope | full | (first + window <= latest)
    return Groups(order, starts, sizes, flush, closed, sorted_times)


@dataclass
class BlockSource:
    """Prefix blocks of the rows being grouped: the carried rows' logged block ids (flat, with offsets),
    then the chunk's rows looked up in its prefix index (``base``: the row in the index, -1 = none)."""

    carried: np.ndarray
    carried_offsets: np.ndarray
    index: PrefixIndex | None
    base: np.ndarray
    _counts: np.ndarray | None = field(default=None, repr=False)

    def counts(self) -> np.ndarray:
        """Blocks per row (computed once)."""
        import numpy as np

        if self._counts is None:
            own = np.zeros(len(self.base), dtype=np.int64)
            if self.index is not None:
                known = self.base >= 0
                own[known] = np.diff(self.index.offsets)[self.base[known]]
            self._counts = np.concatenate([np.diff(self.carried_offsets), own])
        return self._counts

    def at(self, rows: np.ndarray, position: int) -> np.ndarray:
        """The logged id of block ``position`` of each of ``rows`` (each has more blocks than that)."""
        import numpy as np

        carried = len(self.carried_offsets) - 1
        old = rows < carried
        parts = [self.carried[self.carried_offsets[rows[old]] + position]]
        if self.index is not None:
            index = self.index
            parts.append(index.raw(index.codes[index.offsets[self.base[rows[~old] - carried]] + position]))
        out = np.empty(len(rows), dtype=np.result_type(*(p.dtype for p in parts)))
        out[old] = parts[0]
        if len(parts) > 1:
            out[~old] = parts[1]
        return out

    def flat(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logged ids, offsets) of ``rows``' blocks, to carry them to the next chunk."""
        import numpy as np

        counts = self.counts()[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        owner = np.repeat(np.arange(len(rows)), counts)
        position = np.arange(offsets[-1], dtype=np.int64) - offsets[:-1][owner]
        ids = np.empty(int(offsets[-1]), dtype=self.carried.dtype if self.index is None
                       else np.result_type(self.carried.dtype, self.index.raw(self.index.codes[:0]).dtype))
        for j in range(int(counts.max(initial=0))):
            here = position == j
            ids[here] = self.at(rows[owner[here]], j)
        return ids, offsets


@dataclass
class Pairs:
    """Every member of a group of two or more paired with the group's first request, group by group."""

    member: np.ndarray  # rows
    first: np.ndarray  # rows
    segments: np.ndarray  # where each such group's pairs begin
    multi: np.ndarray  # bool per group: two or more members
    group: np.ndarray  # per pair, its group among the groups of two or more

    @classmethod
    def of(cls, groups: Groups) -> Pairs:
        import numpy as np

        multi = groups.sizes > 1
        starts, others = groups.starts[multi], groups.sizes[multi] - 1
        segments = np.zeros(len(starts), dtype=np.int64)
        np.cumsum(others[:-1], out=segments[1:])
        total = int(others.sum())
        positions = np.repeat(starts + 1 - segments, others) + np.arange(total, dtype=np.int64)
        return cls(groups.order[positions], groups.order[np.repeat(starts, others)], segments, multi,
                   np.repeat(np.arange(len(starts), dtype=np.int64), others))

    def least(self, values: np.ndarray) -> np.ndarray:
        """Per group of two or more, the least of ``values`` over its pairs."""
        import numpy as np

        out: np.ndarray = np.minimum.reduceat(values, self.segments) if len(self.segments) else values[:0]
        return out


def shared_blocks(source: BlockSource, pairs: Pairs) -> np.ndarray:
    """Per group of two or more, the leading blocks every member shares: the least, over its members,
    of the common leading run with the group's first request (a member without blocks shares none)."""
    import numpy as np

    member, first = pairs.member, pairs.first
    lead = np.zeros(len(member), dtype=np.int64)
    carried = len(source.carried_offsets) - 1
    fast = (member >= carried) & (first >= carried)
    index = source.index
    if index is not None and fast.any():  # both rows in this chunk: compare the index's codes in place
        every = bool(fast.all())
        at_member = source.base[(member if every else member[fast]) - carried]
        at_first = source.base[(first if every else first[fast]) - carried]
        offsets = index.offsets
        member_start, first_start = offsets[at_member], offsets[at_first]
        limit = np.minimum(offsets[at_member + 1] - member_start, offsets[at_first + 1] - first_start)
        limit[(at_member < 0) | (at_first < 0)] = 0  # a row without blocks shares none
        found = _common_codes(index.codes, member_start, first_start, limit,
                              pairs.group if every else pairs.group[fast])
        if every:
            lead = found
        else:
            lead[fast] = found
    slow = ~fast
    if slow.any():
        m, f = member[slow], first[slow]
        counts = source.counts()
        lead[slow] = _common_run(lambda rows, j: source.at(m[rows], j), lambda rows, j: source.at(f[rows], j),
                                 np.minimum(counts[m], counts[f]))
    return pairs.least(lead)


def _common_codes(codes: np.ndarray, left: np.ndarray, right: np.ndarray, limit: np.ndarray,
                  group: np.ndarray) -> np.ndarray:
    """``_common_run`` over one flat array of codes, from start positions ``left`` and ``right``. Only
    each ``group``'s least run matters: once one of its pairs stops, so do the others (their run is at
    least as long, and they report where they stopped)."""
    import numpy as np

    lead = np.zeros(len(limit), dtype=np.int64)
    stopped = np.zeros(int(group.max(initial=-1)) + 1, dtype=bool)
    stopped[group[limit == 0]] = True
    alive = np.flatnonzero(limit > 0)
    position = 0
    while len(alive):
        alive = alive[~stopped[group[alive]]]
        same = codes[left[alive] + position] == codes[right[alive] + position]
        stopped[group[alive[~same]]] = True
        position += 1
        alive = alive[same]
        lead[alive] = position
        ended = limit[alive] <= position
        stopped[group[alive[ended]]] = True
        alive = alive[~ended]
    return lead


def _common_run(left: Callable[[np.ndarray, int], np.ndarray], right: Callable[[np.ndarray, int], np.ndarray],
                limit: np.ndarray) -> np.ndarray:
    """Per pair, how many leading positions (up to ``limit``) hold equal blocks; position by position, on
    the pairs still equal, so the work is the length of the common runs."""
    import numpy as np

    lead = np.zeros(len(limit), dtype=np.int64)
    alive = np.flatnonzero(limit > 0)
    position = 0
    while len(alive):
        alive = alive[left(alive, position) == right(alive, position)]
        position += 1
        lead[alive] = position
        alive = alive[limit[alive] > position]
    return lead
