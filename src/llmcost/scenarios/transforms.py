"""The simple strategies: prompt compression, batch, retries with fallback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.scenarios.common import (
    Context,
    clear_cache_columns,
    hash_share,
    per_request,
    requests,
    resolve_target,
    scaled,
    select,
    set_model_ids,
    share,
    union_codes,
)

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.scenarios.schema import Batch, Compression, Retries


def apply_compression(frame: pd.DataFrame, cfg: Compression, ctx: Context) -> pd.DataFrame:
    """Requests whose input is over ``threshold_tokens`` send ``ratio`` of it. The compressor model
    reads the original input and writes the compressed one; those calls are added as its own rows."""
    import numpy as np
    import pandas as pd

    over = per_request(frame, "input_tokens") > cfg.threshold_tokens
    if "model_id" in frame.columns:
        over &= frame["model_id"].notna().to_numpy(dtype=bool)
    inputs = frame["input_tokens"].to_numpy(dtype=np.float64)
    compressed = inputs * cfg.ratio
    out = frame.copy(deep=False)
    out["input_tokens"] = np.where(over, compressed, inputs)
    if "audio_input_tokens" in out.columns:  # audio is part of the input: it shrinks with it
        audio = frame["audio_input_tokens"].to_numpy(dtype=np.float64)
        out["audio_input_tokens"] = np.where(over, audio * cfg.ratio, audio)
    clear_cache_columns(out, over)
    info: dict[str, Any] = {
        "threshold_tokens": cfg.threshold_tokens, "ratio": cfg.ratio, "requests": requests(frame),
        "compressed_requests": requests(frame, over), "compressed_share": share(requests(frame, over),
                                                                                requests(frame)),
        "input_tokens_removed": float((inputs - compressed)[over].sum()),
    }
    ctx.details["compression"] = info
    if cfg.compressor is None or not over.any():
        return out
    compressor = resolve_target(cfg.compressor, ctx, "compression.compressor")
    info["compressor"] = compressor
    calls = frame.loc[over].copy(deep=False)
    calls["output_tokens"] = compressed[over]
    calls["reasoning_tokens"] = np.zeros(int(over.sum()))
    calls["batch"] = np.zeros(int(over.sum()), dtype=bool)
    clear_cache_columns(calls)
    codes, categories = union_codes(out, [compressor])
    set_model_ids(out, codes, categories)
    set_model_ids(calls, np.full(int(over.sum()), categories.index(compressor), dtype=np.int64), categories)
    both = pd.concat([out, calls], ignore_index=True)
    both["model_id"] = pd.Categorical(both["model_id"], categories=categories)
    return both


def apply_batch(frame: pd.DataFrame, cfg: Batch, ctx: Context) -> pd.DataFrame:
    """Move the selected requests (conditions, then a hash-based share) to batch rates."""
    chosen = select(frame, cfg.when, "batch-when") & hash_share(frame, cfg.share, "batch-share")
    out = frame.copy(deep=False)
    out["batch"] = frame["batch"].to_numpy(dtype=bool) | chosen
    no_batch = _models_without_batch(out, ctx)
    batched = requests(out, out["batch"].to_numpy(dtype=bool))
    ctx.details["batch"] = {
        "moved_requests": requests(frame, chosen), "requests": requests(out), "batch_requests": batched,
        "batch_share": share(batched, requests(out)),
        "models_without_batch_pricing": no_batch,
    }
    return out


def _models_without_batch(frame: pd.DataFrame, ctx: Context) -> list[str]:
    used = frame.loc[frame["batch"].to_numpy(dtype=bool), "model_id"].dropna().unique()
    return sorted(str(m) for m in used if not ctx.catalog.model(str(m)).has_batch)


def _error_rate(cfg: Retries, model: str, ctx: Context) -> float:
    value = cfg.error_rate.get(model, cfg.error_rate.get("default", 0.0))
    if value != "measured":
        return float(value)
    summary = ctx.bench.model(model) if ctx.bench is not None else None
    if summary is None:
        key = model if model in cfg.error_rate else "default"
        raise ctx.error(f"'measured' needs bench results that include '{model}'", f"retries.error_rate.{key}")
    return summary.error_rate


def apply_retries(frame: pd.DataFrame, cfg: Retries, ctx: Context) -> pd.DataFrame:
    """Each model fails with its error rate; a failed attempt is retried up to ``max_retries`` times,
    then the request moves down the ``fallback`` chain. Expected attempts on a model reached with
    probability r and error rate e: r·(1 + e + … + e^max_retries) when failed attempts are billed,
    else r·(1 − e^(max_retries+1)); the chain is reached with probability r·e^(max_retries+1)."""
    import numpy as np
    import pandas as pd

    chain = [resolve_target(m, ctx, f"retries.fallback[{i}]") for i, m in enumerate(cfg.fallback)]
    for key in cfg.error_rate:
        if key != "default":
            resolve_target(key, ctx, f"retries.error_rate.{key}")
    codes, categories = union_codes(frame, chain)
    used = set(np.flatnonzero(np.bincount(codes[codes >= 0])).tolist()) | {categories.index(m) for m in chain}
    rates = np.array([_error_rate(cfg, m, ctx) if i in used else 0.0 for i, m in enumerate(categories)] + [0.0])
    known = codes >= 0
    reach = np.ones(len(frame))
    parts = []
    attempts_total = 0.0
    weight = frame["weight"].to_numpy(dtype=np.float64)
    stages = [codes, *[np.full(len(frame), categories.index(m), dtype=np.int64) for m in chain]]
    for stage, stage_codes in enumerate(stages):
        e = np.where(known, rates[stage_codes], 0.0)
        fail_all = e ** (cfg.max_retries + 1)
        billed = sum(e**k for k in range(cfg.max_retries + 1)) if cfg.bill_failed else 1 - fail_all
        factor = reach * billed
        rows = factor > 0
        part = scaled(frame.loc[rows], factor[rows])
        set_model_ids(part, stage_codes[rows], categories)
        if stage:
            clear_cache_columns(part)
        # for quality and latency (llmcost.evidence): the share of these billed attempts that answers
        answers = np.divide(1 - fail_all, billed, out=np.zeros(len(frame)), where=np.asarray(billed) > 0)[rows]
        part["served_share"] = answers * (part["served_share"].to_numpy() if "served_share" in part else 1.0)
        parts.append(part)
        attempts_total += float((weight * factor).sum())
        reach = reach * fail_all
    out = pd.concat(parts, ignore_index=True)
    out["model_id"] = pd.Categorical(out["model_id"], categories=categories)
    total = requests(frame)
    ctx.details["retries"] = {
        "requests": total, "expected_billed_attempts": attempts_total,
        "extra_attempts_share": share(attempts_total - total, total),
        "failed_after_fallback": float((weight * reach).sum()),
        "error_rates": {m: float(rates[i]) for i, m in enumerate(categories) if rates[i]},
    }
    return out
