"""The semantic cache's details: hit rate, saving and answer risk at the scenario's threshold, and per
threshold of the sweep. Counts and dollars add up across the chunks of a streamed log (``details``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.scenarios.common import requests, share

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.common import Context
    from llmcost.scenarios.schema import SemanticCache
    from llmcost.scenarios.semantic_cache import Carried


def report(frame: pd.DataFrame, cfg: SemanticCache, ctx: Context, taus: list[float], hits: list[np.ndarray],
           risk: list[dict[str, float]] | None, embedded: float, carried: Carried) -> None:
    total = requests(frame)
    rows = [_at(frame, ctx, cfg, tau, mask, None if risk is None else risk[i], total)
            for i, (tau, mask) in enumerate(zip(taus, hits, strict=True))]
    main = rows[0]
    ctx.extra_cost += main.pop("lookup_cost_usd_raw")
    info: dict[str, Any] = {
        "threshold": cfg.threshold, "ttl_s": cfg.ttl, "max_entries": cfg.max_entries, "per_model": cfg.per_model,
        "scope": list(cfg.scope), "embedder": cfg.embedder.kind, "search": cfg.search,
        "answer_threshold": cfg.answer_threshold, **main, "embedded_requests": embedded,
    }
    embedder = carried.embedder
    state = carried.state
    done = getattr(carried, "reported", (0, 0, 0))
    now = (embedder.calls.texts if embedder else 0, embedder.from_cache if embedder else 0, state.fallbacks)
    info["texts_embedded_now"] = now[0] - done[0]
    info["texts_from_disk_cache"] = now[1] - done[1]
    info["exact_fallbacks"] = now[2] - done[2]
    carried.reported = now  # type: ignore[attr-defined]
    if embedder is not None:
        info["embedder_model"] = embedder.model
    if risk is None:
        info["answer_note"] = "no 'response' column in the logs: answer risk not measured"
    if len(taus) > 1 or cfg.sweep:
        sweep = sorted(rows, key=lambda r: r["threshold"])
        for r in sweep:
            r.pop("lookup_cost_usd_raw", None)
        info["sweep"] = sweep
    ctx.details["semantic_cache"] = info


def _at(frame: pd.DataFrame, ctx: Context, cfg: SemanticCache, tau: float, hits: np.ndarray,
        risk: dict[str, float] | None, total: float) -> dict[str, Any]:
    from llmcost.pricing import price

    hit_requests = requests(frame, hits)
    lookup = cfg.hit_cost_usd * Decimal(repr(hit_requests))
    saved = price(frame.loc[hits], ctx.catalog).total if hits.any() else Decimal(0)
    out: dict[str, Any] = {
        "threshold": tau, "requests": total, "hits": hit_requests, "hit_rate": share(hit_requests, total),
        "input_tokens_saved": float(frame["input_tokens"].to_numpy().sum(where=hits)),
        "output_tokens_saved": float(frame["output_tokens"].to_numpy().sum(where=hits)),
        "cost_saved_usd": saved - lookup, "lookup_cost_usd": lookup, "lookup_cost_usd_raw": lookup,
    }
    if risk is not None:
        out.update(risk)
        out["answers_differ_share"] = share(risk["answers_differ"], risk["compared_hits"])
        out["answers_dissimilar_share"] = share(risk["answers_dissimilar"], risk["compared_hits"])
    return out
