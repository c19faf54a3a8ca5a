"""Exact response cache, replayed on the logged traffic in timestamp order.

A request whose key (``prompt_hash``, or the prompt text; with ``per_model`` also the model as logged)
was seen less than ``ttl`` ago is answered from the cache: it never reaches a provider and costs only
``hit_cost_usd``. A hit refreshes the entry (sliding expiration; see ``replay``). Rows with
``weight`` > 1 replay as one event. An optional assumed semantic-hit rate removes that share of the
remaining misses; it is an assumption, not a replay, and is reported as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from llmcost.scenarios.carry import carried_hits
from llmcost.scenarios.common import Context, requests, scaled, share, times_ns
from llmcost.scenarios.hit_series import hits_per_hour
from llmcost.scenarios.prefix_index import ROW_COLUMN
from llmcost.scenarios.replay import replay_lru, replay_ttl

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.pricing import TokenGroups
    from llmcost.scenarios.carry import Tail
    from llmcost.scenarios.schema import ExactCache


def cache_keys(frame: pd.DataFrame, key: str, per_model: bool) -> np.ndarray | None:
    """Integer key codes (-1 = no key) or None when the frame has no key column at all."""
    import numpy as np
    import pandas as pd

    column = key if key in frame.columns else ("prompt" if "prompt" in frame.columns else None)
    if column is None:
        return None
    values = frame[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
    else:
        codes = np.asarray(pd.factorize(values, use_na_sentinel=True)[0]).astype(np.int64, copy=False)
    if per_model:  # (key, model) in place: every 10M-row temporary is fresh memory to fault in
        model = frame["model"].cat.codes.to_numpy()
        n_models = max(int(model.max(initial=0)) + 1, 1)
        codes *= n_models
        codes += model
        np.putmask(codes, codes < 0, -1)  # no key (or no model): -n_models + model, any of it negative
    return codes


def timestamps_ns(frame: pd.DataFrame) -> np.ndarray:

    return times_ns(frame)


def cache_hits(frame: pd.DataFrame, cfg: ExactCache) -> np.ndarray | None:
    """The replay: a bool mask of hits, or None when the frame has nothing to key on."""
    keys = cache_keys(frame, cfg.key, cfg.per_model)
    if keys is None:
        return None
    ttl = round(cfg.ttl * 1e9)
    times = timestamps_ns(frame)
    if cfg.max_entries is not None:
        return replay_lru(keys, times, ttl, cfg.max_entries)
    return replay_ttl(keys, times, ttl)


def replay_whole(frame: pd.DataFrame, configs: Iterable[ExactCache]) -> dict[str, np.ndarray]:
    """Hits of each distinct cache configuration on the whole log as logged, by configuration (JSON):
    the exact cache sees the traffic before any other strategy, so one replay serves every scenario
    and every slice or process of the run (``Shared.whole_hits``, read by request_row)."""
    out: dict[str, np.ndarray] = {}
    for cfg in configs:
        name = cfg.model_dump_json()
        if name not in out:
            hits = cache_hits(frame, cfg)
            if hits is not None:
                out[name] = hits
    return out


def _carried_hits(frame: pd.DataFrame, cfg: ExactCache, tails: dict[str, Tail]) -> np.ndarray | None:
    """The replay of one chunk of a streamed log, after the earlier chunks' rows within the TTL."""
    column = cfg.key if cfg.key in frame.columns else ("prompt" if "prompt" in frame.columns else None)
    if column is None:
        return None
    keys = [frame[column]]
    if cfg.per_model:
        keys.append(frame["model"])
    hits, _ = carried_hits(tails, f"exact_cache {cfg.model_dump_json()}", keys, timestamps_ns(frame),
                           round(cfg.ttl * 1e9), cfg.max_entries)
    return hits


class _Replay(NamedTuple):
    """One replay's outcome on one frame, shared by the scenarios that replay the same cache on it."""

    hits: np.ndarray
    saved: Decimal  # what the hits would have cost
    misses: pd.DataFrame
    miss_sums: TokenGroups  # the misses' token sums (summed with the hits', in one pass)
    hit_requests: float
    input_saved: float
    output_saved: float
    over_time: dict[str, dict[str, float]]


def _replayed(frame: pd.DataFrame, cfg: ExactCache, ctx: Context) -> _Replay | None:
    """The replay's hits, what they would have cost, the misses and the figures of its details, computed
    once per run for the same traffic and cache (the default set replays the same 24 h cache in two
    scenarios). None when the frame has nothing to key on."""
    import numpy as np

    from llmcost.pricing import TokenGroups, aggregate_parts, price_groups

    memo = ctx.shared.memo if ctx.shared is not None else {}
    key = ("exact_cache", id(frame), cfg.model_dump_json())
    if key in memo and memo[key][0] is frame:
        return memo[key][1]  # type: ignore[no-any-return]
    whole = ctx.shared.whole_hits.get(cfg.model_dump_json()) if ctx.shared is not None else None
    if whole is not None and ROW_COLUMN in frame.columns:
        hits = whole[frame[ROW_COLUMN].to_numpy()]
    elif ctx.shared is None or not ctx.shared.streaming:
        hits = cache_hits(frame, cfg)
    else:
        hits = _carried_hits(frame, cfg, ctx.shared.tails)
    if hits is None:
        return None
    if ctx.shared is not None and ctx.shared.warm_after is not None:  # a halo: only the misses go on
        replay = _Replay(hits, Decimal(0), frame.loc[~hits], TokenGroups(), 0.0, 0.0, 0.0, {})
        memo[key] = (frame, replay)
        return replay
    hit_sums, miss_sums = aggregate_parts(frame, ctx.catalog, np.where(hits, 0, 1).astype(np.int8), 2)
    replay = _Replay(hits, price_groups(hit_sums, ctx.catalog).total, frame.loc[~hits], miss_sums,
                     requests(frame, hits), float(frame["input_tokens"].to_numpy().sum(where=hits)),
                     float(frame["output_tokens"].to_numpy().sum(where=hits)), hits_per_hour(frame, hits))
    memo[key] = (frame, replay)  # holding the frame keeps its id from being reused
    return replay


def apply_exact_cache(frame: pd.DataFrame, cfg: ExactCache, ctx: Context) -> pd.DataFrame:
    import numpy as np

    total = requests(frame)
    replay = _replayed(frame, cfg, ctx)
    info: dict[str, object] = {"ttl_s": cfg.ttl, "max_entries": cfg.max_entries, "key": cfg.key}
    ctx.details["exact_cache"] = info
    if replay is None:
        info["note"] = "no prompt_hash or prompt text in the logs: nothing to replay"
        info.update(requests=total, hits=0, hit_rate=0.0)
        return frame
    lookup = cfg.hit_cost_usd * Decimal(repr(replay.hit_requests))
    ctx.extra_cost += lookup
    info.update(
        requests=total, hits=replay.hit_requests, hit_rate=share(replay.hit_requests, total),
        input_tokens_saved=replay.input_saved, output_tokens_saved=replay.output_saved,
        cost_saved_usd=replay.saved - lookup, lookup_cost_usd=lookup,
    )
    info["over_time"] = dict(replay.over_time)
    out = replay.misses
    ctx.sums = None if cfg.assumed_semantic_hit_rate else replay.miss_sums
    if cfg.assumed_semantic_hit_rate:
        rate = cfg.assumed_semantic_hit_rate
        out = scaled(out, np.full(len(out), 1 - rate))
        info["assumed_semantic_hit_rate"] = rate
        ctx.assumptions.append(
            f"exact cache: a further {rate:.0%} of misses assumed answered by a semantic cache (not replayed)"
        )
    return out
