"""Semantic response cache, replayed on the logged prompts with real embeddings (rules and method in
``semantic_replay``; docs/scenarios.md "Semantic cache").

It sits right after the exact cache (which answers identical prompts first) and before failover and
routing: a hit never reaches a provider and costs ``hit_cost_usd``. Every request that reaches the cache is
embedded: those embedding calls are added to the scenario as traffic on the embedding model, priced from
the catalog like any model (a catalog without it leaves them unpriced, never $0). Where responses are
logged, each hit's cached answer (the response logged for the entry's request) is compared with the
response logged for the hit: the share that differ is the answer risk, reported next to the saving.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmcost.scenarios.common import requests, times_ns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.embedders.disk_cache import CachedEmbedder
    from llmcost.scenarios.common import Context
    from llmcost.scenarios.schema import SemanticCache
    from llmcost.scenarios.semantic_replay import ReplayState

PROMPT, RESPONSE = "prompt", "response"


@dataclass
class Carried:
    """What one semantic-cache scenario carries across the chunks of a streamed log."""

    state: ReplayState
    embedder: CachedEmbedder | None
    answers: dict[int, str] = field(default_factory=dict)  # log row of a live entry -> its logged response


def thresholds(cfg: SemanticCache) -> list[float]:
    """The scenario's threshold first, then the sweep's others (rounded to 6 places, de-duplicated)."""
    return list(dict.fromkeys(round(t, 6) for t in (cfg.threshold, *cfg.sweep)))


def apply_semantic_cache(frame: pd.DataFrame, cfg: SemanticCache, ctx: Context) -> pd.DataFrame:
    import numpy as np

    from llmcost.scenarios.semantic_report import report

    carried = _carried(cfg, ctx)
    taus = carried.state.thresholds
    order = np.lexsort((np.arange(len(frame)), times_ns(frame)))
    ordered = frame.iloc[order]
    groups, eligible = _groups(ordered, cfg, ctx, carried)
    rows = ordered["request_row"].to_numpy(dtype=np.int64) if "request_row" in ordered.columns \
        else order.astype(np.int64)
    from llmcost.scenarios.semantic_replay import replay_chunk

    decisions = replay_chunk(carried.state, groups, times_ns(ordered), rows, eligible)
    hits = []
    for mask in decisions.hits:
        back = np.zeros(len(frame), dtype=bool)
        back[order] = mask
        hits.append(back)
    risk = _answer_risk(ordered, rows, decisions.matched, cfg, ctx, carried)
    _keep_answers(ordered, rows, carried)
    embedded = requests(frame, np.asarray(eligible[np.argsort(order)]))
    report(frame, cfg, ctx, taus, hits, risk, embedded, carried)
    if cfg.judge is not None:
        _judge(ordered, rows, decisions.matched[0], cfg, ctx, carried)
    _note_embedding_calls(ordered, eligible, cfg, ctx, carried)
    return frame.loc[~hits[0]]


def _judge(ordered: pd.DataFrame, rows: np.ndarray, matched: np.ndarray, cfg: SemanticCache, ctx: Context,
           carried: Carried) -> None:
    """The judge's grades of a sample of the hits at the scenario's threshold (whole logs only)."""
    from llmcost.scenarios.semantic_judge import hit_pairs, judge_hits

    assert cfg.judge is not None
    if ctx.shared is not None and ctx.shared.streaming:
        raise ctx.error("the judge samples the hits of the whole log: run without --chunk-rows",
                        "semantic_cache.judge")
    pairs = hit_pairs(ordered, rows, matched, carried.answers)
    ctx.details["semantic_cache"]["judge"] = judge_hits(pairs, cfg.judge, ctx)


def _carried(cfg: SemanticCache, ctx: Context) -> Carried:
    """This scenario's replay state: new for a whole log, carried from the earlier chunks when streaming."""
    from llmcost.scenarios.semantic_replay import ReplayState

    key = f"semantic_cache {ctx.scenario} {cfg.model_dump_json()}"
    tails = ctx.shared.tails if ctx.shared is not None and ctx.shared.streaming else {}
    found = tails.get(key)
    if isinstance(found, Carried):
        return found
    state = ReplayState(thresholds(cfg), round(cfg.ttl * 1e9), cfg.max_entries, cfg.search)
    carried = Carried(state, None if cfg.embedder.kind == "column" else _embedder(cfg, ctx))
    tails[key] = carried
    return carried


def _embedder(cfg: SemanticCache, ctx: Context) -> CachedEmbedder:
    from llmcost.embedders import make_embedder
    from llmcost.embedders.disk_cache import CachedEmbedder

    where = f"{ctx.scenario}.semantic_cache.embedder"
    return CachedEmbedder(make_embedder(cfg.embedder), ctx.source, where)


def _groups(ordered: pd.DataFrame, cfg: SemanticCache, ctx: Context,
            carried: Carried) -> tuple[np.ndarray, np.ndarray]:
    """Each request's group id (-1: no prompt text, not eligible) and the eligible mask; new groups are
    embedded (identical texts once, through the disk cache) and added to the replay state."""
    import numpy as np
    import pandas as pd

    state = carried.state
    if cfg.embedder.kind == "column":
        from llmcost.embedders.column import column_vectors

        vectors, keys = column_vectors(ordered, cfg.embedder.column, ctx.error, "semantic_cache.embedder.column")
    else:
        if PROMPT not in ordered.columns:
            raise ctx.error("the logs have no 'prompt' column: the semantic cache embeds the prompt text "
                            "(log it, or give embeddings in a column with embedder.kind: column)", "semantic_cache")
        keys = ordered[PROMPT].astype("string").reset_index(drop=True)
        vectors = None
    eligible = (keys.notna() & (keys.str.len() > 0)).fillna(False).to_numpy(dtype=bool)
    parts = _partitions(ordered, cfg, state)
    pairs = pd.MultiIndex.from_arrays([parts[eligible], keys[eligible].to_numpy(dtype=object)])
    codes, uniques = pd.factorize(pairs)
    ids = np.empty(len(uniques), dtype=np.int64)
    new: list[int] = []
    known = state.groups
    for j, pair in enumerate(zip(uniques.get_level_values(0).tolist(), uniques.get_level_values(1).tolist(),
                                 strict=True)):
        found = known.get(pair)
        if found is None:
            found = len(known)
            known[pair] = found
            new.append(j)
        ids[j] = found
    if new:
        new_at = np.asarray(new, dtype=np.int64)
        if vectors is not None:
            first = np.flatnonzero(eligible)[np.unique(codes, return_index=True)[1][new_at]]
            fresh = vectors[first]
        else:
            texts = uniques.get_level_values(1).tolist()
            fresh = _embed(carried, [str(texts[j]) for j in new], ctx)
        if state.dims and fresh.shape[1] != state.dims:
            raise ctx.error(f"embeddings of {fresh.shape[1]} dimensions after earlier ones of {state.dims}",
                            "semantic_cache.embedder.dimensions")
        state.add_groups(fresh, uniques.get_level_values(0).to_numpy(dtype=np.int64)[new_at])
    groups = np.full(len(ordered), -1, dtype=np.int64)
    groups[eligible] = ids[codes]
    return groups, eligible


def _embed(carried: Carried, texts: list[str], ctx: Context) -> np.ndarray:
    from llmcost.embedders.interface import normalized

    assert carried.embedder is not None
    vectors = carried.embedder.embed(texts)
    want = carried.embedder.dimensions
    if want is not None and vectors.shape[1] != want:
        raise ctx.error(f"the embedder returned {vectors.shape[1]}-dimension vectors, expected {want}",
                        "semantic_cache.embedder.dimensions")
    return normalized(vectors)


def _partitions(ordered: pd.DataFrame, cfg: SemanticCache, state: ReplayState) -> np.ndarray:
    """Each request's partition id (scope values and, with per_model, the logged model), stable across chunks."""
    import numpy as np
    import pandas as pd

    columns = list(cfg.scope) + (["model"] if cfg.per_model else [])
    if not columns:
        return np.zeros(len(ordered), dtype=np.int64)
    values = [ordered[c].astype("string").fillna("").to_numpy(dtype=object) if c in ordered.columns
              else np.full(len(ordered), "", dtype=object) for c in columns]
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays(values))
    ids = np.empty(len(uniques), dtype=np.int64)
    for j, key in enumerate(uniques):
        ids[j] = state.partitions.setdefault(tuple(key), len(state.partitions))
    return np.asarray(ids[codes], dtype=np.int64)


def _answer_risk(ordered: pd.DataFrame, rows: np.ndarray, matched: list[np.ndarray], cfg: SemanticCache,
                 ctx: Context, carried: Carried) -> list[dict[str, float]] | None:
    """Per threshold: hits whose cached and logged answers can be compared, how many differ as text,
    and how many are less similar than ``answer_threshold`` by embedding. None: no responses logged."""
    import numpy as np
    import pandas as pd

    if RESPONSE not in ordered.columns:
        return None
    weight = ordered["weight"].to_numpy(dtype=np.float64)
    own = _texts(ordered[RESPONSE])
    by_row = dict(carried.answers)
    by_row.update({int(r): a for r, a in zip(rows.tolist(), own.tolist(), strict=True) if a is not None})
    out = []
    pending: list[tuple[np.ndarray, list[str], list[str]]] = []
    for m in matched:
        at = np.flatnonzero(m >= 0)
        cached = [by_row.get(int(r)) for r in m[at].tolist()]
        both = np.asarray([c is not None and own[i] is not None for c, i in zip(cached, at.tolist(), strict=True)],
                          dtype=bool)
        at = at[both] if len(at) else at
        a = [str(own[i]).strip() for i in at.tolist()]
        b = [str(c).strip() for c, ok in zip(cached, both.tolist(), strict=True) if ok]
        differ = np.asarray([x != y for x, y in zip(a, b, strict=True)], dtype=bool)
        w = weight[at]
        out.append({"compared_hits": float(w.sum()), "answers_differ": float(w[differ].sum()),
                    "answers_dissimilar": 0.0})
        pending.append((w, a, b))
    if carried.embedder is not None and any(len(a) for _, a, _ in pending):
        texts = list(dict.fromkeys(t for _, a, b in pending for t in (*a, *b)))
        vectors = _embed(carried, texts, ctx)
        index = pd.Index(texts)
        for stats, (w, a, b) in zip(out, pending, strict=True):
            if not a:
                continue
            from llmcost.scenarios.semantic_replay import pair_sims

            sims = pair_sims(vectors[index.get_indexer(pd.Index(a))], vectors[index.get_indexer(pd.Index(b))])
            stats["answers_dissimilar"] = float(w[sims < cfg.answer_threshold].sum())
    return out


def _texts(values: pd.Series) -> np.ndarray:
    """Text values as Python strings, None where missing."""
    text = values.astype("string")
    out: np.ndarray = text.to_numpy(dtype=object)
    out[text.isna().to_numpy()] = None
    return out


def _keep_answers(ordered: pd.DataFrame, rows: np.ndarray, carried: Carried) -> None:
    """Carry the logged responses of the entries still live in some threshold (later hits compare with them)."""
    import numpy as np

    if RESPONSE not in ordered.columns:
        return
    state = carried.state
    live: set[int] = set()
    for e in state.entries:
        live.update(int(e.ref[g]) for _, g, _ in e.queue)
    own = _texts(ordered[RESPONSE])
    answers = {r: a for r, a in carried.answers.items() if r in live}
    at = np.flatnonzero(np.isin(rows, np.fromiter(live, dtype=np.int64, count=len(live))))
    answers.update({int(rows[i]): own[i] for i in at.tolist() if own[i] is not None})
    carried.answers = answers


def _note_embedding_calls(ordered: pd.DataFrame, eligible: np.ndarray, cfg: SemanticCache, ctx: Context,
                          carried: Carried) -> None:
    """Remember the embedding calls a deployed cache makes (one per eligible request, its prompt's tokens),
    for ``with_embedding_calls`` to add as traffic at the end of the scenario."""
    import numpy as np

    model = cfg.embedder.price_as or (cfg.embedder.model if cfg.embedder.kind != "wordllama" else None)
    info = ctx.details["semantic_cache"]
    if model is None and cfg.embedder.kind == "wordllama":
        info["embedding_note"] = "local embedder (wordllama): no per-call charge"
        return
    if model is None:
        info["embedding_note"] = ("embeddings read from the log: name embedder.price_as to price the calls "
                                  "a deployed cache would make")
        return
    calls = float(ordered["weight"].to_numpy(dtype=np.float64)[eligible].sum())
    tokens = _prompt_tokens(ordered, eligible)
    if ctx.shared is not None:
        ctx.shared.memo[("semantic_cache calls", ctx.scenario, id(ctx))] = (model, calls, tokens, ordered.iloc[:0])
    info["embedding_model"] = model
    info["embedding_requests"] = calls
    info["embedding_tokens"] = tokens


def _prompt_tokens(ordered: pd.DataFrame, eligible: np.ndarray) -> int:
    """Tokens of the embedded prompts, counted offline (o200k_base) once per distinct text (and cached on
    disk with the embeddings), times its requests."""
    import numpy as np
    import pandas as pd

    from llmcost.embedders.token_cache import token_counts

    if PROMPT not in ordered.columns or not eligible.any():
        return 0
    text = ordered[PROMPT].astype("string")[eligible]
    codes, uniques = pd.factorize(text)
    counts = token_counts([str(u) for u in uniques])
    weight = ordered["weight"].to_numpy(dtype=np.int64)[eligible]
    return int((counts[codes] * weight).sum())


def with_embedding_calls(frame: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """``frame`` plus one row of the embedding calls noted for this scenario run (none: unchanged)."""
    import pandas as pd

    memo = ctx.shared.memo if ctx.shared is not None else {}
    noted = memo.pop(("semantic_cache calls", ctx.scenario, id(ctx)), None)
    if noted is None or not noted[1]:
        return frame
    model, calls, tokens, empty = noted
    when = frame["timestamp"].max() if len(frame) else \
        empty["timestamp"].max() if len(empty) else pd.Timestamp(0, tz="UTC")
    return with_call_row(frame, frame if len(frame.columns) else empty,
                         {"timestamp": when, "input_tokens": tokens, "weight": calls, "batch": False}, model, ctx)


def with_call_row(frame: pd.DataFrame, template: pd.DataFrame, values: dict[str, Any], model: str,
                  ctx: Context) -> pd.DataFrame:
    """``frame`` plus one row (on ``template``'s columns) for calls a strategy makes to ``model``: ``values``
    (its timestamp, tokens, weight), every other token column 0."""
    import pandas as pd

    row = template.iloc[:0].reindex([0])
    for column in row.columns:
        if column in values:
            row[column] = values[column]
        elif column.endswith("_tokens"):
            row[column] = 0
    out: pd.DataFrame = pd.concat([frame, row], ignore_index=True)
    out["model"] = _append_category(frame["model"], model)
    if "model_id" in frame.columns:
        out["model_id"] = _append_category(frame["model_id"], ctx.catalog.resolve(model))
    out["batch"] = out["batch"].astype(bool)
    return out


def _append_category(values: pd.Series, value: str | None) -> pd.Categorical:
    """A categorical column with one more row (``value``; None = missing), its codes kept."""
    import numpy as np
    import pandas as pd

    cats = [str(c) for c in values.cat.categories]
    if value is not None and value not in cats:
        cats.append(value)
    codes = values.cat.codes.to_numpy().astype(np.int64)
    code = -1 if value is None else cats.index(value)
    categories = pd.Index(cats, dtype=values.cat.categories.dtype)
    return pd.Categorical.from_codes(np.append(codes, code), categories=categories)

