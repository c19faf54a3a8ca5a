"""Cache replays across chunks: each chunk is replayed after the rows of earlier chunks that can still
matter, so a streamed log gets exactly the hits of the whole log replayed at once.

With sliding expiration a request hits only if its key was touched less than ``ttl`` before it, so
once the chunks arrive in time order, the only earlier rows that can matter are those touched within
``ttl`` of the latest time seen so far: that tail is the state carried from chunk to chunk, and its
size depends on the traffic per TTL, not on the length of the log. A bounded (LRU) cache needs no
more: entries older than the TTL cannot hit, and being the least recently used they are evicted
before any live entry, so they never change which live entries survive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass
class Tail:
    """Rows of earlier chunks still within the TTL: key columns (logged values), times, and for
    prefix replays the blocks of each row (flat ids and offsets)."""

    keys: list[pd.Series]
    times: np.ndarray
    blocks: np.ndarray | None = None
    offsets: np.ndarray | None = None


def as_text(values: pd.Series) -> pd.Series:
    """Key values as strings (one dtype, so a chunk and the tail concatenate without object columns)."""
    import pandas as pd

    return values.astype("string").reset_index(drop=True) if values.dtype != pd.StringDtype() \
        else values.reset_index(drop=True)


def combined_codes(columns: list[pd.Series]) -> np.ndarray:
    """One int64 code per row for the tuple of values in ``columns`` (-1 where any is missing)."""
    import numpy as np
    import pandas as pd

    code = np.zeros(len(columns[0]), dtype=np.int64)
    missing = np.zeros(len(columns[0]), dtype=bool)
    for values in columns:
        part, uniques = pd.factorize(values, use_na_sentinel=True)
        missing |= part < 0
        code = code * (len(uniques) + 1) + part
    return np.where(missing, -1, code)


def carried_hits(tails: dict[str, Tail], name: str, keys: list[pd.Series], times: np.ndarray, ttl: int,
                 max_entries: int | None = None, ok: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(hits, reused) of this chunk's rows keyed by the tuple ``keys`` (a missing value, or not ``ok``:
    uncacheable), replayed after the tail ``tails[name]``, which is then replaced by this chunk's tail."""
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.replay import replay_lru, replay_ttl_reuse

    tail = tails.get(name)
    before = 0 if tail is None else len(tail.times)
    keys = [as_text(k) for k in keys]
    columns = keys if tail is None else [pd.concat([a, b], ignore_index=True)
                                         for a, b in zip(tail.keys, keys, strict=True)]
    when = times if tail is None else np.concatenate([tail.times, times])
    codes = combined_codes(columns)
    if ok is not None:  # the tail holds only rows that touched the cache
        codes[before:][~ok] = -1
    if max_entries is not None:
        hits, reused = replay_lru(codes, when, ttl, max_entries), np.zeros(len(codes), dtype=bool)
    else:
        hits, reused = replay_ttl_reuse(codes, when, ttl)
    keep = (codes >= 0) & (when > when.max(initial=0) - ttl)
    tails[name] = Tail([c[keep].reset_index(drop=True) for c in columns], when[keep])
    return hits[before:], reused[before:]


def carried_prefix(tails: dict[str, Tail], name: str, blocks: np.ndarray, offsets: np.ndarray,
                   models: pd.Series, times: np.ndarray, ttl: int) -> tuple[np.ndarray, np.ndarray]:
    """Leading cached blocks of this chunk's requests (block ids ``blocks[offsets[r]:offsets[r+1]]``,
    served by ``models[r]``; every request given touches the cache), replayed after the tail of
    earlier chunks (with the same shared-ordering replay as a whole log). The second value is unused
    (zeros): which blocks a later request reuses needs the chunks to come."""
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.prefix_index import PrefixIndex

    tail = tails.get(name)
    if tail is not None and tail.blocks is not None and tail.offsets is not None:
        before = len(tail.times)
        blocks = np.concatenate([tail.blocks, blocks])
        offsets = np.concatenate([tail.offsets[:-1], offsets + tail.offsets[-1]])
        models = pd.concat([tail.keys[0], as_text(models)], ignore_index=True)
        times = np.concatenate([tail.times, times])
    else:
        before = 0
    counts = np.diff(offsets)
    model_codes = pd.factorize(models)[0].astype(np.int64)
    block_codes = pd.factorize(blocks)[0].astype(np.int32)
    index = PrefixIndex(block_codes, offsets, np.ones(len(counts), dtype=bool), times)
    rows = np.arange(len(counts), dtype=np.int64)
    lead, useful, _ = index.replay(rows, model_codes, np.ones(len(counts), dtype=bool), ttl, reuse=False)
    keep = times > times.max(initial=0) - ttl
    kept_counts = counts[keep]
    kept_offsets = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(kept_counts, out=kept_offsets[1:])
    tails[name] = Tail([as_text(models)[keep].reset_index(drop=True)], times[keep], blocks[np.repeat(keep, counts)],
                       kept_offsets)
    return lead[before:], useful[before:]
