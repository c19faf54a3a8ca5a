"""Cascade (quality gates): try the steps in order; a step's answer is accepted with some probability,
else the request goes on to the next step. Every attempted step is paid for.

With acceptance a_k, a request reaches step k with probability r_k = Π_{i<k} (1 − a_i) and is answered
there with probability r_k · a_k; the last step answers whatever reaches it. The scenario's traffic is
the expected traffic: each request appears once per step with tokens and weight scaled by r_k (the
same prompt is sent, the logged output length stands in for every step). ``accept: measured`` takes
the bench pass rate of that model (for the request's task when the bench measured it). A request too
long for a step's context window skips that step; one too long for the last step stays on its model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.scenarios.common import (
    Context,
    clear_cache_columns,
    per_request,
    requests,
    resolve_target,
    scaled,
    set_model_ids,
    share,
    union_codes,
)
from llmcost.scenarios.routing import model_array

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.schema import Cascade, CascadeStep


def apply_cascade(frame: pd.DataFrame, cfg: Cascade, ctx: Context) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    steps = [resolve_target(s.model, ctx, f"cascade.steps[{i}].model") for i, s in enumerate(cfg.steps)]
    codes, categories = union_codes(frame, steps)
    window = model_array(categories, ctx, "context_window", np.inf)
    inputs = per_request(frame, "input_tokens")
    known = codes >= 0
    reach = known.astype(np.float64)
    weight = frame["weight"].to_numpy(dtype=np.float64)
    parts = []
    info_steps: list[dict[str, Any]] = []
    total = requests(frame)
    for k, (step, model) in enumerate(zip(cfg.steps, steps, strict=True)):
        code = categories.index(model)
        fits = inputs <= window[code]
        attempted = np.where(fits, reach, 0.0)
        last = k == len(steps) - 1
        accept = np.ones(len(frame)) if last else _acceptance(frame, step, model, ctx, k)
        answered = attempted * accept
        reach = reach - answered
        rows = attempted > 0
        part = scaled(frame.loc[rows], attempted[rows])
        set_model_ids(part, np.full(int(rows.sum()), code, dtype=np.int64), categories)
        clear_cache_columns(part)
        part["cascade_step"] = k  # for quality and latency (llmcost.evidence): whose answer is used
        part["served_share"] = accept[rows]
        parts.append(part)
        info_steps.append({
            "model": model,
            "attempted": float((weight * attempted).sum()),
            "answered": float((weight * answered).sum()),
            "answered_share": share(float((weight * answered).sum()), total),
            "context_window_refusals": requests(frame, known & ~fits & (reach > 0)),
            "accept": step.accept if isinstance(step.accept, float) else "measured",
            "latency_ms": _latency(step, model, ctx),
        })
    unanswered = reach > 1e-12
    if (~known | unanswered).any():
        rest = frame.loc[~known | unanswered]
        left = np.where(known, reach, 1.0)[~known | unanswered]
        part = scaled(rest, left)
        set_model_ids(part, codes[~known | unanswered], categories)
        part["cascade_step"] = -1
        part["served_share"] = 1.0
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["model_id"] = pd.Categorical(out["model_id"], categories=categories)
    ctx.details["cascade"] = _details(info_steps, total, requests(frame, known & unanswered))
    return out


def _acceptance(frame: pd.DataFrame, step: CascadeStep, model: str, ctx: Context, k: int) -> np.ndarray:
    import numpy as np

    if isinstance(step.accept, float):
        return np.full(len(frame), step.accept)
    where = f"cascade.steps[{k}].accept"
    bench = ctx.bench
    if bench is None:
        raise ctx.error("'measured' needs bench_results: in the scenario file", where)
    summary = bench.model(model)
    if summary is None or summary.pass_rate() is None:
        raise ctx.error(f"the bench results have no pass rate for '{model}'", where)
    overall = summary.pass_rate()
    if "task" not in frame.columns:
        return np.full(len(frame), overall)
    task = frame["task"].astype("string")
    rates = {t: summary.pass_rate(str(t)) for t in task.dropna().unique()}
    mapped = task.map(rates).astype("float64").fillna(overall)
    return mapped.to_numpy(dtype=np.float64)


def _latency(step: CascadeStep, model: str, ctx: Context) -> float | None:
    if step.latency_ms is not None:
        return step.latency_ms
    if ctx.bench is not None:
        summary = ctx.bench.model(model)
        if summary is not None:
            return summary.latency_ms.p50
    return None


def _details(steps: list[dict[str, Any]], total: float, unanswered: float) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": total, "steps": steps, "unanswered_stay_on_logged_model": unanswered}
    latencies = [s["latency_ms"] for s in steps]
    if total and all(v is not None for v in latencies):
        expected = sum(s["attempted"] * s["latency_ms"] for s in steps) / total
        out["expected_latency_ms"] = round(expected, 3)
        out["extra_latency_ms_vs_last_step"] = round(expected - latencies[-1], 3)
    return out
