"""Routing rules: the first rule whose conditions hold sends a request to its target model.

Targets are catalog ids, tier names or ``tiers[N]``; a tier means its cheapest model. A request whose
input exceeds the target's context window is refused by that target and stays on its model (counted).
Requests on a model the catalog does not know stay unpriced, so every scenario prices the same
traffic as the baseline. Rerouted requests keep their token counts, re-counted with the target's
tokenizer when the prompt text is in the logs; their logged provider-cache tokens no longer apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.scenarios.common import (
    Context,
    blended_price,
    clear_cache_columns,
    per_request,
    requests_by,
    resolve_target,
    select,
    set_model_ids,
    share,
    union_codes,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.schema import Routing


def model_array(categories: list[str], ctx: Context, attr: str, missing: float) -> np.ndarray:
    """A per-category array of a catalog attribute (context window, blended price), plus a slot for -1."""
    import numpy as np

    values = []
    for mid in categories:
        model = ctx.catalog.model(mid)
        value = blended_price(model) if attr == "price" else getattr(model, attr)
        values.append(missing if value is None else float(value))
    return np.array([*values, missing], dtype=np.float64)


def apply_routing(frame: pd.DataFrame, cfg: Routing, ctx: Context) -> pd.DataFrame:
    import numpy as np

    targets = [resolve_target(rule.to, ctx, f"routing.rules[{i}].to") for i, rule in enumerate(cfg.rules)]
    codes, categories = union_codes(frame, targets)
    target_codes = np.array([categories.index(t) for t in targets], dtype=np.int64)
    rule_of = np.full(len(frame), -1, dtype=np.int64)
    open_rows = codes >= 0
    for i, rule in enumerate(cfg.rules):
        hit = select(frame, rule.when, f"route{i}") & open_rows
        rule_of[hit] = i
        open_rows &= ~hit
    matched = rule_of >= 0
    new_codes = codes.copy()
    new_codes[matched] = target_codes[rule_of[matched]]
    window = model_array(categories, ctx, "context_window", np.inf)
    refused = matched & (per_request(frame, "input_tokens") > window[new_codes])
    price = model_array(categories, ctx, "price", np.inf)
    kept = matched & ~refused & (price[codes] < price[new_codes]) if cfg.keep_cheaper \
        else np.zeros(len(frame), dtype=bool)
    stay = ~matched | refused | kept
    new_codes[stay] = codes[stay]
    moved = new_codes != codes
    out = frame.copy(deep=False)
    set_model_ids(out, new_codes, categories)
    clear_cache_columns(out, moved)
    recounted = _recount_tokens(out, moved, codes, new_codes, categories, ctx)
    ctx.details["routing"] = _details(frame, cfg, targets, rule_of, refused, kept, moved, recounted)
    if any(rule.try_first for rule in cfg.rules):
        out = _with_cascades(frame, out, cfg, rule_of, kept, ctx)
    return out


def _with_cascades(frame: pd.DataFrame, routed: pd.DataFrame, cfg: Routing, rule_of: np.ndarray,
                   kept: np.ndarray, ctx: Context) -> pd.DataFrame:
    """Rules with ``try_first`` are cascades ending at their ``to``: their requests (as they came, before
    routing) go through the cascade strategy; the other requests keep their routed model."""
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.cascade import apply_cascade
    from llmcost.scenarios.schema import Cascade, CascadeStep

    taken = np.zeros(len(frame), dtype=bool)
    parts = []
    infos = []
    for i, rule in enumerate(cfg.rules):  # every such rule, matched or not: details of one shape per chunk
        if not rule.try_first:
            continue
        rows = (rule_of == i) & ~kept
        taken |= rows
        steps = [*rule.try_first, CascadeStep(model=rule.to, accept=1.0)]
        parts.append(apply_cascade(frame.loc[rows], Cascade(steps=steps), ctx))
        infos.append({"rule": i, **ctx.details.pop("cascade")})
    ctx.details["routing"]["cascades"] = infos
    parts = [p for p in parts if len(p)]
    if not parts:
        return routed
    rest = routed.loc[~taken].copy(deep=False)
    rest["cascade_step"] = -1
    rest["served_share"] = 1.0
    pieces = [rest, *parts] if len(rest) else parts
    categories = list(dict.fromkeys(c for p in pieces for c in p["model_id"].cat.categories))
    for p in pieces:
        p["model_id"] = pd.Categorical(p["model_id"], categories=categories)
    return pd.concat(pieces, ignore_index=True)


def _details(frame: pd.DataFrame, cfg: Routing, targets: list[str], rule_of: np.ndarray, refused: np.ndarray,
             kept: np.ndarray, moved: np.ndarray, recounted: int) -> dict[str, Any]:
    # Every count below from one pass: requests by (rule, moved, refused, kept).
    n_rules = len(cfg.rules)
    code = (rule_of + 1) * 8 + moved * 4 + refused * 2 + kept
    by = requests_by(frame, code, (n_rules + 1) * 8).reshape(n_rules + 1, 2, 2, 2)  # [rule+1, moved, refused, kept]
    total = float(by.sum())
    rules = []
    for i, rule in enumerate(cfg.rules):
        mine = by[i + 1]
        routed = float(mine[1].sum())
        rules.append({
            "rule": i, "to": rule.to, "model": targets[i], "matched": float(mine.sum()),
            "routed": routed, "routed_share": share(routed, total),
            "context_window_refusals": float(mine[:, 1].sum()),
            "kept_cheaper": float(mine[:, :, 1].sum()),
        })
    routed = float(by[:, 1].sum())
    return {
        "requests": total,
        "routed": routed,
        "routed_share": share(routed, total),
        "context_window_refusals": float(by[:, :, 1].sum()),
        "tokens_recounted_requests": recounted,
        "rules": rules,
    }


def _recount_tokens(frame: pd.DataFrame, moved: np.ndarray, old: np.ndarray, new: np.ndarray,
                    categories: list[str], ctx: Context) -> int:
    """Scale moved rows' input by (target tokenizer count / source tokenizer count) of the prompt text.

    Needs the prompt text, both tokenizers named in the catalog, and ``llmcost.tokens``; otherwise the
    logged counts stand. Returns how many rows were re-counted."""
    import numpy as np

    if "prompt" not in frame.columns or not moved.any():
        return 0
    try:
        from llmcost.tokens import get_encoding
    except ImportError:
        return 0
    names = [ctx.catalog.model(m).tokenizer for m in categories] + [None]
    src = np.array(names, dtype=object)[old]
    dst = np.array(names, dtype=object)[new]
    todo = np.flatnonzero(moved & (src != dst) & (src != None) & (dst != None)  # noqa: E711
                          & frame["prompt"].notna().to_numpy())
    if len(todo) == 0:
        return 0
    inputs = frame["input_tokens"].to_numpy(dtype=np.float64).copy()
    prompts = frame["prompt"].to_numpy()
    encodings: dict[str, Any] = {}
    done = 0
    for pair in {(src[i], dst[i]) for i in todo}:
        rows = todo[(src[todo] == pair[0]) & (dst[todo] == pair[1])]
        try:
            enc = [encodings.setdefault(p, get_encoding(p)) for p in pair]
        except Exception:  # an encoding that cannot be loaded offline: keep the logged counts
            continue
        texts = [str(prompts[i]) for i in rows]
        before = np.array([len(t) for t in enc[0].encode_ordinary_batch(texts)], dtype=np.float64)
        after = np.array([len(t) for t in enc[1].encode_ordinary_batch(texts)], dtype=np.float64)
        ratio = np.where(before > 0, after / np.maximum(before, 1), 1.0)
        inputs[rows] = np.round(inputs[rows] * ratio)
        done += len(rows)
    frame["input_tokens"] = inputs
    return done
