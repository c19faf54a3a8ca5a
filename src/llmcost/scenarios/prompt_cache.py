"""Provider prompt caching, replayed per model in timestamp order.

With ``prefix_hashes`` (ordered block ids; each names one ``block_tokens`` block of the prompt, equal
ids = identical prefix up to that block, as in the Mooncake traces) a request's cached tokens are
the blocks of the longest leading run already in its model's cache, capped at its input length; the
rest of its blocked prompt is written to the cache. A block's TTL (5 minutes or 1 hour) restarts
whenever a request uses it. Rows without prefix data use a stand-in: a shared prefix of
``prefix_tokens`` per task (e.g. the system prompt), cached when the same model and task saw a request
within the TTL. Requests shorter than ``min_tokens`` neither read nor write, and a cached prefix
shorter than ``min_tokens`` is not read (the request writes its prompt again). The replay replaces any
cache tokens in the logs. Reads and writes are priced at the catalog's cache rates (1-hour writes at
the 1-hour rate); a model with no cache prices bills them at its input rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.scenarios.carry import carried_hits, carried_prefix
from llmcost.scenarios.common import Context, category_codes, per_request, requests, share, times_ns
from llmcost.scenarios.hit_series import hits_per_hour
from llmcost.scenarios.prefix_index import ROW_COLUMN
from llmcost.scenarios.replay import replay_ttl_reuse

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.prefix_index import PrefixIndex
    from llmcost.scenarios.schema import PromptCache


def _prefix_rows(frame: pd.DataFrame, index: PrefixIndex | None) -> np.ndarray:
    """Base rows (into ``index``) of the frame's rows, -1 where a row has no prefix blocks."""
    import numpy as np

    if index is None or ROW_COLUMN not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int64)
    rows = frame[ROW_COLUMN].to_numpy(dtype=np.int64) - index.first_row
    return np.where(index.has_blocks[rows], rows, -1)


def replay_prefixes(index: PrefixIndex, rows: np.ndarray, model_codes: np.ndarray, eligible: np.ndarray,
                    cfg: PromptCache, ctx: Context, models: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(cached tokens, blocked tokens) per request, before the input cap, for rows with prefix data
    (``models``: the serving model ids, used to key a streamed replay across chunks)."""
    import numpy as np

    ttl = round(cfg.ttl_seconds * 1e9)
    if ctx.shared is not None and ctx.shared.streaming:
        touching = rows[eligible]
        blocks, offsets = index.blocks_of(touching)
        lead = np.zeros(len(rows), dtype=np.int64)
        lead[eligible], _ = carried_prefix(ctx.shared.tails, f"{ctx.scenario} prompt_cache", index, blocks,
                                           offsets, models[eligible], index.times[touching], ttl)
        useful, counts = lead, np.diff(index.offsets)[rows]
    else:
        lead, useful, counts = index.replay(rows, model_codes, eligible, ttl, reuse=cfg.writes == "reused")
    written = counts if cfg.writes == "all" else useful
    return lead.astype(np.float64) * cfg.block_tokens, written.astype(np.float64) * cfg.block_tokens


def _stand_in(frame: pd.DataFrame, model_codes: np.ndarray, eligible: np.ndarray,
              cfg: PromptCache, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(prefix tokens, hit) for rows without prefix data: a shared prefix per (model, task)."""
    import numpy as np
    import pandas as pd

    n = len(frame)
    if "task" in frame.columns:
        task_codes, tasks = category_codes(frame["task"])
        by_task = cfg.prefix_tokens.by_task
        per_task = [float(by_task.get(t, cfg.prefix_tokens.default)) for t in tasks]
        prefix_tokens = np.array([*per_task, float(cfg.prefix_tokens.default)])[task_codes]
        task_codes = np.where(task_codes < 0, len(tasks), task_codes)
    else:
        prefix_tokens = np.full(n, float(cfg.prefix_tokens.default))
        task_codes = np.zeros(n, dtype=np.int64)
    n_models = int(model_codes.max(initial=0)) + 1
    shared = np.minimum(prefix_tokens, per_request(frame, "input_tokens"))
    ok = eligible & (shared >= max(cfg.min_tokens, 1))
    times = times_ns(frame)
    ttl = round(cfg.ttl_seconds * 1e9)
    if ctx.shared is not None and ctx.shared.streaming:
        task = frame["task"].astype("string").fillna("\x00") if "task" in frame.columns \
            else pd.Series([""] * n, dtype="string")
        hit, reused = carried_hits(ctx.shared.tails, f"{ctx.scenario} prompt_cache stand-in",
                                   [task, frame["model_id"]], times, ttl, ok=ok)
    else:
        keys = np.where(ok, task_codes * n_models + model_codes, -1)
        hit, reused = replay_ttl_reuse(keys, times, ttl)
    if cfg.writes == "reused":
        ok &= reused | hit
    return np.where(ok, shared, 0.0), hit


def apply_prompt_cache(frame: pd.DataFrame, cfg: PromptCache, ctx: Context) -> pd.DataFrame:
    import numpy as np

    if cfg.writes == "reused" and ctx.shared is not None and ctx.shared.streaming:
        raise ctx.error("'reused' looks ahead to later requests, so it cannot run on a log read in chunks "
                        "(drop --chunk-rows, or use writes: all)", "prompt_cache.writes")

    model_codes = frame["model_id"].cat.codes.to_numpy().astype(np.int64)
    inputs = per_request(frame, "input_tokens")
    weight = frame["weight"].to_numpy(dtype=np.float64)
    eligible = (model_codes >= 0) & (inputs >= cfg.min_tokens)
    index = ctx.shared.prefix if ctx.shared is not None else None
    base_rows = _prefix_rows(frame, index)
    has_prefix = base_rows >= 0
    read = np.zeros(len(frame))
    write = np.zeros(len(frame))
    if index is not None and has_prefix.any():
        # a log with prefix data usually has it on every row: then views, not copies by mask
        pick: slice | np.ndarray = slice(None) if bool(has_prefix.all()) else has_prefix
        ok, limit = eligible[pick], inputs[pick]
        cached, blocked = replay_prefixes(index, base_rows[pick], model_codes[pick], ok, cfg, ctx,
                                          frame["model_id"][pick])
        capped = np.minimum(cached, limit, out=cached)  # both fresh arrays: computed in place
        np.putmask(capped, capped < max(cfg.min_tokens, 1), 0)  # too short a prefix is not a hit
        written = np.minimum(blocked, limit, out=blocked)
        written -= capped
        np.maximum(written, 0, out=written)
        np.putmask(capped, ~ok, 0)
        np.putmask(written, ~ok, 0)
        read[pick], write[pick] = capped, written
    rest = ~has_prefix
    if rest.any() and (cfg.prefix_tokens.default or cfg.prefix_tokens.by_task):
        sub = frame.loc[rest]
        shared, hit = _stand_in(sub, model_codes[rest], eligible[rest], cfg, ctx)
        read[rest] = np.where(hit, shared, 0)
        write[rest] = np.where(hit, 0, shared)
        ctx.assumptions.append(_stand_in_note(cfg))
    if cfg.writes == "reused":
        ctx.assumptions.append("prompt cache: breakpoints placed after the longest prefix a later request "
                               "reuses (writes only what pays off; needs foresight a live system lacks)")
    out = frame.copy(deep=False)
    out["cache_read_tokens"] = read * weight
    column = "cache_write_tokens" if cfg.ttl == "5m" else "cache_write_1h_tokens"
    other = "cache_write_1h_tokens" if cfg.ttl == "5m" else "cache_write_tokens"
    out[column] = write * weight
    out[other] = np.zeros(len(frame))
    if "audio_cache_read_tokens" in out.columns:  # the replay's reads replace the logged ones, cached audio too
        out["audio_cache_read_tokens"] = np.zeros(len(frame))
    ctx.details["prompt_cache"] = _details(frame, cfg, read, write, weight, eligible, has_prefix)
    ctx.details["prompt_cache"]["over_time"] = hits_per_hour(frame, read > 0)
    return out


def _stand_in_note(cfg: PromptCache) -> str:
    tasks = ", ".join(f"{t}: {n:,}" for t, n in cfg.prefix_tokens.by_task.items())
    return (f"prompt cache: rows without prefix_hashes assume a shared prefix of "
            f"{cfg.prefix_tokens.default:,} tokens per model and task" + (f" ({tasks})" if tasks else ""))


def _details(frame: pd.DataFrame, cfg: PromptCache, read: np.ndarray, write: np.ndarray, weight: np.ndarray,
             eligible: np.ndarray, has_prefix: np.ndarray) -> dict[str, Any]:
    total = requests(frame)
    input_total = float(frame["input_tokens"].to_numpy(dtype="float64").sum())
    hit_requests = requests(frame, read > 0)
    read_tokens = float((read * weight).sum())
    return {
        "ttl": cfg.ttl,
        "min_tokens": cfg.min_tokens,
        "requests": total,
        "replayed_from_prefix_hashes": requests(frame, has_prefix),
        "eligible_requests": requests(frame, eligible),
        "hit_requests": hit_requests,
        "request_hit_rate": share(hit_requests, total),
        "cache_read_tokens": read_tokens,
        "cache_write_tokens": float((write * weight).sum()),
        "input_tokens": input_total,
        "token_hit_rate": share(read_tokens, input_total),
    }
