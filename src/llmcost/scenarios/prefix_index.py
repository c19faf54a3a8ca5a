"""Prefix blocks of a whole log, encoded once and shared by every prompt-cache replay of a run.

``prefix_hashes`` is a list column: tens of millions of block ids for a 10M-request log. Carried
through each strategy as a list column, every row filter copies it (an Arrow ``take``), and each
replay would flatten, encode and sort it again. Instead the run encodes it once (:func:`prepare`):
the frame keeps only ``prefix_row`` (the row's position in the encoded log, an int) and the blocks
live here as flat integer codes with row offsets. The expensive step of a replay, ordering every
block occurrence by (block, time), does not depend on the scenario, so it is done once, lazily,
and each replay only filters it by the model that serves each request.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.interface import Shared

ROW_COLUMN = "request_row"  # the request's row number in the log (stable under filtering and chunking)
_SLICE = 1 << 22  # elements per slice when building big arrays piecewise
# Above this many models in one replay, partition by model with one stable (radix) sort
# instead of one filtering pass per model.
_LOOP_MODELS = 8


@dataclass
class _ByBlock:
    """Every block occurrence ordered by (block code, time, row, position)."""

    element: np.ndarray  # element index (into codes) of each sorted position
    code: np.ndarray  # block code at each sorted position
    owner: np.ndarray  # base row of each sorted position


@dataclass
class PrefixIndex:
    """Block codes of every base row (flattened in row order) and the rows' times."""

    codes: np.ndarray
    offsets: np.ndarray
    has_blocks: np.ndarray  # per base row: the log gave prefix_hashes
    times: np.ndarray  # per base row, int64 ns
    first_row: int = 0  # request_row of base row 0 (a chunk's offset in the log)
    uniques: np.ndarray | None = None  # block id of each code (None: code + low is the id)
    low: int = 0
    _by_block: _ByBlock | None = field(default=None, repr=False)

    def raw(self, codes: np.ndarray) -> np.ndarray:
        """The logged block ids of ``codes`` (comparable across chunks, unlike the codes)."""
        import numpy as np

        if self.uniques is not None:
            return np.asarray(self.uniques[codes])
        return codes.astype(np.int64) + self.low

    @property
    def rows(self) -> int:
        return len(self.offsets) - 1

    def owner(self) -> np.ndarray:
        import numpy as np

        counts = np.diff(self.offsets)
        return np.repeat(np.arange(self.rows, dtype=np.int32 if self.rows < 2**31 else np.int64), counts)

    def elements_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(element indices, offsets) of ``rows`` (base row ids, any order, repeats allowed), without a loop."""
        import numpy as np

        counts = np.diff(self.offsets)[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        starts = np.repeat(self.offsets[:-1][rows] - offsets[:-1], counts)
        elements: np.ndarray = starts + np.arange(offsets[-1], dtype=np.int64)
        return elements, offsets

    def blocks_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes, offsets) of ``rows``, as ``elements_of``."""
        import numpy as np

        if len(rows) > 1 and bool(np.all(rows[1:] > rows[:-1])):  # rows in order: a mask of the elements
            counts = np.diff(self.offsets)
            taken = np.zeros(self.rows, dtype=bool)
            taken[rows] = True
            offsets = np.zeros(len(rows) + 1, dtype=np.int64)
            np.cumsum(counts[rows], out=offsets[1:])
            return self.codes[np.repeat(taken, counts)], offsets
        elements, offsets = self.elements_of(rows)
        return self.codes[elements], offsets

    def by_block(self) -> _ByBlock:
        """The shared ordering, computed on first use (a stable sort of the block codes in time order)."""
        import numpy as np

        if self._by_block is not None:
            return self._by_block
        in_time = None  # element order is time order when the rows are
        if not bool(np.all(self.times[1:] >= self.times[:-1])):
            in_time = self.elements_of(np.argsort(self.times, kind="stable"))[0]
        codes = self.codes if in_time is None else self.codes[in_time]
        small = np.int32 if len(codes) < 2**31 else np.int64
        found = _counting_sort(codes)
        element, code = found if found is not None else _composite_sort(codes)
        if in_time is not None:
            element = in_time[element]
        element = element.astype(small, copy=False)
        self._by_block = _ByBlock(element, code, self.owner()[element])
        return self._by_block

    def replay(self, rows: np.ndarray, models: np.ndarray, touching: np.ndarray, ttl: int,
               reuse: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(leading cached blocks, blocks up to the last one a later request reuses, blocks) per row.

        ``rows`` are the base rows of the frame being replayed, ``models`` their model codes and
        ``touching`` the rows that reach the cache (the others neither read nor write; their values
        are meaningless). A block is cached for a request when the same model touched it less than
        ``ttl`` ns before. Without ``reuse`` the second value is not computed (zeros).
        """
        import numpy as np

        counts = np.diff(self.offsets)[rows]
        in_order = bool(np.all(rows[1:] > rows[:-1]))
        if not in_order and int(np.bincount(rows, minlength=self.rows).max(initial=0)) > 1:
            # rows repeated (a cascade tries a request at two models): replay the rows as they stand
            return (*self._replay_rows(rows, models, touching, ttl), counts)
        model_of = np.full(self.rows, -1, dtype=np.int16 if int(models.max(initial=0)) < 2**15 else np.int64)
        model_of[rows[touching]] = models[touching]
        misses, reused = self._misses_by_element(model_of, ttl, reuse)
        lead, useful = _leading_runs(misses, reused, self.offsets, self.owner())
        return lead[rows], useful[rows], counts

    def _misses_by_element(self, model_of: np.ndarray, ttl: int,
                           reuse: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Per element (row order): touched and not cached; and, with ``reuse``, read by a later request.
        Only misses are written back (far fewer than hits), which keeps the random writes down."""
        import numpy as np

        from llmcost.engines.threads import parallel_map

        order = self.by_block()
        n = len(self.codes)
        model = model_of[order.owner]
        wanted = np.flatnonzero(np.bincount(model_of[model_of >= 0]))
        missed = np.zeros(n, dtype=bool)
        reused = np.zeros(n, dtype=bool) if reuse else None
        if len(wanted) <= _LOOP_MODELS:
            groups = (np.flatnonzero(model == m) for m in wanted)
        else:
            by_model = np.argsort(model, kind="stable")
            bounds = np.searchsorted(model[by_model], wanted)
            ends = np.searchsorted(model[by_model], wanted, side="right")
            groups = (by_model[a:b] for a, b in zip(bounds, ends, strict=True))
        def run(idx: np.ndarray) -> None:  # one model's touches of a range of blocks
            code = order.code[idx]
            when = self.times[order.owner[idx]]
            follows = np.zeros(len(idx), dtype=bool)  # the first touch of each model misses
            follows[1:] = (code[1:] == code[:-1]) & ((when[1:] - when[:-1]) < ttl)
            missed[order.element[idx[~follows]]] = True  # pieces write disjoint elements
            if reused is not None:
                reused[order.element[idx[:-1][follows[1:]]]] = True

        parallel_map(run, [piece for idx in groups for piece in _block_ranges(idx, order.code)])
        return missed, reused

    def _replay_rows(self, rows: np.ndarray, models: np.ndarray, touching: np.ndarray,
                     ttl: int) -> tuple[np.ndarray, np.ndarray]:
        """The general path: gather the rows' blocks and replay them as they stand."""
        import numpy as np

        from llmcost.scenarios.replay import prefix_replay

        codes, offsets = self.blocks_of(rows)
        counts = np.diff(offsets)
        owner = np.repeat(np.arange(len(rows)), counts)
        n_models = int(models.max(initial=0)) + 1
        keys = np.where(touching[owner], codes.astype(np.int64) * n_models + models[owner], -1)
        keep = keys >= 0
        kept_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=len(rows)), out=kept_offsets[1:])
        return prefix_replay(keys[keep], kept_offsets, self.times[rows], ttl)


def _block_ranges(idx: np.ndarray, code: np.ndarray) -> list[np.ndarray]:
    """``idx`` (one model's positions in block order) cut into pieces for the run's threads, each cut
    at the start of a block's run: a block's touches stay in one piece, so pieces replay apart."""
    import numpy as np

    from llmcost.engines.threads import current_workers

    jobs = current_workers()
    if jobs <= 1 or len(idx) < _PIECE_MIN:
        return [idx]
    codes = code[idx]
    wanted = np.linspace(0, len(idx), 2 * jobs + 1).astype(np.int64)[1:-1]
    cuts = np.unique(np.searchsorted(codes, codes[wanted], side="left"))
    return [p for p in np.split(idx, cuts) if len(p)]


_PIECE_MIN = 1 << 18


def key_order(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions of ``keys`` in stable sorted order, and for each sorted position after the first whether
    its key equals the one before), for non-negative int keys: the sorted keys themselves are never
    materialized when a counting sort can take them (group boundaries come from its counts)."""
    import numpy as np

    found = _counting_groups(keys)
    if found is None:
        order, ordered = _composite_sort(keys)
        return order, ordered[1:] == ordered[:-1]
    order, counts = found
    same = np.ones(max(len(keys) - 1, 0), dtype=bool)
    ends = np.cumsum(counts)[:-1]  # where each key's run ends in the sorted order (the last one: the end)
    same[ends[(ends > 0) & (ends < len(keys))] - 1] = False
    return order, same


def _counting_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(order, count of each code 0..max) by pandas' counting sort, or None when it cannot take them."""
    import numpy as np

    n_groups = int(codes.max(initial=-1)) + 1
    if n_groups == 0 or n_groups > 2 * len(codes) + 1024:
        return None
    try:
        groupsort_indexer = importlib.import_module("pandas._libs.algos").groupsort_indexer
        order, counts = groupsort_indexer(codes.astype(np.intp, copy=False), n_groups)
    except (ImportError, AttributeError, TypeError, ValueError):  # pragma: no cover - a pandas without it
        return None
    if len(order) != len(codes) or len(counts) != n_groups + 1:  # pragma: no cover
        return None
    return np.asarray(order), np.asarray(counts[1:])


def _counting_sort(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(order, sorted codes) by pandas' counting sort (O(n), stable), about twice as fast as the
    composite sort at 50M elements. It is a private pandas function, so any surprise falls back."""
    import numpy as np

    found = _counting_groups(codes)
    if found is None:
        return None
    order, counts = found
    return order, np.repeat(np.arange(len(counts), dtype=codes.dtype), counts)


def _composite_sort(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, sorted codes) by one in-place sort of (code << bits | position), built and split in
    slices to keep peak memory low (fresh memory is slow to touch on small VMs)."""
    import numpy as np

    n = len(codes)
    bits = max(int(n - 1).bit_length(), 1)
    composite = np.arange(n, dtype=np.int64)
    for lo in range(0, n, _SLICE):
        hi = min(lo + _SLICE, n)
        composite[lo:hi] |= codes[lo:hi].astype(np.int64) << bits
    composite.sort()
    element = np.empty(n, dtype=np.int64)
    for lo in range(0, n, _SLICE):
        hi = min(lo + _SLICE, n)
        element[lo:hi] = composite[lo:hi] & ((1 << bits) - 1)
    composite >>= bits
    return element, composite.astype(codes.dtype)


def _leading_runs(missed: np.ndarray, reused: np.ndarray | None, offsets: np.ndarray,
                  owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: blocks before its first miss, and blocks up to its last reused one (elements in row order)."""
    import numpy as np

    counts = np.diff(offsets)
    lead = counts.astype(np.int64)
    misses = np.flatnonzero(missed)
    miss_row = owner[misses]
    first = np.ones(len(misses), dtype=bool)
    first[1:] = miss_row[1:] != miss_row[:-1]
    first_row = miss_row[first]
    lead[first_row] = misses[first] - offsets[first_row]
    useful = np.zeros(len(counts), dtype=np.int64)
    if reused is None:
        return lead, useful
    kept = np.flatnonzero(reused)
    kept_row = owner[kept]
    last = np.ones(len(kept), dtype=bool)
    last[:-1] = kept_row[1:] != kept_row[:-1]
    useful[kept_row[last]] = kept[last] - offsets[:-1][kept_row[last]] + 1
    return lead, useful


def encode_blocks(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | int]:
    """(codes, offsets, has_blocks, decode) of a list column, via Arrow (no per-row Python); ``decode``
    is the block id of each code (an array) or the id of code 0 (an int: ids are codes + it).

    Integer ids within a 2**31 range are used as they are (shifted to start at 0); other ids
    (strings, 64-bit hashes) are factorized.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    arr = pa.array(column, from_pandas=True) if not isinstance(column.dtype, pd.ArrowDtype) \
        else column.array.__arrow_array__()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_null(arr.type):  # every row without blocks (a chunk of a log that has them elsewhere)
        arr = pa.nulls(len(arr), pa.list_(pa.int64()))
    has_blocks = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if arr.null_count:
        arr = arr.fill_null(pa.scalar([], type=arr.type))
    offsets = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    flat = arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    offsets = offsets - offsets[0]
    values = flat.to_numpy(zero_copy_only=False)
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < 2**31:
            return (values - low).astype(np.int32), offsets, has_blocks, low
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int32 if len(uniques) < 2**31 else np.int64), offsets, has_blocks, np.asarray(uniques)


def prepare(frame: pd.DataFrame, first_row: int = 0,
            blocks: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | int] | None = None,
            ) -> tuple[pd.DataFrame, Shared]:
    """The frame numbered (``request_row``, from ``first_row``) with ``prefix_hashes`` encoded into an
    index (``blocks``: what ``encode_blocks`` gave for this frame's column, if done already), and what
    its scenarios share."""
    import numpy as np

    from llmcost.scenarios.common import times_ns
    from llmcost.scenarios.interface import Shared

    out = frame.drop(columns=["prefix_hashes"]) if "prefix_hashes" in frame.columns else frame.copy(deep=False)
    out[ROW_COLUMN] = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    if "prefix_hashes" not in frame.columns:
        return out, Shared()
    codes, offsets, has_blocks, decode = encode_blocks(frame["prefix_hashes"]) if blocks is None else blocks
    index = PrefixIndex(codes, offsets, has_blocks, times_ns(frame), first_row,
                        uniques=decode if not isinstance(decode, int) else None,
                        low=decode if isinstance(decode, int) else 0)
    return out, Shared(prefix=index)
