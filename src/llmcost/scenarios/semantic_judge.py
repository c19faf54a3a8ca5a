"""A judge model grades a seeded sample of semantic-cache hit pairs (docs/scenarios.md "Semantic cache").

For each hit at the scenario's threshold whose answers are both logged, the pair is the prompt, the response
logged for that request (the reference) and the cached answer (the response logged for the entry's request,
the candidate). ``sample`` pairs are drawn with numpy's generator seeded by ``seed`` from the pairs in log
row order, so the same log and seed send the same pairs. Each goes to the judge through bench's client and
judge prompt (``bench.scoring.judge_request``); a score under ``min_score`` counts the hit as wrong. The
share judged wrong comes with a 95% Wilson interval. The judge calls are added to the scenario as traffic on
the judge model, priced from the catalog like the embedding calls (a judge the catalog does not price leaves
the scenario incomplete, never $0). A judge that fails or gives no score stops the run (exit 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.bench.client import Completion
    from llmcost.bench.targets import Target
    from llmcost.scenarios.common import Context
    from llmcost.scenarios.schema import SemanticJudge

Pair = tuple[int, str, str, str]  # log row, prompt, reference (logged answer), candidate (cached answer)
MEMO = "semantic_cache judge calls"


def hit_pairs(ordered: pd.DataFrame, rows: np.ndarray, matched: np.ndarray,
              answers: dict[int, str]) -> list[Pair]:
    """The hits (``matched`` >= 0) whose prompt and both answers are logged, in log row order."""
    import numpy as np

    from llmcost.scenarios.semantic_cache import PROMPT, RESPONSE, _texts

    if RESPONSE not in ordered.columns or PROMPT not in ordered.columns:
        return []
    own = _texts(ordered[RESPONSE])
    prompts = _texts(ordered[PROMPT])
    by_row = dict(answers)
    by_row.update({int(r): a for r, a in zip(rows.tolist(), own.tolist(), strict=True) if a is not None})
    out: list[Pair] = []
    for i in np.flatnonzero(matched >= 0).tolist():
        cached = by_row.get(int(matched[i]))
        if cached is not None and own[i] is not None and prompts[i] is not None:
            out.append((int(rows[i]), str(prompts[i]), str(own[i]), str(cached)))
    out.sort(key=lambda p: p[0])
    return out


def draw(pairs: list[Pair], size: int, seed: int) -> list[Pair]:
    """A seeded random sample of ``size`` pairs (all of them when there are fewer), in log row order."""
    import numpy as np

    if len(pairs) <= size:
        return list(pairs)
    chosen = np.sort(np.random.default_rng(seed).choice(len(pairs), size=size, replace=False))
    return [pairs[int(i)] for i in chosen]


def judge_hits(pairs: list[Pair], cfg: SemanticJudge, ctx: Context) -> dict[str, Any]:
    """Grade a sample of ``pairs``; returns the details and notes the judge calls for ``with_judge_calls``."""
    from llmcost.evidence.wilson import wilson

    sample = draw(pairs, cfg.sample, cfg.seed)
    target = _target(cfg, ctx)
    info: dict[str, Any] = {"model": target.name, "min_score": cfg.min_score, "seed": cfg.seed,
                            "pairs_available": len(pairs), "sample_size": len(sample)}
    if not sample:
        info["note"] = "no hit with its prompt and both answers logged: nothing to judge"
        return info
    from llmcost.bench.targets import read_keys
    from llmcost.errors import LlmcostError

    try:
        key = read_keys([target])[target.name]
    except LlmcostError as e:
        raise ctx.error(f"judge: {e}", "semantic_cache.judge.api_key_env") from None
    scores, completions = _run(sample, target, key, cfg, ctx)
    wrong = sum(1 for s in scores if s < cfg.min_score)
    low, high = wilson(wrong, len(sample))
    info.update({"judged_wrong": wrong, "judged_wrong_share": wrong / len(sample),
                 "judged_wrong_low": low, "judged_wrong_high": high})
    info.update(_note_calls(sample, completions, target, ctx))
    return info


def _target(cfg: SemanticJudge, ctx: Context) -> Target:
    from llmcost.bench.targets import Target
    from llmcost.errors import LlmcostError

    where = "semantic_cache.judge"
    if cfg.base_url is not None:
        from llmcost.bench.targets import adhoc_target

        try:
            return adhoc_target(ctx.catalog, url=cfg.base_url, model=cfg.model, api=cfg.api,
                                api_key_env=cfg.api_key_env)
        except LlmcostError as e:
            raise ctx.error(f"judge: {e}", where) from None
    mid = ctx.catalog.resolve(cfg.model)
    if mid is None:
        raise ctx.error(f"judge model '{cfg.model}' is not in the catalog (or give base_url)", f"{where}.model")
    model = ctx.catalog.model(mid)
    if model.endpoint is None:
        raise ctx.error(f"judge model '{mid}' has no 'endpoint' in the catalog; give base_url", f"{where}.model")
    ep = model.endpoint
    return Target(mid, ep.api, ep.base_url, ep.model or mid, cfg.api_key_env or ep.api_key_env, model)


def _run(sample: list[Pair], target: Target, key: str | None, cfg: SemanticJudge,
         ctx: Context) -> tuple[list[int], list[Completion]]:
    import asyncio

    from llmcost.bench.client import HttpChatClient
    from llmcost.bench.scoring import judge_request, judge_score
    from llmcost.errors import EndpointError

    async def run() -> list[Completion]:
        client = HttpChatClient(api=target.api, base_url=target.base_url, model=target.served_model,
                                api_key=key, timeout_s=cfg.timeout_s)
        gate = asyncio.Semaphore(cfg.concurrency)

        async def one(pair: Pair) -> Completion:
            async with gate:
                return await client.complete(judge_request(_case(pair), pair[3]))

        try:
            return list(await asyncio.gather(*(one(p) for p in sample)))
        finally:
            await client.aclose()

    try:
        completions = asyncio.run(run())
    except EndpointError as e:
        raise ctx.error(f"the judge endpoint failed: {e}", "semantic_cache.judge") from None
    scores: list[int] = []
    for pair, done in zip(sample, completions, strict=True):
        score = judge_score(done.text)
        if score is None:
            raise ctx.error(f"the judge gave no 'SCORE: n' for the hit at log row {pair[0]}", "semantic_cache.judge")
        scores.append(score)
    return scores, completions


def _case(pair: Pair) -> Any:
    from llmcost.bench.suite import PromptCase

    rubric = ("The answer must give the same information as this reference answer, logged for the same "
              f"request (wording may differ):\n{pair[2]}")
    return PromptCase(f"row-{pair[0]}", None, (), (("user", pair[1]),), None, None, 200, (), rubric)


def _note_calls(sample: list[Pair], completions: list[Completion], target: Target, ctx: Context) -> dict[str, Any]:
    """The judge calls' tokens (the endpoint's usage; counted offline where it reports none), noted for
    ``with_judge_calls`` to add as traffic on the judge model."""
    from llmcost.bench.scoring import judge_request
    from llmcost.embedders.token_cache import token_counts

    inp = out = 0
    for pair, done in zip(sample, completions, strict=True):
        if done.usage is not None:
            inp += done.usage.input_tokens
            out += done.usage.output_tokens
        else:
            asked = judge_request(_case(pair), pair[3]).messages[0][1]
            counts = token_counts([asked, done.text])
            inp, out = inp + int(counts[0]), out + int(counts[1])
    if ctx.shared is not None:
        ctx.shared.memo[(MEMO, ctx.scenario, id(ctx))] = (target.name, len(sample), inp, out)
    return {"calls": len(sample), "input_tokens": inp, "output_tokens": out}


def with_judge_calls(frame: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """``frame`` plus one row of the judge calls noted for this scenario run (none: unchanged)."""
    import pandas as pd

    from llmcost.scenarios.semantic_cache import with_call_row

    memo = ctx.shared.memo if ctx.shared is not None else {}
    noted = memo.pop((MEMO, ctx.scenario, id(ctx)), None)
    if noted is None or len(frame.columns) == 0:
        return frame
    model, calls, inp, out_tokens = noted
    values: dict[str, Any] = {"timestamp": frame["timestamp"].max() if len(frame) else pd.Timestamp(0, tz="UTC"),
                              "input_tokens": inp, "output_tokens": out_tokens, "weight": calls, "batch": False}
    return with_call_row(frame, frame, values, model, ctx)
