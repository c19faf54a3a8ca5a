"""Routing rules: first match wins, tiers, context-window refusals, keep_cheaper, hash share."""

from __future__ import annotations

import pytest
from scenario_helpers import apply, cost, frame, tiny, usd

from llmcost.errors import ScenarioError
from llmcost.scenarios.common import Context, resolve_target

RULES = {"routing": {"rules": [{"when": {"task": "cheap"}, "to": "small"}, {"to": "tiers[1]"}]}}


def test_first_match_wins_and_context_window_refusal() -> None:
    df = frame([
        {"task": "cheap", "input_tokens": 5000},    # → small: 5000×1 + 100×2 = 5200 µ$
        {"task": "cheap", "input_tokens": 20000},   # small's window is 10k: refused, stays big: 202000 µ$
        {"task": "other"},                          # default rule → tiers[1] = mid: 4000 + 800 = 4800 µ$
        {"task": "cheap", "model": "mystery"},      # unknown model: stays unpriced
    ])
    applied = apply(RULES, df)
    assert cost(applied) == usd(212_000)
    info = applied.details["routing"]
    assert info["routed"] == 2
    assert info["context_window_refusals"] == 1
    assert info["rules"][0]["context_window_refusals"] == 1
    assert info["rules"][1]["model"] == "mid"
    assert applied.frame["model_id"].astype(str).tolist()[:3] == ["small", "big", "mid"]


def test_keep_cheaper_leaves_requests_on_a_cheaper_model() -> None:
    df = frame([{"model": "small", "task": "other"}, {"task": "other"}])
    spec = {"routing": {"keep_cheaper": True, "rules": [{"to": "mid"}]}}
    applied = apply(spec, df)
    assert applied.frame["model_id"].astype(str).tolist() == ["small", "mid"]
    assert applied.details["routing"]["rules"][0]["kept_cheaper"] == 1
    assert cost(applied) == usd(1200 + 4800)


def test_conditions_on_tokens_model_tags_and_prompt() -> None:
    df = frame([
        {"input_tokens": 100, "output_tokens": 10, "tags": "a,b", "prompt": "hello"},
        {"input_tokens": 100, "output_tokens": 900, "tags": "b", "prompt": "translate this"},
        {"input_tokens": 5000, "tags": "c", "prompt": "hello"},
    ])
    rules = [
        {"when": {"output_tokens": {"min": 500}}, "to": "mid"},
        {"when": {"input_tokens": {"max": 1000}, "tags": ["a"], "model": "big"}, "to": "small"},
        {"when": {"prompt_regex": "^hel+o$"}, "to": "mid"},
    ]
    applied = apply({"routing": {"rules": rules}}, df)
    assert applied.frame["model_id"].astype(str).tolist() == ["small", "mid", "mid"]


def test_hash_share_is_deterministic_and_close_to_the_share() -> None:
    df = frame([{"at": i, "prompt_hash": f"p{i}"} for i in range(2000)])
    spec = {"routing": {"rules": [{"when": {"share": 0.1}, "to": "small"}]}}
    first = apply(spec, df).details["routing"]["routed"]
    assert first == apply(spec, df).details["routing"]["routed"]
    assert 140 <= first <= 260


def test_tier_targets_resolve_to_the_cheapest_model_in_the_tier() -> None:
    ctx = Context(tiny(), "scenarios[0]", "f.yaml")
    assert resolve_target("economy", ctx, "x") == "small"
    assert resolve_target("tiers[2]", ctx, "x") == "big"
    with pytest.raises(ScenarioError, match="3 tiers"):
        resolve_target("tiers[5]", ctx, "routing.rules[0].to")
    with pytest.raises(ScenarioError) as err:
        resolve_target("nope", ctx, "routing.rules[0].to")
    assert err.value.field == "scenarios[0].routing.rules[0].to"


def test_rerouted_prompts_are_recounted_with_the_target_tokenizer() -> None:
    from llmcost.tokens import get_encoding

    text = "Quantum chromodynamics überprüfung 東京 tokenization"
    before = len(get_encoding("o200k_base").encode_ordinary(text))
    after = len(get_encoding("cl100k_base").encode_ordinary(text))
    assert before != after
    df = frame([{"input_tokens": 800, "prompt": text}, {"input_tokens": 800, "prompt": text, "task": "x"}])
    spec = {"routing": {"rules": [{"when": {"task": "x"}, "to": "mid"}, {"to": "small"}]}}
    applied = apply(spec, df)
    # big (o200k) → mid (cl100k): re-counted; big → small (both o200k): unchanged
    assert applied.frame["input_tokens"].tolist() == [800, round(800 * after / before)]
    assert applied.details["routing"]["tokens_recounted_requests"] == 1
