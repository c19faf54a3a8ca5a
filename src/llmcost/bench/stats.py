"""Per-request records → the bench summary (the JSON contract of :mod:`llmcost.bench.summary`).

Definitions (also in docs/bench.md):
- ``requests`` counts every (prompt, model, repetition) that ran; ``errors`` those that failed after retries.
- ``quality_pass_rate`` = passed / scored requests, where a request is scored when its prompt has
  assertions or a rubric; a failed request of a scored prompt counts as not passed.
- ``cost_usd`` sums the catalog cost of successful requests (failed ones are assumed unbilled);
  ``cost_per_request_usd`` divides it by successful requests. None when the model is unpriced.
- percentiles use linear interpolation over successful requests.
- ``goodput`` = share of all requests that succeeded and met every SLO given (``--slo-ttft-ms``,
  ``--slo-latency-ms``); with no SLO it is the success rate.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from llmcost.bench.results import Record
from llmcost.bench.summary import SCHEMA_VERSION


@dataclass(frozen=True)
class Gates:
    """What the recommendation must meet."""

    min_quality: float | None = None
    slo_ttft_ms: float | None = None
    slo_latency_ms: float | None = None

    def describe(self) -> str:
        parts = []
        if self.min_quality is not None:
            parts.append(f"quality ≥ {self.min_quality:.0%}")
        if self.slo_ttft_ms is not None:
            parts.append(f"p95 TTFT ≤ {self.slo_ttft_ms:g} ms")
        if self.slo_latency_ms is not None:
            parts.append(f"p95 latency ≤ {self.slo_latency_ms:g} ms")
        return ", ".join(parts)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    value = data[lo] + (data[hi] - data[lo]) * (pos - lo)
    return round(value, 3)


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "p99": percentile(values, 99)}


def group_stats(records: Sequence[Record], gates: Gates) -> dict[str, Any]:
    """Everything the summary says about a group of records (a model, or a model's task)."""
    ok = [r for r in records if r.ok]
    scored = [r for r in records if r.passed is not None]
    errors = Counter(r.error_type or "error" for r in records if not r.ok)
    cost = _sum_money([r.cost_usd for r in ok])
    provider = _sum_money([r.provider_cost_usd for r in ok])
    per_request = cost / len(ok) if cost is not None and ok else None
    rates = [r.output_tokens_per_s for r in ok if r.output_tokens_per_s is not None]
    good = sum(1 for r in ok if _meets_slo(r, gates))
    n = len(records)
    return {
        "requests": n,
        "successes": len(ok),
        "errors": n - len(ok),
        "error_rate": _ratio(n - len(ok), n) or 0.0,
        "errors_by_type": dict(sorted(errors.items())),
        "quality_pass_rate": _ratio(sum(1 for r in scored if r.passed), len(scored)),
        "quality_passed": sum(1 for r in scored if r.passed),
        "quality_scored": len(scored),
        "cost_usd": _money(cost),
        "cost_per_request_usd": _money(per_request),
        "cost_per_1k_usd": _money(per_request * 1000 if per_request is not None else None),
        "provider_cost_usd": _money(provider),
        "ttft_ms": percentiles([r.ttft_ms for r in ok if r.ttft_ms is not None]),
        "latency_ms": percentiles([r.latency_ms for r in ok if r.latency_ms is not None]),
        "itl_ms": percentiles([r.itl_ms for r in ok if r.itl_ms is not None]),
        "tpot_ms": percentiles([r.tpot_ms for r in ok if r.tpot_ms is not None]),
        "output_tokens_per_s": percentile(rates, 50),
        "goodput": _ratio(good, n),
        "input_tokens": sum(r.input_tokens or 0 for r in ok),
        "output_tokens": sum(r.output_tokens or 0 for r in ok),
        "estimated_usage_requests": sum(1 for r in ok if (r.usage_source or "api") != "api"),
    }


def build_summary(records: Sequence[Record], *, suite: str, models: Sequence[str], gates: Gates,
                  not_run: dict[str, int] | None = None) -> dict[str, Any]:
    """The bench summary as a JSON-ready dict, models in the order given."""
    out_models = []
    for name in models:
        mine = [r for r in records if r.model == name]
        if not mine:
            continue
        entry = {"model": name, **group_stats(mine, gates), **latency_samples(mine)}
        tasks = sorted({r.task for r in mine if r.task is not None})
        entry["by_task"] = [{"task": t, **group_stats([r for r in mine if r.task == t], gates)} for t in tasks]
        out_models.append(entry)
    return {
        "kind": "bench",
        "schema_version": SCHEMA_VERSION,
        "suite": suite,
        "gates": {"min_quality": gates.min_quality, "slo_ttft_ms": gates.slo_ttft_ms,
                  "slo_latency_ms": gates.slo_latency_ms},
        "not_run": dict(not_run or {}),
        "models": out_models,
        "recommendation": recommend(out_models, gates),
    }


def latency_samples(records: Sequence[Record]) -> dict[str, list[float]]:
    """Every successful request's latency and TTFT, sorted: what ``llmcost.evidence`` mixes by traffic."""
    ok = [r for r in records if r.ok]
    return {"latency_samples_ms": sorted(round(r.latency_ms, 3) for r in ok if r.latency_ms is not None),
            "ttft_samples_ms": sorted(round(r.ttft_ms, 3) for r in ok if r.ttft_ms is not None)}


def recommend(models: Sequence[dict[str, Any]], gates: Gates) -> list[dict[str, Any]]:
    """Per task (``null`` = all prompts): the cheapest model meeting the gates. Unpriced models rank
    after priced ones; ``model`` is null when none qualifies."""
    tasks: list[str | None] = [None, *sorted({t["task"] for m in models for t in m["by_task"]})]
    out = []
    for task in tasks:
        rows = []
        for m in models:
            stats = m if task is None else next((t for t in m["by_task"] if t["task"] == task), None)
            if stats is not None:
                rows.append((m["model"], stats))
        fits = [(name, s) for name, s in rows if _fails(s, gates) is None]
        fits.sort(key=lambda item: (item[1]["cost_per_request_usd"] is None, item[1]["cost_per_request_usd"] or 0))
        wanted = gates.describe()
        if fits:
            name, s = fits[0]
            price = s["cost_per_request_usd"]
            cost = f"{fine_usd(price)}/request" if price is not None else "unpriced"
            which = f"cheapest meeting {wanted}" if wanted else "cheapest with a successful request (no gates given)"
            out.append({"task": task, "model": name, "reason": f"{which} ({cost})"})
        else:
            why = "; ".join(f"{name}: {_fails(s, gates)}" for name, s in rows) or "no results"
            which = f"no model meets {wanted}" if wanted else "no model has a successful request"
            out.append({"task": task, "model": None, "reason": f"{which} ({why})"})
    return out


def fine_usd(value: float) -> str:
    """Dollars with three significant digits for amounts under a dollar: ``$0.0000155``."""
    if value == 0 or abs(value) >= 1:
        return f"${value:,.2f}"
    digits = 2 - math.floor(math.log10(abs(value)))
    return f"${value:.{digits}f}"


def _fails(stats: dict[str, Any], gates: Gates) -> str | None:
    """Why a group misses the gates, or None when it meets them."""
    if not stats["successes"]:
        return "no successful request"
    quality = stats["quality_pass_rate"]
    if gates.min_quality is not None and (quality is None or quality < gates.min_quality):
        return "quality not measured" if quality is None else f"quality {quality:.0%}"
    for slo, key, label in ((gates.slo_ttft_ms, "ttft_ms", "TTFT"), (gates.slo_latency_ms, "latency_ms", "latency")):
        p95 = stats[key]["p95"]
        if slo is not None and (p95 is None or p95 > slo):
            return f"p95 {label} not measured" if p95 is None else f"p95 {label} {p95:,.0f} ms"
    return None


def _meets_slo(r: Record, gates: Gates) -> bool:
    if gates.slo_ttft_ms is not None and (r.ttft_ms is None or r.ttft_ms > gates.slo_ttft_ms):
        return False
    return gates.slo_latency_ms is None or (r.latency_ms is not None and r.latency_ms <= gates.slo_latency_ms)


def _sum_money(values: list[Decimal | None]) -> Decimal | None:
    """Exact sum, or None when there is nothing to sum or any value is unknown."""
    known = [v for v in values if v is not None]
    if not values or len(known) != len(values):
        return None
    return sum(known, Decimal(0))


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(round(value, 12))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
