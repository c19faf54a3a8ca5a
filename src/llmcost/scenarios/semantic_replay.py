"""The semantic cache replay: requests in timestamp order, one decision per request and threshold.

Rules (docs/scenarios.md, "Semantic cache"). A request is *eligible* when it has prompt text; it is
looked up among the live entries of its partition (the same scope values and, with ``per_model``, the
same logged model). An entry is live at time t when it was inserted less than ``ttl`` before t (a hit
does not refresh it) and, with ``max_entries``, it is among the ``max_entries`` most recently inserted
(the cache evicts its oldest entry when full; expired entries are deleted first, and as insertion is in
time order both remove the oldest). A request is a hit when the most similar live entry has cosine
similarity ≥ the threshold; it is then answered by that entry. A miss inserts an entry. Identical
prompt texts of one partition are one *group* with one vector: while a group has a live entry, its
requests hit it (similarity 1), so a group holds at most one live entry.

How it is computed. The log is cut into slices of ``SLICE`` requests (counted from the start of the
log, so a streamed log is cut where the whole log is). For a slice, the candidate neighbours of each
group are searched among (a) the groups holding a live entry at the slice's start, in any threshold,
and (b) the slice's own groups, exactly. (a) is exact (numpy) for small pools or an HNSW index
(usearch) kept across slices, where expired and evicted entries are deleted. Each candidate's
similarity is then recomputed in float64 from the two vectors, so every path decides on the same
numbers. The decisions are a sequential loop (a hit changes what later requests find, so they cannot
be vectorized); the loop runs once per threshold on the candidates found once. When a group's
candidate list is full and all of it is at or above the threshold yet none is live, more entries may
qualify: that request is decided by an exact search over the whole live pool (``fallbacks``), so with
exact search the decisions are exactly those of the rules above, read whole or in chunks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

SLICE = 1024
NEIGHBOURS = 32
ANN_POOL = 20_000  # a partition's live pool above this is searched with the HNSW index (search: auto)
NONE = -(2**62)
_NOTHING: tuple[list[int], list[float], float] = ([], [], float("-inf"))


@dataclass
class Entries:
    """One threshold's cache: each group's entry (time, insertion rank, log row), and the insertion queue."""

    size: int
    time: np.ndarray = field(init=False)
    rank: np.ndarray = field(init=False)
    ref: np.ndarray = field(init=False)
    queue: deque[tuple[int, int, int]] = field(default_factory=deque)  # (time, group, rank), oldest first
    inserted: int = 0

    def __post_init__(self) -> None:
        import numpy as np

        self.time = np.full(self.size, NONE, dtype=np.int64)
        self.rank = np.zeros(self.size, dtype=np.int64)
        self.ref = np.full(self.size, -1, dtype=np.int64)

    def grow(self, size: int) -> None:
        import numpy as np

        extra = size - len(self.time)
        if extra > 0:
            self.time = np.concatenate([self.time, np.full(extra, NONE, dtype=np.int64)])
            self.rank = np.concatenate([self.rank, np.zeros(extra, dtype=np.int64)])
            self.ref = np.concatenate([self.ref, np.full(extra, -1, dtype=np.int64)])


@dataclass
class ReplayState:
    """Everything a replay carries from one chunk of a log to the next."""

    thresholds: list[float]
    ttl: int
    max_entries: int | None
    search: str
    dims: int = 0
    partitions: dict[tuple[Any, ...], int] = field(default_factory=dict)
    groups: dict[tuple[int, str], int] = field(default_factory=dict)
    vectors: np.ndarray | None = None
    part: np.ndarray | None = None
    entries: list[Entries] = field(default_factory=list)
    pool_count: np.ndarray | None = None  # queue items naming each group, over all thresholds
    pools: dict[int, set[int]] = field(default_factory=dict)  # partition -> groups with count > 0
    indexes: dict[int, Any] = field(default_factory=dict)
    indexed: dict[int, set[int]] = field(default_factory=dict)
    position: int = 0  # requests of the log replayed so far (slices are cut on it)
    open_slice: list[int] = field(default_factory=list)  # groups of a slice a chunk ended in
    fallbacks: int = 0

    def add_groups(self, vectors: np.ndarray, parts: np.ndarray) -> None:
        import numpy as np

        if self.vectors is None:
            self.dims = vectors.shape[1]
            self.vectors, self.part = vectors, parts
            self.pool_count = np.zeros(len(vectors), dtype=np.int64)
            self.entries = [Entries(len(vectors)) for _ in self.thresholds]
            return
        assert self.part is not None and self.pool_count is not None
        self.vectors = np.concatenate([self.vectors, vectors])
        self.part = np.concatenate([self.part, parts])
        self.pool_count = np.concatenate([self.pool_count, np.zeros(len(vectors), dtype=np.int64)])
        for e in self.entries:
            e.grow(len(self.vectors))


@dataclass
class Decisions:
    """A chunk's result per threshold: hits (rows in the chunk's time order) and the log row of the entry
    that answered each hit (-1 for misses)."""

    hits: list[np.ndarray]
    matched: list[np.ndarray]


def pair_sims(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 cosine of row pairs (unit vectors), computed the same way on every path."""
    import numpy as np

    product = np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)
    sims: np.ndarray = product.sum(axis=1)
    return sims


def replay_chunk(state: ReplayState, groups: np.ndarray, times: np.ndarray, rows: np.ndarray,
                 eligible: np.ndarray) -> Decisions:
    """Decide the requests of one chunk, given in time order: their group ids (-1 = not eligible), times
    (int64 ns), log rows. Returns hits and matched entries per threshold, in the same order."""
    import numpy as np

    n = len(groups)
    hits = [np.zeros(n, dtype=bool) for _ in state.thresholds]
    matched = [np.full(n, -1, dtype=np.int64) for _ in state.thresholds]
    with _one_blas_thread():
        _replay_slices(state, groups, times, rows, eligible, hits, matched)
    return Decisions(hits, matched)


def _one_blas_thread() -> Any:
    """The slices' products are small (a slice's groups against a pool of live entries): BLAS threads cost
    more than they bring, and on a busy machine much more (40x measured under load). threadpoolctl comes
    with the semantic extra; without it, BLAS keeps its threads."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the semantic extra installs it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _replay_slices(state: ReplayState, groups: np.ndarray, times: np.ndarray, rows: np.ndarray,
                   eligible: np.ndarray, hits: list[np.ndarray], matched: list[np.ndarray]) -> None:
    import numpy as np

    n = len(groups)
    lo = 0
    while lo < n:
        room = SLICE - state.position % SLICE
        hi = min(n, lo + room)
        fresh = not state.open_slice
        if fresh:
            _expire(state, int(times[lo]))
        slice_groups = np.unique(groups[lo:hi][eligible[lo:hi]])
        carried = np.asarray(state.open_slice, dtype=np.int64)
        members = np.union1d(carried, slice_groups)
        if len(slice_groups):
            queries = _needing_search(state, slice_groups, int(times[hi - 1]), hi - lo)
            cands = _candidates(state, queries, members, fresh) if len(queries) else {}
            near = [np.asarray(c[0], dtype=np.int64) for c in cands.values()]
            touched = np.unique(np.concatenate([slice_groups, *near]))
            for i in range(len(state.thresholds)):
                _decide(state, i, cands, groups, times, rows, eligible, lo, hi, hits[i], matched[i], members,
                        touched)
        state.position += hi - lo
        state.open_slice = [] if state.position % SLICE == 0 else [int(g) for g in members]
        lo = hi


def _needing_search(state: ReplayState, groups: np.ndarray, last: int, rows: int) -> np.ndarray:
    """The groups whose own entry may be missing at some point of the slice in some threshold. The others
    hold an entry live until the slice's last request (not expiring, not evictable by its ``rows``
    insertions): their requests all hit it (similarity 1) and never look at neighbours."""
    import numpy as np

    need = np.zeros(len(groups), dtype=bool)
    for e in state.entries:
        live = e.time[groups] > last - state.ttl
        if state.max_entries is not None:
            live &= e.rank[groups] >= e.inserted + rows - state.max_entries
        need |= ~live
    return groups[need]


def _expire(state: ReplayState, now: int) -> None:
    """At a slice's start: drop from each queue the entries expired or evicted since, and keep the pools
    (and the HNSW indexes) to the groups still holding a live entry in some threshold."""
    if state.pool_count is None or state.part is None:
        return
    for e in state.entries:
        while e.queue:
            when, group, rank = e.queue[0]
            evicted = state.max_entries is not None and rank < e.inserted - state.max_entries
            if when > now - state.ttl and not evicted:
                break
            e.queue.popleft()
            state.pool_count[group] -= 1
            if state.pool_count[group] == 0:
                state.pools[int(state.part[group])].discard(group)


def _candidates(state: ReplayState, queries: np.ndarray, members: np.ndarray,
                fresh: bool) -> dict[int, tuple[list[int], list[float], float]]:
    """For each query group: candidate groups (most similar first), their float64 similarities, and the
    similarity above which the list is complete (a search cut at NEIGHBOURS may have left out groups at
    or below it; -inf when nothing was cut)."""
    import numpy as np

    assert state.vectors is not None and state.part is not None
    low = min(state.thresholds)
    vec, part = state.vectors, state.part
    qp = part[queries]
    found_q: list[np.ndarray] = []
    found_c: list[np.ndarray] = []
    cut = np.full(len(queries), -np.inf)
    mp = part[members]
    for p in np.unique(qp):
        at = np.flatnonzero(qp == p)
        # (b) the slice's own groups of the partition, exactly
        own = members[mp == p]
        _top(queries[at], own, vec[queries[at]] @ vec[own].T, low, found_q, found_c, cut, at)
        # (a) groups holding a live entry at the slice's start
        pool = state.pools.get(int(p))
        if not pool:
            continue
        pool_ids = np.fromiter(pool, dtype=np.int64, count=len(pool))
        if not _use_ann(state, int(p), len(pool_ids), fresh):
            _top(queries[at], pool_ids, vec[queries[at]] @ vec[pool_ids].T, low, found_q, found_c, cut, at)
        else:
            _ann(state, int(p), pool_ids, queries[at], at, low, found_q, found_c, cut, fresh)
    q = np.concatenate(found_q) if found_q else np.zeros(0, dtype=np.int64)
    c = np.concatenate(found_c) if found_c else np.zeros(0, dtype=np.int64)
    keep = q != c
    q, c = q[keep], c[keep]
    pair = np.unique(np.stack([q, c], axis=1), axis=0) if len(q) else np.zeros((0, 2), dtype=np.int64)
    s = pair_sims(vec[pair[:, 0]], vec[pair[:, 1]]) if len(pair) else np.zeros(0)
    ok = s >= low
    pair, s = pair[ok], s[ok]
    order = np.lexsort((pair[:, 1], -s, pair[:, 0]))
    pair, s = pair[order], s[order]
    out: dict[int, tuple[list[int], list[float], float]] = {}
    starts = np.searchsorted(pair[:, 0], queries)
    ends = np.searchsorted(pair[:, 0], queries, side="right")
    for j, g in enumerate(queries.tolist()):
        a, b = int(starts[j]), int(ends[j])
        out[g] = (pair[a:b, 1].tolist(), s[a:b].tolist(), float(cut[j]))
    return out


def _top(queries: np.ndarray, keys: np.ndarray, sims: np.ndarray, low: float, found_q: list[np.ndarray],
         found_c: list[np.ndarray], cut: np.ndarray, at: np.ndarray) -> None:
    """The keys of each query at or above ``low`` (float32 sims, a small margin under it): all of them, or
    the NEIGHBOURS + 1 most similar (one may be the query itself) where more are that close, the list then
    being complete only above ``cut``. Only the rows over the limit are partially sorted."""
    import numpy as np

    if sims.shape[1] == 0:
        return
    near = sims >= low - 1e-4
    k = NEIGHBOURS + 1
    over = np.flatnonzero(near.sum(axis=1) > k)
    if len(over):
        sub = sims[over]
        top = np.argpartition(-sub, k - 1, axis=1)[:, :k]
        cut[at[over]] = np.maximum(cut[at[over]], np.take_along_axis(sub, top, axis=1).min(axis=1) + 1e-4)
        near[over] = False
        near[over[:, None], top] = True
    rows, cols = np.nonzero(near)
    found_q.append(queries[rows])
    found_c.append(keys[cols])


def _use_ann(state: ReplayState, p: int, pool: int, fresh: bool) -> bool:
    """Search partition ``p`` with its HNSW index: always (``ann``), never (``exact``), or from the first
    slice start at which its live pool passes ANN_POOL (``auto``; then for good, so a streamed log switches
    where the whole log does)."""
    if state.search != "auto":
        return state.search == "ann"
    return p in state.indexes or (fresh and pool > ANN_POOL)


def _ann(state: ReplayState, p: int, pool_ids: np.ndarray, queries: np.ndarray, at: np.ndarray, low: float,
         found_q: list[np.ndarray], found_c: list[np.ndarray], cut: np.ndarray, fresh: bool) -> None:
    """The HNSW index of partition ``p`` brought to the live pool (deletions of expired and evicted
    entries, additions of new ones; single-threaded, so the graph is the same run after run), then searched."""
    import numpy as np

    assert state.vectors is not None
    index = state.indexes.get(p)
    if index is None:
        from usearch.index import Index

        index = Index(ndim=state.dims, metric="cos", dtype="i8", connectivity=16, expansion_add=64,
                      expansion_search=96)
        state.indexes[p], state.indexed[p] = index, set()
    indexed = state.indexed[p]
    if fresh:
        wanted = set(pool_ids.tolist())
        gone = np.fromiter(indexed - wanted, dtype=np.int64)
        new = np.fromiter(wanted - indexed, dtype=np.int64)
        if len(gone):
            index.remove(np.sort(gone))
        if len(new):
            new.sort()
            index.add(new, state.vectors[new], threads=1)
        state.indexed[p] = wanted
    if len(index) == 0:
        return
    k = min(NEIGHBOURS + 1, len(index))
    result = index.search(state.vectors[queries], k, threads=2)
    keys = np.asarray(result.keys, dtype=np.int64).reshape(len(queries), -1)
    sims = 1 - np.asarray(result.distances, dtype=np.float32).reshape(len(queries), -1)
    valid = (keys >= 0) & (keys < len(state.vectors))
    near = valid & (sims >= low - 2e-2)  # i8 quantized distances: a wider margin, then float64
    if k < len(index):
        cut[at] = np.maximum(cut[at], np.where(valid, sims, np.inf).min(axis=1) + 2e-2)
    found_q.append(np.repeat(queries, keys.shape[1])[near.ravel()])
    found_c.append(keys.ravel()[near.ravel()])


def _decide(state: ReplayState, i: int, cands: dict[int, tuple[list[int], list[float], float]],
            groups: np.ndarray, times: np.ndarray, rows: np.ndarray, eligible: np.ndarray, lo: int, hi: int,
            hits: np.ndarray, matched: np.ndarray, members: np.ndarray, touched: np.ndarray) -> None:
    """The sequential decisions of rows lo..hi at threshold ``thresholds[i]`` (``touched``: the groups of
    these rows and their candidates)."""
    import numpy as np

    assert state.pool_count is not None and state.part is not None
    e = state.entries[i]
    tau = state.thresholds[i]
    ttl, cap = state.ttl, state.max_entries
    pool_count, part, pools = state.pool_count, state.part, state.pools
    g_list, t_list, r_list = groups[lo:hi].tolist(), times[lo:hi].tolist(), rows[lo:hi].tolist()
    ok_list = eligible[lo:hi].tolist()
    # The entries this slice can read, as Python dicts (numpy scalar reads cost ~10x a dict's); every
    # insertion is written to both, so the arrays stay current for the exact fallback and the next slice.
    ids = touched.tolist()
    e_time = dict(zip(ids, e.time[touched].tolist(), strict=True))
    e_rank = dict(zip(ids, e.rank[touched].tolist(), strict=True))
    e_ref = dict(zip(ids, e.ref[touched].tolist(), strict=True))
    hit_at: list[int] = []
    hit_ref: list[int] = []
    for j in range(hi - lo):
        if not ok_list[j]:
            continue
        g, t = g_list[j], t_list[j]
        oldest = -1 if cap is None else e.inserted - cap
        if e_time[g] > t - ttl and e_rank[g] >= oldest:
            hit_at.append(j)
            hit_ref.append(e_ref[g])
            continue
        found = -1
        cand, sims, cut = cands.get(g, _NOTHING)
        for c, s in zip(cand, sims, strict=True):
            if s < tau:
                break
            if e_time[c] > t - ttl and e_rank[c] >= oldest:
                found = c
                break
        if found < 0 and cut >= tau:  # the search was cut where entries at or above tau may remain
            found = _exact(state, e, g, t, tau, oldest, members)
        if found >= 0:
            hit_at.append(j)
            hit_ref.append(int(e.ref[found]))
            continue
        e_time[g], e_rank[g], e_ref[g] = t, e.inserted, r_list[j]
        e.time[g], e.rank[g], e.ref[g] = t, e.inserted, r_list[j]
        e.queue.append((t, g, e.inserted))
        e.inserted += 1
        pool_count[g] += 1
        if pool_count[g] == 1:
            pools.setdefault(int(part[g]), set()).add(g)
    if hit_at:
        at = np.asarray(hit_at, dtype=np.int64) + lo
        hits[at] = True
        matched[at] = hit_ref


def _exact(state: ReplayState, e: Entries, g: int, t: int, tau: float, oldest: int, members: np.ndarray) -> int:
    """The most similar live entry of ``g``'s partition at or above ``tau`` by exact search (-1: none)."""
    import numpy as np

    assert state.vectors is not None and state.part is not None
    state.fallbacks += 1
    p = int(state.part[g])
    pool = state.pools.get(p, set())
    ids = np.union1d(np.fromiter(pool, dtype=np.int64, count=len(pool)), members[state.part[members] == p])
    ids = ids[ids != g]
    live = (e.time[ids] > t - state.ttl) & (e.rank[ids] >= oldest)
    ids = ids[live]
    if not len(ids):
        return -1
    sims = pair_sims(state.vectors[ids], np.broadcast_to(state.vectors[g], (len(ids), state.dims)))
    best = int(np.argmax(sims))
    return int(ids[best]) if sims[best] >= tau else -1
