"""The machine contract of ``estimate --format json`` (DESIGN.md). Fields may be added, never renamed."""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import Any

from llmcost.estimate import Estimate, ScenarioOutcome
from llmcost.pricing import ModelCost, PricedTraffic
from llmcost.report.breakdown_view import breakdowns_json
from llmcost.report.evidence_view import evidence_json
from llmcost.report.money import json_count, json_usd

SCHEMA_VERSION = 1


def estimate_to_dict(est: Estimate) -> dict[str, Any]:
    w = est.window
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "estimate",
        "window": {
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
            "days": float(round(w.days, 6)),
            "requests": w.requests,
        },
        "projection_days": est.projection_days,
        "catalog": est.catalog_source,
        "unpriced": _unpriced_list(est.baseline.priced),
        "warnings": list(est.warnings),
        "scenarios": [_scenario(est, s) for s in est.scenarios],
        "breakdowns": breakdowns_json(est),
    }


def render_json(est: Estimate) -> str:
    """``json.dumps(estimate_to_dict(est), indent=2)``, byte for byte (``json_text``: the long lists of
    unpriced names are not written by Python's indenting encoder)."""
    from llmcost.report.json_text import dumps

    return dumps(estimate_to_dict(est)) + "\n"


def _scenario(est: Estimate, s: ScenarioOutcome) -> dict[str, Any]:
    saved, pct = est.savings(s)
    comparable = est.comparable(s)  # unpriced traffic never reads as savings: null instead
    total = s.priced.total
    logged = s.priced.cost_logged
    out: dict[str, Any] = {
        "name": s.name,
        "description": s.description,
        "observed_cost_usd": json_usd(s.observed_cost),
        "monthly_cost_usd": json_usd(s.monthly_cost),
        "monthly_growth": float(s.monthly_growth),
        "monthly_cost_with_growth_usd": json_usd(s.monthly_cost_with_growth),
        "savings_vs_baseline_usd": json_usd(saved) if comparable else None,
        "savings_vs_baseline_pct": round(float(pct), 4) if comparable else None,
        "extra_cost_usd": json_usd(s.extra_cost),
        "complete": s.complete,
        "by_model": [_model(s, m, total) for m in s.priced.priced],
        "unpriced": _unpriced_list(s.priced),
    }
    if logged is not None:
        out["cost_logged_usd"] = json_usd(logged)
    if s.details:
        out["details"] = _plain(s.details)
    out.update(evidence_json(s))  # quality, latency (with bench results) or a note that quality is unmeasured
    return out


def _model(s: ScenarioOutcome, m: ModelCost, total: Decimal) -> dict[str, Any]:
    cost = m.cost if m.cost is not None else Decimal(0)
    out: dict[str, Any] = {
        "model": m.model,
        "provider": m.provider,
        "requests": json_count(m.tokens.requests),
        "input_tokens": json_count(m.tokens.input_tokens),
        "cache_read_tokens": json_count(m.tokens.cache_read_tokens),
        "cache_write_tokens": json_count(m.tokens.cache_write_tokens),
        "cache_write_1h_tokens": json_count(m.tokens.cache_write_1h_tokens),
        "output_tokens": json_count(m.tokens.output_tokens),
        "reasoning_tokens": json_count(m.tokens.reasoning_tokens),
        "long_context_requests": json_count(m.long_context_requests),
        "batch_requests": json_count(m.batch_requests),
        "observed_cost_usd": json_usd(cost),
        "monthly_cost_usd": json_usd(s.monthly(cost)),
        "share_pct": round(float(cost / total * 100), 4) if total else 0.0,
    }
    if m.cost_logged is not None:
        out["cost_logged_usd"] = json_usd(m.cost_logged)
    return out


def _unpriced_list(p: PricedTraffic) -> list[dict[str, Any]]:
    """Every unpriced model by name, as ``_unpriced`` writes it; unknown names straight from their columns
    (``unpriced_names``: no ``ModelCost`` per name)."""
    from llmcost.name_sums import FIELDS

    no_rate = [_unpriced(m) for m in p.models if m.cost is None]
    if not p.names:
        return no_rate
    sums = p.names.sums

    def column(field: str) -> list[int | float]:
        j = FIELDS.index(field)
        values = sums.matrix[:, j].tolist()
        return [int(v) for v in values] if sums.integral[j] else [json_count(v) for v in values]

    named = [{"model": name, "requests": requests, "reason": reason, "input_tokens": inputs, "output_tokens": outputs}
             for name, requests, reason, inputs, outputs in zip(
                 sums.names, column("requests"), p.names.reasons, column("input_tokens"), column("output_tokens"),
                 strict=True)]
    return list(heapq.merge(no_rate, named, key=lambda d: str(d["model"])))


def _unpriced(m: ModelCost) -> dict[str, Any]:
    return {
        "model": m.model,
        "requests": json_count(m.tokens.requests),
        "reason": m.unpriced_reason,
        "input_tokens": json_count(m.tokens.input_tokens),
        "output_tokens": json_count(m.tokens.output_tokens),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
