"""Request coalescing, replayed on the logged arrival times: requests of one model (and scope) that
arrive within a window are sent as one provider request.

How a group forms and closes (per scope: the serving model, batch flag, service tier and the
``scope`` columns; requests in timestamp order, ties in log order):

- a request that finds no open group opens one at its arrival time ``t0``;
- the next requests join while they arrive before ``t0 + window`` (strictly) and the group holds
  fewer than ``max_batch``;
- the group is sent (flushed) when its ``max_batch``-th request arrives, else at ``t0 + window``;
  each member waits from its arrival to the flush (a request left alone waits the whole window).

A group of k ≥ 2 requests is billed as one request (request fees once) with input
``Σ input − (k − 1)·P + k·separator_tokens + instruction_tokens`` and output
``Σ output + k·overhead_output_tokens``, where P is the prefix all members share: ``shared_prefix_tokens``
(an assumption) or the common leading ``prefix_hashes`` blocks × ``block_tokens``, capped at the
shortest member's input. The combined prompt starts with the first request's prompt, so the group
keeps that request's cache reads and writes; the others' prompts now follow other text and lose
theirs. A group of one is sent as logged.

Bucket rows (``weight`` ≠ 1), requests with audio and requests on models the catalog does not know
are never coalesced. A streamed log carries each scope's open group to the next chunk (a group never
spans a gap of a window, so that is all there is to carry) and flushes what is left at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmcost.scenarios.coalesce_groups import BlockSource, Groups, Pairs, cut, shared_blocks
from llmcost.scenarios.common import Context, requests, select, share, times_ns
from llmcost.scenarios.prefix_index import ROW_COLUMN

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.schema import Coalesce

_AUDIO = ("audio_input_tokens", "audio_output_tokens", "audio_cache_read_tokens")
_SUMMED = ("input_tokens", "output_tokens", "reasoning_tokens")
_WAIT_UNIT_NS = 1000  # waits are kept in whole microseconds (the percentiles' resolution)


@dataclass
class _Open:
    """What a streamed replay carries: the open groups' rows (with their prefix blocks) and the wait
    histogram so far (microseconds → requests), from which every chunk reports the percentiles."""

    rows: pd.DataFrame
    blocks: np.ndarray
    offsets: np.ndarray
    wait_values: np.ndarray
    wait_counts: np.ndarray
    # Groups led by a carried row, sent since: their combined rows, handed over at the end of the log
    # (small; sending them with the chunk's own would copy the chunk's combined rows once more).
    held: list[pd.DataFrame] = field(default_factory=list)


def eligible_rows(frame: pd.DataFrame, cfg: Coalesce) -> np.ndarray:
    """Rows that may be coalesced: meeting ``when``, one request each, no audio, a known model."""
    import numpy as np

    ok = select(frame, cfg.when, "coalesce-when")
    ok &= frame["weight"].to_numpy(dtype=np.float64) == 1
    ok &= frame["model_id"].cat.codes.to_numpy() >= 0
    for column in _AUDIO:
        if column in frame.columns:
            ok &= frame[column].to_numpy(dtype=np.float64) == 0
    return ok


def _codes(parts: list[pd.Series]) -> np.ndarray:
    """Integer codes (0 = missing) of the values of ``parts`` read one after the other."""
    import numpy as np
    import pandas as pd

    if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
        categories = pd.Index(list(dict.fromkeys(c for p in parts for c in p.cat.categories)))
        mapped = []
        for p in parts:
            where = np.append(categories.get_indexer(p.cat.categories), -1)
            mapped.append(where[p.cat.codes.to_numpy().astype(np.int64)])
        return np.concatenate(mapped) + 1
    values = np.concatenate([p.astype(object).to_numpy(dtype=object) for p in parts])
    return pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64) + 1


def scope_codes(parts: list[pd.DataFrame], cfg: Coalesce, ctx: Context) -> np.ndarray:
    """One code per row for (serving model, batch, service tier, the ``scope`` columns)."""
    import numpy as np
    import pandas as pd

    names: list[str] = ["model_id", "batch", *(["service_tier"] if "service_tier" in parts[-1].columns else [])]
    for i, wanted in enumerate(cfg.scope):
        if wanted not in parts[-1].columns:
            raise ctx.error(f"the logs have no '{wanted}' column to scope groups by", f"coalesce.scope[{i}]")
        names.append(wanted)
    code = np.zeros(sum(len(p) for p in parts), dtype=np.int64)
    for name in names:
        if name == "batch":
            part = np.concatenate([p[name].to_numpy(dtype=bool) for p in parts]).astype(np.int64)
        else:
            part = _codes([p[name] for p in parts])
        code = code * (int(part.max(initial=0)) + 1) + part
    return pd.factorize(code)[0].astype(np.int64) if int(code.max(initial=0)) >= 2**31 else code


def _source(parts: list[pd.DataFrame], state: _Open | None, ctx: Context) -> BlockSource:
    import numpy as np

    new = parts[-1]
    index = ctx.shared.prefix if ctx.shared is not None else None
    if index is None or ROW_COLUMN not in new.columns:
        base = np.full(len(new), -1, dtype=np.int64)
    else:
        base = new[ROW_COLUMN].to_numpy(dtype=np.int64) - index.first_row
    if state is None:
        return BlockSource(np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64), index, base)
    return BlockSource(state.blocks, state.offsets, index, base)


def _column(parts: list[pd.DataFrame], name: str, *, raw: bool = False) -> np.ndarray:
    """A column over ``parts`` read one after the other (as float64, or as stored with ``raw``)."""
    import numpy as np

    if len(parts) == 1:
        return parts[0][name].to_numpy() if raw else parts[0][name].to_numpy(dtype=np.float64)
    return np.concatenate([p[name].to_numpy(dtype=None if raw else np.float64) for p in parts])


def _rows(parts: list[pd.DataFrame], rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray | None]:
    """(frame, order): the frame rows at ``rows`` (positions over ``parts`` read one after the other)
    with one category list, part by part: the frame's row i is ``rows[order[i]]`` (None: in order)."""
    import numpy as np

    if len(parts) == 1:
        return parts[0].iloc[rows], None
    picked, order, at = [], [], 0
    for p in parts:
        mine = np.flatnonzero((rows >= at) & (rows < at + len(p)))
        picked.append(p.iloc[rows[mine] - at])
        order.append(mine)
        at += len(p)
    return _unified(picked), np.concatenate(order)


def _unified(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames concatenated with one ``model_id`` category list (a chunk and the carried rows may differ)."""
    import pandas as pd

    categories = pd.Index(list(dict.fromkeys(c for p in parts for c in p["model_id"].cat.categories)))
    fixed = []
    for p in parts:
        where = [*categories.get_indexer(p["model_id"].cat.categories).tolist(), -1]
        p = p.copy(deep=False)
        p["model_id"] = pd.Categorical.from_codes(_remap(p, where), categories=categories)
        fixed.append(p)
    return pd.concat(fixed, ignore_index=True)


def _remap(part: pd.DataFrame, where: list[int]) -> np.ndarray:
    import numpy as np

    remapped: np.ndarray = np.asarray(where, dtype=np.int64)[part["model_id"].cat.codes.to_numpy().astype(np.int64)]
    return remapped


def _combined(parts: list[pd.DataFrame], groups: Groups, prefix: np.ndarray, cfg: Coalesce,
              totals: dict[str, float], keep: np.ndarray, sums: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per ``keep`` group, all led by rows of one part: its first request with the group's tokens
    (see the module docstring); ``sums`` are the groups' token sums."""
    import numpy as np

    starts, sizes = groups.starts, groups.sizes
    lead = groups.order[starts[keep]]
    part, at = (parts[0], 0) if len(parts) > 1 and len(lead) and lead[0] < len(parts[0]) else \
        (parts[-1], len(parts[0]) if len(parts) > 1 else 0)
    leaders: pd.DataFrame = part.iloc[lead - at].copy(deep=False)
    k = sizes[keep].astype(np.float64)
    kept_prefix = prefix[keep]
    sums = {c: v[keep] for c, v in sums.items()}
    multi = k > 1
    saved = np.where(multi, (k - 1) * kept_prefix, 0.0)
    added_in = np.where(multi, k * cfg.separator_tokens + cfg.instruction_tokens, 0.0)
    added_out = np.where(multi, k * cfg.overhead_output_tokens, 0.0)
    leaders["input_tokens"] = sums["input_tokens"] - saved + added_in
    leaders["output_tokens"] = sums["output_tokens"] + added_out
    leaders["reasoning_tokens"] = sums["reasoning_tokens"]
    totals["prefix_tokens_saved"] += float(saved.sum())
    totals["overhead_input_tokens"] += float(added_in.sum())
    totals["overhead_output_tokens"] += float(added_out.sum())
    totals["coalesced_requests"] += float(k[multi].sum())
    return leaders


def _prefix_per_group(parts: list[pd.DataFrame], source: BlockSource, groups: Groups, cfg: Coalesce) -> np.ndarray:
    """P of each group (0 for a group of one): the shared prefix, capped at its shortest member's input."""
    import numpy as np

    pairs = Pairs.of(groups)
    inputs = _column(parts, "input_tokens", raw=True)
    shortest = np.minimum(pairs.least(inputs[pairs.member]), inputs[pairs.first[pairs.segments]]
                          if len(pairs.segments) else inputs[:0])
    if isinstance(cfg.shared_prefix_tokens, int):
        shared = np.minimum(float(cfg.shared_prefix_tokens), shortest)
    else:
        shared = np.minimum(shared_blocks(source, pairs).astype(np.float64) * cfg.block_tokens, shortest)
    out = np.zeros(len(groups.starts))
    out[pairs.multi] = shared
    return out


def _waits(groups: Groups) -> np.ndarray:
    """Microseconds each member of a closed group waited for its flush."""
    import numpy as np

    if bool(groups.closed.all()):
        waited: np.ndarray = (np.repeat(groups.flush, groups.sizes) - groups.times) // _WAIT_UNIT_NS
        return waited
    member_flush = np.repeat(np.where(groups.closed, groups.flush, -1), groups.sizes)
    sent = member_flush >= 0
    waits: np.ndarray = (member_flush[sent] - groups.times[sent]) // _WAIT_UNIT_NS
    return waits


def percentiles(values: np.ndarray, counts: np.ndarray) -> dict[str, float]:
    """Nearest-rank p50/p95/p99, mean and max (in ms) of waits given as a histogram in microseconds."""
    import numpy as np

    total = int(counts.sum())
    if total == 0:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0, "max": 0.0}
    cumulative = np.cumsum(counts)
    out = {f"p{q}": float(values[np.searchsorted(cumulative, (q * total + 99) // 100)]) / 1000 for q in (50, 95, 99)}
    out["mean"] = round(float((values * counts).sum()) / total / 1000, 3)
    out["max"] = float(values[-1]) / 1000
    return out


def _histogram(state: _Open | None, waits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The wait histogram so far: the carried one plus ``waits`` (one request each)."""
    import numpy as np

    if len(waits) and int(waits.max()) < 2**24:  # a window up to 16 s: count without sorting
        counts = np.bincount(waits)
        values = np.flatnonzero(counts)
        counts = counts[values]
    else:
        values, counts = np.unique(waits, return_counts=True)
    if state is None or not len(state.wait_values):
        return values.astype(np.int64), counts.astype(np.int64)
    both, inverse = np.unique(np.concatenate([state.wait_values, values]), return_inverse=True)
    merged = np.bincount(inverse, weights=np.concatenate([state.wait_counts, counts]), minlength=len(both))
    return both, merged.astype(np.int64)


def apply_coalesce(frame: pd.DataFrame, cfg: Coalesce, ctx: Context, *, final: bool | None = None) -> pd.DataFrame:
    """The traffic with each closed group as one request (``final``: close every group; by default so
    unless the log is streamed, where the last chunk's open groups are sent by ``flush_coalesce``)."""
    import numpy as np

    streaming = ctx.shared is not None and ctx.shared.streaming
    final = not streaming if final is None else final
    key = f"{ctx.scenario} coalesce"
    state: _Open | None = ctx.shared.tails.get(key) if streaming and ctx.shared is not None else None
    ok = eligible_rows(frame, cfg)
    every = bool(ok.all())
    parts = [frame if every else frame.loc[ok]]
    if state is not None and len(state.rows):
        parts.insert(0, state.rows)
    times = np.concatenate([times_ns(p) for p in parts])
    # Later rows arrive at or after this chunk's latest (or, when earlier strategies left it empty, after
    # the carried rows): no group that closed before then can grow.
    latest = None if final or not len(times) else int(times_ns(frame).max()) if len(frame) else int(times.max())
    groups = cut(scope_codes(parts, cfg, ctx), times, round(cfg.window_ms * 1e6), cfg.max_batch, latest)
    source = _source(parts, state, ctx)
    totals = dict.fromkeys(("prefix_tokens_saved", "overhead_input_tokens", "overhead_output_tokens",
                            "coalesced_requests"), 0.0)
    combined = None
    if bool(groups.closed.any()):
        prefix = _prefix_per_group(parts, source, groups, cfg)
        sums = {c: np.add.reduceat(_column(parts, c, raw=True)[groups.order], groups.starts).astype(np.float64)
                for c in _SUMMED}
        carried_lead = groups.order[groups.starts] < (len(parts[0]) if len(parts) > 1 else 0)
        if not final and state is not None and (groups.closed & carried_lead).any():
            state.held.append(_combined(parts, groups, prefix, cfg, totals, groups.closed & carried_lead, sums))
        sent_now = groups.closed if final else groups.closed & ~carried_lead
        if sent_now.any():
            combined = _combined(parts, groups, prefix, cfg, totals, sent_now, sums)
    values, counts = _histogram(state, _waits(groups))
    if streaming and ctx.shared is not None:
        open_rows = np.sort(groups.order[np.repeat(~groups.closed, groups.sizes)])
        blocks, offsets = source.flat(open_rows)
        ctx.shared.tails[key] = _Open(_rows(parts, open_rows)[0].reset_index(drop=True), blocks, offsets, values,
                                      counts, state.held if state is not None else [])
    ctx.details["coalesce"] = _details(frame, cfg, groups, totals, percentiles(values, counts))
    if isinstance(cfg.shared_prefix_tokens, int) and cfg.shared_prefix_tokens > 0:
        ctx.assumptions.append(f"coalesce: every group shares a {cfg.shared_prefix_tokens:,}-token prefix "
                               "(assumed, not read from prefix_hashes)")
    if combined is None:
        return frame.loc[~ok]
    return combined if every else _unified([frame.loc[~ok], combined])


def flush_coalesce(cfg: Coalesce, ctx: Context) -> pd.DataFrame | None:
    """The end of a streamed log: the groups still open, sent (None when there are none)."""
    state = ctx.shared.tails.get(f"{ctx.scenario} coalesce") if ctx.shared is not None else None
    if not isinstance(state, _Open) or (state.rows.empty and not state.held):
        return None
    held = list(state.held)
    return _unified([*held, apply_coalesce(state.rows.iloc[:0], cfg, ctx, final=True)])


def _details(frame: pd.DataFrame, cfg: Coalesce, groups: Groups, totals: dict[str, float],
             waits: dict[str, float]) -> dict[str, Any]:
    emitted = float(groups.sizes[groups.closed].sum())
    formed = float(groups.closed.sum())
    return {
        "window_ms": cfg.window_ms, "max_batch": cfg.max_batch, "shared_prefix": cfg.shared_prefix_tokens,
        "requests": requests(frame), "eligible_requests": emitted, "groups": formed,
        "coalesced_requests": totals["coalesced_requests"], "provider_requests_saved": emitted - formed,
        "mean_group_size": share(emitted, formed),
        "prefix_tokens_saved": totals["prefix_tokens_saved"],
        "overhead_input_tokens": totals["overhead_input_tokens"],
        "overhead_output_tokens": totals["overhead_output_tokens"],
        "input_tokens_saved": totals["prefix_tokens_saved"] - totals["overhead_input_tokens"],
        "added_latency_ms": waits,
    }
