"""What a plan writes: the JSON result, the scenario file, a LiteLLM router config and a rules file.

Rules file (``--write-rules``), for any gateway — schema ``llmcost-routing-rules`` version 1::

    {"kind": "llmcost-routing-rules", "schema_version": 1, "policy": "planned-routing",
     "match": "first",                      # the first rule whose conditions all hold decides
     "rules": [{"segment": "support.le1000", # also the tag the LiteLLM config uses
                "when": {"task": "support", "input_tokens": {"max": 1000}},
                "model": "gpt-4o-mini",      # catalog id
                "provider": "openai"}],
     "default_model": "gpt-4o"}             # for requests no rule matches (none in the planned traffic)

``when`` holds the scenario file's conditions: ``task`` (the request's task label, one value or a
list), ``input_tokens`` {``min``, ``max``} (inclusive, prompt tokens of the request); a missing key
matches every request.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmcost.report.money import json_usd

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.plan.run import FrontierPoint, Plan, Policy, SegmentChoice

RULES_KIND = "llmcost-routing-rules"


def scenario_yaml(plan: Plan, command: str) -> str:
    import yaml

    body = {"scenarios": [plan.spec.model_dump(mode="json", exclude_defaults=True, exclude_none=True)]}
    head = (f"# Written by: {command}\n# Policy: {plan.options.bars.describe()}; projected "
            f"${plan.policy.monthly_cost:,.2f} per {plan.options.projection_days} days "
            f"(baseline ${plan.baseline_monthly_cost:,.2f}).\n"
            "# Reproduce: llmcost estimate LOG... --scenarios THIS_FILE\n")
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def rules_json(plan: Plan, catalog: Catalog) -> str:
    rules = [{"segment": c.segment.tag, "when": c.segment.conditions.model_dump(mode="json", exclude_none=True),
              "model": c.model, "provider": catalog.model(c.model).provider, **_try_first(c, catalog)}
             for c in plan.policy.choices]
    doc = {"kind": RULES_KIND, "schema_version": 1, "policy": plan.spec.name, "match": "first", "rules": rules,
           "default_model": _default_model(plan.policy)}
    return json.dumps(doc, indent=2) + "\n"


def _try_first(c: SegmentChoice, catalog: Catalog) -> dict[str, Any]:
    """A cascade segment: ``try_first`` asks ``model`` only when the first model's answer is rejected."""
    if c.first is None:
        return {}
    return {"try_first": [{"model": c.first, "provider": catalog.model(c.first).provider,
                           "expected_accept_share": c.accept}]}


def _default_model(policy: Policy) -> str:
    shares = policy.share_by_model()
    return max(shares, key=lambda m: shares[m])


def litellm_yaml(plan: Plan, catalog: Catalog, public_name: str = "llmcost-plan") -> str:
    """A LiteLLM proxy config: one deployment per chosen model under one public model name, each carrying
    the tags of its segments (``router_settings.enable_tag_filtering``); the application sends the
    segment's tag with each request (``"tags": ["support.le1000"]``). Untagged requests go to the
    deployment tagged ``default`` (the model serving the most traffic)."""
    import yaml

    default = _default_model(plan.policy)
    tags: dict[str, list[str]] = {}
    escalate: dict[str, list[str]] = {}
    for c in plan.policy.choices:
        tags.setdefault(c.first or c.model, []).append(c.segment.tag)
        if c.first is not None:
            escalate.setdefault(c.model, []).append(c.segment.tag)
    model_list = []
    for group, models in ((public_name, tags), (f"{public_name}-escalate", escalate)):
        model_list += _deployments(group, models, catalog, default if group == public_name else None)
    doc: dict[str, Any] = {"model_list": model_list, "router_settings": {"enable_tag_filtering": True}}
    head = ("# LiteLLM proxy config written by llmcost plan (tag-based routing).\n"
            f"# Send requests to model '{public_name}' with the segment's tag, e.g. \"tags\": "
            f"[\"{plan.policy.choices[0].segment.tag}\"]; see docs/plan.md for the tags of each segment.\n")
    if escalate:
        head += (f"# Cascade segments: when the answer fails your check, send the request again to model "
                 f"'{public_name}-escalate' with the same tag.\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _deployments(public_name: str, tags: dict[str, list[str]], catalog: Catalog, default: str | None,
                 ) -> list[dict[str, Any]]:
    model_list = []
    for model, mine in tags.items():
        entry = catalog.model(model)
        provider = entry.provider or ""
        params: dict[str, Any] = {"model": f"{provider}/{model}" if provider and not model.startswith(provider + "/")
                                  else model, "tags": mine + (["default"] if model == default else [])}
        key_env = _key_env(provider)
        if key_env:
            params["api_key"] = f"os.environ/{key_env}"
        model_list.append({"model_name": public_name, "litellm_params": params})
    return model_list


_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY",
            "groq": "GROQ_API_KEY", "mistral": "MISTRAL_API_KEY", "openrouter": "OPENROUTER_API_KEY",
            "together_ai": "TOGETHERAI_API_KEY", "deepseek": "DEEPSEEK_API_KEY", "xai": "XAI_API_KEY"}


def _key_env(provider: str) -> str | None:
    return _KEY_ENV.get(provider)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON (fields may be added, never renamed)."""
    base = plan.baseline_monthly_cost
    return {
        "kind": "plan", "schema_version": 1,
        "catalog": plan.catalog_source, "bench": plan.evidence_source,
        "window": {"start": plan.window.start.isoformat(), "end": plan.window.end.isoformat(),
                   "days": float(plan.window.days), "requests": plan.window.requests},
        "projection_days": plan.options.projection_days,
        "bars": {"min_quality": plan.options.bars.min_quality, "per_task": plan.options.bars.per_task,
                 "max_p95_latency_ms": plan.options.bars.max_p95_ms,
                 "max_p99_latency_ms": plan.options.bars.max_p99_ms,
                 "quality_bound": "point" if plan.options.bars.optimistic else "wilson_low"},
        "candidates": list(plan.candidates),
        "with_caching": plan.options.with_caching,
        "met": plan.met, "misses": list(plan.misses),
        "baseline_monthly_cost_usd": json_usd(base),
        "policy": policy_json(plan.policy, base),
        "frontier": [frontier_json(p, base) for p in plan.frontier],
        "scenario": plan.spec.model_dump(mode="json", exclude_defaults=True, exclude_none=True),
        "notes": list(plan.notes),
        "classifier": plan.classifier,
    }


def policy_json(policy: Policy, baseline: Any) -> dict[str, Any]:
    p50, p95, p99 = policy.latency_ms
    return {
        "monthly_cost_usd": json_usd(policy.monthly_cost),
        "saves_monthly_usd": json_usd(baseline - policy.monthly_cost),
        "saves_pct": round(float((baseline - policy.monthly_cost) / baseline * 100), 2) if baseline else None,
        "quality": {"point": round(policy.quality_point, 6), "low": round(policy.quality_low, 6),
                    "high": round(policy.quality_high, 6)},
        "latency_ms": {"p50": p50, "p95": p95, "p99": p99},
        "share_by_model": {m: round(v, 6) for m, v in policy.share_by_model().items()},
        "segments": [{
            "segment": c.segment.label, "tag": c.segment.tag, "task": c.segment.task,
            "input_tokens": {"min": None if c.segment.low is None else c.segment.low + 1, "max": c.segment.high},
            "requests": c.requests, "model": c.model,
            "monthly_cost_usd": json_usd(c.monthly_cost),
            "logged_monthly_cost_usd": json_usd(c.logged_monthly_cost),
            "quality": {"passed": c.quality.passed, "trials": c.quality.trials, "point": round(c.quality.point, 6),
                        "low": round(c.quality.low, 6), "high": round(c.quality.high, 6)},
            "latency_source": c.latency_source, "latency_p95_ms": c.latency_p95_ms,
            "cascade": None if c.first is None else {"first": c.first, "then": c.model,
                                                     "accept_share": round(c.accept or 0.0, 6)},
        } for c in policy.choices],
    }


def frontier_json(point: FrontierPoint, baseline: Any) -> dict[str, Any]:
    out = policy_json(point.policy, baseline)
    del out["segments"]
    return {"quality_level": round(point.level, 6), **out,
            "models": [c.label for c in point.policy.choices]}
