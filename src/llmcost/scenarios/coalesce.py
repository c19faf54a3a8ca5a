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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmcost.scenarios.carry import as_text, combined_codes
from llmcost.scenarios.common import Context, requests, select, times_ns
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

    rows: pd.DataFrame | None
    blocks: np.ndarray
    offsets: np.ndarray
    wait_values: np.ndarray
    wait_counts: np.ndarray


@dataclass
class _Groups:
    """The eligible rows in (scope, time) order, cut into groups."""

    order: np.ndarray  # rows of the eligible frame, sorted
    starts: np.ndarray  # first sorted position of each group
    sizes: np.ndarray
    flush: np.ndarray  # ns
    closed: np.ndarray  # bool per group


def eligible_rows(frame: pd.DataFrame, cfg: Coalesce) -> np.ndarray:
    """Rows that may be coalesced: meeting ``when``, one request each, no audio, a known model."""
    import numpy as np

    ok = select(frame, cfg.when, "coalesce-when")
    ok &= frame["weight"].to_numpy(dtype=np.float64) == 1
    ok &= frame["model_id"].notna().to_numpy(dtype=bool)
    for column in _AUDIO:
        if column in frame.columns:
            ok &= frame[column].to_numpy(dtype=np.float64) == 0
    return ok


def scope_codes(frame: pd.DataFrame, cfg: Coalesce, ctx: Context) -> np.ndarray:
    """One code per row for (serving model, batch, service tier, the ``scope`` columns)."""
    columns = [as_text(frame["model_id"]).fillna(""), as_text(frame["batch"].astype("string")).fillna("")]
    if "service_tier" in frame.columns:
        columns.append(as_text(frame["service_tier"]).fillna(""))
    for i, name in enumerate(cfg.scope):
        if name not in frame.columns:
            raise ctx.error(f"the logs have no '{name}' column to scope groups by", f"coalesce.scope[{i}]")
        columns.append(as_text(frame[name].astype("string")).fillna("\x00"))
    return combined_codes(columns)


def _next_start(scope: np.ndarray, times: np.ndarray, window: int, max_batch: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, nxt): rows sorted by (scope, time, row), and for each sorted position the position where a
    group opened there would end (the first row of its scope at or after ``t + window``, at most
    ``max_batch`` rows on, never past its scope)."""
    import numpy as np

    n = len(times)
    bits = max(n.bit_length(), 1)
    in_time = bool(np.all(times[1:] >= times[:-1]))
    by_time = np.arange(n, dtype=np.int64) if in_time else np.argsort(times, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_time] = np.arange(n, dtype=np.int64)
    composite = np.sort((scope << bits) | rank)
    order = by_time[composite & ((1 << bits) - 1)]
    threshold = np.searchsorted(times[by_time], times[order] + window, side="left")
    ends = np.searchsorted(composite, ((composite >> bits) << bits) | threshold, side="left")
    return order, np.minimum(ends, np.arange(n, dtype=np.int64) + max_batch)


def group_starts(scope: np.ndarray, times: np.ndarray, window: int, max_batch: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, starts): the greedy partition. A row certainly opens a group when it starts its scope or
    comes a window or more after the row before it; only runs of rows closer than that need the jump
    loop, one step per group."""
    import numpy as np

    order, nxt = _next_start(scope, times, window, max_batch)
    n = len(order)
    sorted_scope, sorted_times = scope[order], times[order]
    hard = np.ones(n, dtype=bool)
    hard[1:] = (sorted_scope[1:] != sorted_scope[:-1]) | (sorted_times[1:] - sorted_times[:-1] >= window)
    starts = hard.copy()
    bounds = np.append(np.flatnonzero(hard), n)
    long_runs = np.flatnonzero(np.diff(bounds) > 1)
    if len(long_runs):
        jump = nxt.tolist()
        for lo, hi in zip(bounds[long_runs].tolist(), bounds[long_runs + 1].tolist(), strict=True):
            i = jump[lo]
            while i < hi:
                starts[i] = True
                i = jump[i]
    return order, np.flatnonzero(starts)


def _cut(scope: np.ndarray, times: np.ndarray, cfg: Coalesce, latest: int | None) -> _Groups:
    """Groups of the eligible rows; with ``latest`` (a streamed chunk, not the last), a scope's last
    group that a later row could still join stays open."""
    import numpy as np

    window = round(cfg.window_ms * 1e6)
    order, starts = group_starts(scope, times, window, cfg.max_batch)
    sizes = np.diff(np.append(starts, len(order)))
    first = times[order[starts]]
    full = sizes >= cfg.max_batch
    flush = np.where(full, times[order[starts + sizes - 1]], first + window)
    closed = np.ones(len(starts), dtype=bool)
    if latest is not None and len(starts):
        group_scope = scope[order[starts]]
        last_of_scope = np.append(group_scope[1:] != group_scope[:-1], True)
        closed = ~last_of_scope | full | (first + window <= latest)
    return _Groups(order, starts, sizes, flush, closed)


def _blocks(frame: pd.DataFrame, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(logged block ids, offsets) of each row (no blocks: an empty run)."""
    import numpy as np

    index = ctx.shared.prefix if ctx.shared is not None else None
    if index is None or ROW_COLUMN not in frame.columns or frame.empty:
        return np.zeros(0, dtype=np.int64), np.zeros(len(frame) + 1, dtype=np.int64)
    rows = frame[ROW_COLUMN].to_numpy(dtype=np.int64) - index.first_row
    codes, offsets = index.blocks_of(rows)
    return index.raw(codes), offsets


def shared_blocks(blocks: np.ndarray, offsets: np.ndarray, order: np.ndarray, starts: np.ndarray,
                  sizes: np.ndarray) -> np.ndarray:
    """Per group, the leading blocks every member shares (the minimum over members of the common
    leading run with the group's first request; a member without blocks shares none)."""
    import numpy as np

    counts = np.diff(offsets)
    leader = order[np.repeat(starts, sizes)]
    common = counts[leader].copy()
    compare = np.repeat(sizes > 1, sizes) & (order != leader)
    member, first = order[compare], leader[compare]
    n_cmp = np.minimum(counts[member], counts[first])
    run = np.repeat(np.arange(len(member), dtype=np.int64), n_cmp)
    seg = np.zeros(len(member) + 1, dtype=np.int64)
    np.cumsum(n_cmp, out=seg[1:])
    position = np.arange(seg[-1], dtype=np.int64) - seg[:-1][run]
    same = blocks[offsets[:-1][member][run] + position] == blocks[offsets[:-1][first][run] + position]
    lead = n_cmp.copy()
    differ = np.flatnonzero(~same)
    if len(differ):
        rows, first_differ = np.unique(run[differ], return_index=True)
        lead[rows] = position[differ[first_differ]]
    common[compare] = lead
    return np.minimum.reduceat(common, starts) if len(starts) else common[:0]


def _unified(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames concatenated with one ``model_id`` category list (a chunk and the carried rows may differ)."""
    import pandas as pd

    parts = [p for p in parts if p is not None]
    categories = list(dict.fromkeys(c for p in parts for c in p["model_id"].cat.categories))
    fixed = []
    for p in parts:
        p = p.copy(deep=False)
        p["model_id"] = pd.Categorical(p["model_id"].astype(object), categories=categories)
        fixed.append(p)
    out = pd.concat(fixed, ignore_index=True)
    out["model_id"] = pd.Categorical(out["model_id"].astype(object), categories=categories)
    return out


def _combined_rows(rows: pd.DataFrame, groups: _Groups, prefix: np.ndarray, cfg: Coalesce,
                   totals: dict[str, float]) -> pd.DataFrame:
    """One row per closed group: its first request with the group's tokens (see the module docstring)."""
    import numpy as np

    keep = groups.closed
    starts, sizes = groups.starts, groups.sizes
    leaders = rows.iloc[groups.order[starts[keep]]].copy()
    k = sizes[keep].astype(np.float64)
    multi = k > 1
    sums = {c: np.add.reduceat(rows[c].to_numpy(dtype=np.float64)[groups.order], starts)[keep] for c in _SUMMED}
    saved = np.where(multi, (k - 1) * prefix[keep], 0.0)
    added_in = np.where(multi, k * cfg.separator_tokens + cfg.instruction_tokens, 0.0)
    added_out = np.where(multi, k * cfg.overhead_output_tokens, 0.0)
    leaders["input_tokens"] = sums["input_tokens"] - saved + added_in
    leaders["output_tokens"] = sums["output_tokens"] + added_out
    leaders["reasoning_tokens"] = sums["reasoning_tokens"]
    totals["prefix_tokens_saved"] += float(saved.sum())
    totals["overhead_input_tokens"] += float(added_in.sum())
    totals["overhead_output_tokens"] += float(added_out.sum())
    totals["coalesced_requests"] += float(k[multi].sum())
    out: pd.DataFrame = leaders
    return out


def _prefix_per_group(rows: pd.DataFrame, blocks: np.ndarray, offsets: np.ndarray, groups: _Groups,
                      cfg: Coalesce) -> np.ndarray:
    import numpy as np

    inputs = rows["input_tokens"].to_numpy(dtype=np.float64)[groups.order]
    shortest = np.minimum.reduceat(inputs, groups.starts)
    if isinstance(cfg.shared_prefix_tokens, int):
        return np.minimum(float(cfg.shared_prefix_tokens), shortest)
    common = shared_blocks(blocks, offsets, groups.order, groups.starts, groups.sizes)
    return np.minimum(common.astype(np.float64) * cfg.block_tokens, shortest)


def _waits(times: np.ndarray, groups: _Groups) -> np.ndarray:
    """Microseconds each member of a closed group waited for its flush."""
    import numpy as np

    member_flush = np.repeat(np.where(groups.closed, groups.flush, -1), groups.sizes)
    waited = member_flush >= 0
    waits: np.ndarray = (member_flush[waited] - times[groups.order][waited]) // _WAIT_UNIT_NS
    return waits


def _carried(rows: pd.DataFrame, blocks: np.ndarray, offsets: np.ndarray, groups: _Groups) -> _Open:
    """The open groups' rows and their blocks, kept for the next chunk."""
    import numpy as np

    open_rows = np.sort(groups.order[np.repeat(~groups.closed, groups.sizes)])
    counts = np.diff(offsets)[open_rows]
    kept_offsets = np.zeros(len(open_rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=kept_offsets[1:])
    take = np.repeat(offsets[:-1][open_rows], counts) + np.arange(kept_offsets[-1]) - np.repeat(kept_offsets[:-1],
                                                                                               counts)
    empty = np.zeros(0, dtype=np.int64)
    return _Open(rows.iloc[open_rows].reset_index(drop=True), blocks[take], kept_offsets, empty, empty)


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
    import numpy as np

    values = waits if state is None else np.concatenate([state.wait_values, waits])
    weights = np.ones(len(waits), dtype=np.int64) if state is None else \
        np.concatenate([state.wait_counts, np.ones(len(waits), dtype=np.int64)])
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, np.bincount(inverse, weights=weights, minlength=len(distinct)).astype(np.int64)


def apply_coalesce(frame: pd.DataFrame, cfg: Coalesce, ctx: Context, *, final: bool | None = None) -> pd.DataFrame:
    """The traffic with coalesced groups as single requests (``final``: flush every open group; by default
    so unless the log is streamed, where the last chunk's open groups are flushed by ``flush_coalesce``)."""
    import numpy as np

    streaming = ctx.shared is not None and ctx.shared.streaming
    final = not streaming if final is None else final
    key = f"{ctx.scenario} coalesce"
    state: _Open | None = ctx.shared.tails.get(key) if streaming and ctx.shared is not None else None
    ok = eligible_rows(frame, cfg)
    new = frame.loc[ok]
    blocks, offsets = _blocks(new, ctx)
    if state is not None and state.rows is not None and len(state.rows):
        new = _unified([state.rows, new])
        blocks = np.concatenate([state.blocks, blocks]).astype(np.result_type(state.blocks, blocks))
        offsets = np.concatenate([state.offsets[:-1], offsets + state.offsets[-1]])
    else:
        new = new.reset_index(drop=True)
    times = times_ns(new)
    latest = None if final or frame.empty else int(times_ns(frame).max())
    groups = _cut(scope_codes(new, cfg, ctx), times, cfg, latest)
    totals = dict.fromkeys(("prefix_tokens_saved", "overhead_input_tokens", "overhead_output_tokens",
                            "coalesced_requests"), 0.0)
    combined = new.iloc[:0]
    if len(groups.starts):
        prefix = _prefix_per_group(new, blocks, offsets, groups, cfg)
        combined = _combined_rows(new, groups, prefix, cfg, totals)
    values, counts = _histogram(state, _waits(times, groups))
    if streaming and ctx.shared is not None:
        carried = _carried(new, blocks, offsets, groups)
        carried.wait_values, carried.wait_counts = values, counts
        ctx.shared.tails[key] = carried
    ctx.details["coalesce"] = _details(frame, cfg, groups, totals, percentiles(values, counts))
    if isinstance(cfg.shared_prefix_tokens, int):
        ctx.assumptions.append(f"coalesce: every group shares a {cfg.shared_prefix_tokens:,}-token prefix "
                               "(assumed, not read from prefix_hashes)")
    rest = frame.loc[~ok]
    if not len(combined):
        return rest
    return _unified([rest, combined])


def flush_coalesce(cfg: Coalesce, ctx: Context) -> pd.DataFrame | None:
    """The end of a streamed log: the groups still open, sent (None when there are none)."""
    state = ctx.shared.tails.get(f"{ctx.scenario} coalesce") if ctx.shared is not None else None
    if not isinstance(state, _Open) or state.rows is None or state.rows.empty:
        return None
    return apply_coalesce(state.rows.iloc[:0], cfg, ctx, final=True)


def _details(frame: pd.DataFrame, cfg: Coalesce, groups: _Groups, totals: dict[str, float],
             waits: dict[str, float]) -> dict[str, Any]:
    from llmcost.scenarios.common import share

    emitted = float(groups.sizes[groups.closed].sum())
    formed = float(groups.closed.sum())
    saved_in = totals["prefix_tokens_saved"] - totals["overhead_input_tokens"]
    return {
        "window_ms": cfg.window_ms, "max_batch": cfg.max_batch, "shared_prefix": cfg.shared_prefix_tokens,
        "requests": requests(frame), "eligible_requests": emitted, "groups": formed,
        "coalesced_requests": totals["coalesced_requests"], "provider_requests_saved": emitted - formed,
        "mean_group_size": share(emitted, formed),
        "prefix_tokens_saved": totals["prefix_tokens_saved"],
        "overhead_input_tokens": totals["overhead_input_tokens"],
        "overhead_output_tokens": totals["overhead_output_tokens"],
        "input_tokens_saved": saved_in,
        "added_latency_ms": waits,
    }
