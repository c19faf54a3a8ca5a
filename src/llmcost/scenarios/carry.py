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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.prefix_index import PrefixIndex


@dataclass
class Tail:
    """Rows of earlier chunks still within the TTL: key columns, times, and for prefix replays the blocks
    of each row (logged block ids and offsets). A categorical key column is carried as integer codes in
    ``vocabs`` (one per column, kept from chunk to chunk: category names are few), any other as text."""

    keys: list[Any]
    times: np.ndarray
    blocks: np.ndarray | None = None
    offsets: np.ndarray | None = None
    vocabs: list[dict[str, int]] = field(default_factory=list)


def as_text(values: pd.Series) -> pd.Series:
    """Key values as strings (one dtype, so a chunk and the tail concatenate without object columns)."""
    import pandas as pd

    return values.astype("string").reset_index(drop=True) if values.dtype != pd.StringDtype() \
        else values.reset_index(drop=True)


def stable_codes(values: pd.Series, vocab: dict[str, int]) -> np.ndarray:
    """Integer codes of a categorical column in ``vocab`` (-1 = missing), which gains the categories it
    lacks: equal values get equal codes in every chunk, without turning each row into a string."""
    import numpy as np

    from llmcost.scenarios.common import category_codes

    codes, names = category_codes(values)
    lookup = np.array([vocab.setdefault(name, len(vocab)) for name in names] + [-1], dtype=np.int64)
    return np.asarray(lookup[codes])


def _key_values(values: pd.Series, vocab: dict[str, int]) -> Any:
    import pandas as pd

    return stable_codes(values, vocab) if isinstance(values.dtype, pd.CategoricalDtype) else as_text(values)


def _joined(tail: Any, chunk: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(tail, np.ndarray) and isinstance(chunk, np.ndarray):
        return np.concatenate([tail, chunk])
    if isinstance(tail, np.ndarray) or isinstance(chunk, np.ndarray):  # a column's dtype changed between chunks
        raise TypeError("carried key column changed kind between chunks")
    return pd.concat([tail, chunk], ignore_index=True)


def combined_codes(columns: list[Any]) -> np.ndarray:
    """One int64 code per row for the tuple of values in ``columns`` (-1 where any is missing; an integer
    column's missing values are negative)."""
    import numpy as np
    import pandas as pd

    code = np.zeros(len(columns[0]), dtype=np.int64)
    missing = np.zeros(len(columns[0]), dtype=bool)
    for values in columns:
        if isinstance(values, np.ndarray):
            missing |= values < 0
        part, uniques = pd.factorize(values, use_na_sentinel=True)
        missing |= part < 0
        code = code * (len(uniques) + 1) + part
    return np.where(missing, -1, code)


def carried_hits(tails: dict[str, Tail], name: str, keys: list[pd.Series], times: np.ndarray, ttl: int,
                 max_entries: int | None = None, ok: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(hits, reused) of this chunk's rows keyed by the tuple ``keys`` (a missing value, or not ``ok``:
    uncacheable), replayed after the tail ``tails[name]``, which is then replaced by this chunk's tail."""
    import numpy as np

    from llmcost.scenarios.replay import replay_lru, replay_ttl_reuse

    tail = tails.get(name)
    before = 0 if tail is None else len(tail.times)
    vocabs = tail.vocabs if tail is not None and len(tail.vocabs) == len(keys) else [{} for _ in keys]
    chunk = [_key_values(k, v) for k, v in zip(keys, vocabs, strict=True)]
    try:
        columns = chunk if tail is None else [_joined(a, b) for a, b in zip(tail.keys, chunk, strict=True)]
    except TypeError:  # categorical in one chunk, text in another: carry this chunk's keys as text throughout
        vocabs = [{} for _ in keys]
        chunk = [as_text(k) for k in keys]
        columns = chunk if tail is None else [_joined(_as_text_again(a, v), b)
                                              for a, v, b in zip(tail.keys, tail.vocabs or vocabs, chunk, strict=True)]
    when = times if tail is None else np.concatenate([tail.times, times])
    codes = combined_codes(columns)
    if ok is not None:  # the tail holds only rows that touched the cache
        codes[before:][~ok] = -1
    if max_entries is not None:
        hits, reused = replay_lru(codes, when, ttl, max_entries), np.zeros(len(codes), dtype=bool)
    else:
        hits, reused = replay_ttl_reuse(codes, when, ttl)
    keep = (codes >= 0) & (when > when.max(initial=0) - ttl)
    tails[name] = Tail([_kept(c, keep) for c in columns], when[keep], vocabs=vocabs)
    return hits[before:], reused[before:]


def _kept(column: Any, keep: np.ndarray) -> Any:
    import numpy as np

    return column[keep] if isinstance(column, np.ndarray) else column[keep].reset_index(drop=True)


def _as_text_again(column: Any, vocab: dict[str, int]) -> Any:
    """A carried column back as text (codes decoded through their vocabulary)."""
    import numpy as np
    import pandas as pd

    if not isinstance(column, np.ndarray):
        return column
    names = np.array([*sorted(vocab, key=vocab.__getitem__), None], dtype=object)
    return pd.Series(names[column], dtype="string")


def carried_prefix(tails: dict[str, Tail], name: str, index: PrefixIndex, codes: np.ndarray, offsets: np.ndarray,
                   models: pd.Series, times: np.ndarray, ttl: int) -> tuple[np.ndarray, np.ndarray]:
    """Leading cached blocks of this chunk's requests (block codes of ``index`` ``codes[offsets[r]:offsets[r+1]]``,
    served by ``models[r]``; every request given touches the cache), replayed after the tail of
    earlier chunks (with the same shared-ordering replay as a whole log). The second value is unused
    (zeros): which blocks a later request reuses needs the chunks to come."""
    import numpy as np


    tail = tails.get(name)
    vocab = tail.vocabs[0] if tail is not None and tail.vocabs else {}
    model_codes = stable_codes(models, vocab)
    chunk_codes = codes
    if tail is not None and tail.blocks is not None and tail.offsets is not None:
        before = len(tail.times)
        chunk_codes = np.concatenate([_codes_in(index, tail.blocks, chunk_codes), chunk_codes])
        offsets = np.concatenate([tail.offsets[:-1], offsets + tail.offsets[-1]])
        model_codes = np.concatenate([tail.keys[0], model_codes])
        times = np.concatenate([tail.times, times])
        tail_elements = len(tail.blocks)
    else:
        before, tail_elements = 0, 0
    counts = np.diff(offsets)
    lead = leading_hits(chunk_codes, offsets, model_codes, times, ttl)
    useful = np.zeros(len(counts), dtype=np.int64)
    keep = times > times.max(initial=0) - ttl
    kept_counts = counts[keep]
    kept_offsets = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(kept_counts, out=kept_offsets[1:])
    elements = np.flatnonzero(np.repeat(keep, counts))
    from_tail = elements < tail_elements
    raw = np.empty(len(elements), dtype=object if index.uniques is not None and index.uniques.dtype == object
                   else np.int64)
    if tail is not None and tail.blocks is not None:
        raw[from_tail] = tail.blocks[elements[from_tail]]
    raw[~from_tail] = index.raw(codes[elements[~from_tail] - tail_elements])
    tails[name] = Tail([model_codes[keep]], times[keep], raw, kept_offsets, vocabs=[vocab])
    return lead[before:], useful[before:]


def leading_hits(codes: np.ndarray, offsets: np.ndarray, models: np.ndarray, times: np.ndarray,
                 ttl: int) -> np.ndarray:
    """Leading cached blocks per request: request ``r`` touches blocks ``codes[offsets[r]:offsets[r+1]]`` at
    ``times[r]`` on model ``models[r]``, and a block is cached when the same model touched it less than
    ``ttl`` before (ties in time in row order). One stable counting sort of the (block, model) key in
    time order, then one comparison of neighbours: the prompt-cache replay of ``PrefixIndex.replay``
    without its per-model passes, for a chunk replayed once."""
    import numpy as np

    from llmcost.scenarios.prefix_index import _leading_runs, key_order

    counts = np.diff(offsets)
    rows = len(counts)
    owner = np.repeat(np.arange(rows, dtype=np.int32 if rows < 2**31 else np.int64), counts)
    in_time = None if bool(np.all(times[1:] >= times[:-1])) else np.argsort(times, kind="stable")
    if in_time is not None:  # element order must be time order: the rows' elements, rows by time
        rank = np.empty(rows, dtype=np.int64)
        rank[in_time] = np.arange(rows, dtype=np.int64)
        elements = np.argsort(rank[owner], kind="stable")
    n_models = int(models.max(initial=0)) + 1
    key = _compact(codes).astype(np.int64)
    key *= n_models
    key += np.repeat(models, counts)  # each element's model, in element order (no gather)
    if in_time is not None:
        key = key[elements]
    order, same = key_order(key)
    where = order if in_time is None else elements[order]
    when = times[owner[where]]  # two gathers, from 4 and 8 bytes a row: faster than one from 8 an element
    near = np.subtract(when[1:], when[:-1]) < ttl
    near &= same
    missed = np.ones(len(codes), dtype=bool)
    missed[where[1:][near]] = False
    lead, _ = _leading_runs(missed, None, offsets, owner)
    return lead


def _codes_in(index: PrefixIndex, ids: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Block codes in ``index`` for the logged block ``ids`` of the tail; ids the chunk does not hold get
    new codes past every code of the chunk."""
    import numpy as np
    import pandas as pd

    if index.uniques is not None:
        pos = np.asarray(pd.Index(index.uniques).get_indexer(ids), dtype=np.int64)
        base = len(index.uniques)
    else:
        shifted = ids.astype(np.int64) - index.low
        pos = np.where((shifted >= 0) & (shifted < 2**31), shifted, -1)
        base = max(int(codes.max(initial=-1)), int(pos.max(initial=-1))) + 1
    missing = pos < 0
    if missing.any():
        extra, _ = pd.factorize(ids[missing])
        pos[missing] = base + extra
    return pos


def _compact(codes: np.ndarray) -> np.ndarray:
    """Codes dense enough for the replay's counting sort (a range at most twice the elements)."""
    import numpy as np
    import pandas as pd

    if len(codes) and int(codes.max()) > 2 * len(codes) + 1024:
        return np.asarray(pd.factorize(codes)[0], dtype=np.int32)
    return codes
