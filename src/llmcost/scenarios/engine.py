"""A scenario from the file: its strategies applied in one fixed order.

Order: exact response cache → semantic cache → failover → compression → routing or cascade → provider prompt
cache → batch → retries/fallback. The response cache sees the traffic as logged (it sits in front of everything);
failover follows it because it watches the logged models' logged latencies (and cannot share a scenario
with routing or cascade: each chooses the model);
provider prompt caching follows routing because it happens at the model that finally serves the
request and is priced at that model's cache rates. Request coalescing comes after the prompt cache,
before batch: cache hits never reach a provider, groups form per serving model, and the prompt cache
replays the requests as they arrive (a group keeps its first request's cache tokens); batch and
retries then act on the combined request. It is the only strategy that holds requests back, so a
streamed log ends with ``finish`` (the groups still open).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.scenarios.cascade import apply_cascade
from llmcost.scenarios.coalesce import apply_coalesce, flush_coalesce
from llmcost.scenarios.common import Context, times_ns, with_model_ids
from llmcost.scenarios.exact_cache import apply_exact_cache
from llmcost.scenarios.failover import apply_failover
from llmcost.scenarios.interface import Applied
from llmcost.scenarios.prompt_cache import apply_prompt_cache
from llmcost.scenarios.routing import apply_routing
from llmcost.scenarios.semantic_cache import apply_semantic_cache, with_embedding_calls
from llmcost.scenarios.transforms import apply_batch, apply_compression, apply_retries

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.bench.summary import BenchSummary
    from llmcost.catalog import Catalog
    from llmcost.scenarios.interface import Shared
    from llmcost.scenarios.schema import ScenarioSpec


@dataclass(frozen=True)
class ComposedScenario:
    """A named combination of strategies (see ``schema.ScenarioSpec``)."""

    spec: ScenarioSpec
    source: str = "<scenarios>"
    bench: BenchSummary | None = None
    index: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description or describe(self.spec)

    @property
    def monthly_growth(self) -> Decimal:
        return self.spec.monthly_growth

    @property
    def streamable(self) -> bool:
        """Whether chunk by chunk gives exactly the whole-log result: not with ``writes: reused`` (it looks
        ahead) nor with bench figures (their request shares are per chunk)."""
        return self.bench is None and (self.spec.prompt_cache is None or self.spec.prompt_cache.writes == "all")

    def context(self, catalog: Catalog, shared: Shared | None = None) -> Context:
        return Context(catalog, f"scenarios[{self.index}]", self.source, self.bench, shared=shared)

    def check_targets(self, catalog: Catalog) -> None:
        """Resolve every model or tier the scenario names (errors name the field)."""
        from llmcost.scenarios.common import resolve_target

        spec = self.spec
        ctx = self.context(catalog)
        named: list[tuple[str, str]] = []
        if spec.routing is not None:
            named += [(r.to, f"routing.rules[{i}].to") for i, r in enumerate(spec.routing.rules)]
        if spec.cascade is not None:
            named += [(s.model, f"cascade.steps[{i}].model") for i, s in enumerate(spec.cascade.steps)]
        if spec.compression is not None and spec.compression.compressor is not None:
            named.append((spec.compression.compressor, "compression.compressor"))
        if spec.failover is not None:
            named.append((spec.failover.target, "failover.target"))
        if spec.retries is not None:
            named += [(m, f"retries.fallback[{i}]") for i, m in enumerate(spec.retries.fallback)]
            named += [(m, f"retries.error_rate.{m}") for m in spec.retries.error_rate if m != "default"]
        for target, where in named:
            resolve_target(target, ctx, where)

    def apply(self, frame: pd.DataFrame, catalog: Catalog, shared: Shared | None = None) -> Applied:
        from llmcost.scenarios.prefix_index import prepare

        if shared is None:
            frame, shared = prepare(frame)
        spec = self.spec
        ctx = self.context(catalog, shared)
        out = frame
        if spec.exact_cache is not None:
            out = apply_exact_cache(out, spec.exact_cache, ctx)
        if spec.semantic_cache is not None:
            out = apply_semantic_cache(out, spec.semantic_cache, ctx)
        if shared.warm_after is not None:  # a halo: later strategies need only their own TTLs of it
            out = out.loc[times_ns(out) >= shared.warm_after]
        out = with_model_ids(out, catalog)
        if spec.failover is not None:
            out = apply_failover(out, spec.failover, ctx)
        if spec.compression is not None:
            out = apply_compression(out, spec.compression, ctx)
        if spec.routing is not None:
            out = apply_routing(out, spec.routing, ctx)
        if spec.cascade is not None:
            out = apply_cascade(out, spec.cascade, ctx)
        if spec.prompt_cache is not None:
            out = apply_prompt_cache(out, spec.prompt_cache, ctx)
        if spec.coalesce is not None:
            out = apply_coalesce(out, spec.coalesce, ctx)
        applied = self._after_coalesce(out, ctx, catalog)
        if spec.semantic_cache is None:
            return applied
        from llmcost.scenarios.semantic_judge import with_judge_calls

        frame_out = with_judge_calls(with_embedding_calls(applied.frame, ctx), ctx)
        return Applied(frame_out, applied.extra_cost, applied.details)

    def finish(self, catalog: Catalog, shared: Shared) -> Applied | None:
        """The end of a streamed log: the coalesced groups still open, sent and carried through the
        strategies after coalescing (None when nothing is held back)."""
        if self.spec.coalesce is None:
            return None
        ctx = self.context(catalog, shared)
        out = flush_coalesce(self.spec.coalesce, ctx)
        return None if out is None else self._after_coalesce(out, ctx, catalog)

    def _after_coalesce(self, out: pd.DataFrame, ctx: Context, catalog: Catalog) -> Applied:
        spec = self.spec
        if spec.batch is not None:
            out = apply_batch(out, spec.batch, ctx)
        if spec.retries is not None:
            out = apply_retries(out, spec.retries, ctx)
        if ctx.assumptions:
            ctx.details["assumptions"] = list(ctx.assumptions)
        ctx.details["model_tiers"] = {str(m): catalog.model(str(m)).tier for m in out["model_id"].cat.categories}
        if self.bench is not None:
            ctx.details["measured"] = measured_by_model(out, self.bench)
        return Applied(out, ctx.extra_cost, ctx.details, ctx.sums if self._cache_only else None)

    @property
    def _cache_only(self) -> bool:
        """The exact cache is the one strategy (its misses are the traffic, and it summed them already)."""
        spec = self.spec
        return spec.exact_cache is not None and all(
            getattr(spec, name) is None for name in type(spec).model_fields if name not in _NOT_STRATEGIES)


_NOT_STRATEGIES = frozenset({"name", "description", "monthly_growth", "exact_cache"})


def describe(spec: ScenarioSpec) -> str:
    parts = []
    if spec.exact_cache is not None:
        parts.append(f"exact cache (TTL {_duration(spec.exact_cache.ttl)})")
    if spec.semantic_cache is not None:
        parts.append(f"semantic cache (cosine ≥ {spec.semantic_cache.threshold:g}, TTL "
                     f"{_duration(spec.semantic_cache.ttl)})")
    if spec.failover is not None:
        parts.append(f"failover to {spec.failover.target} (p{spec.failover.percentile:g} > "
                     f"{spec.failover.threshold_ms:g} ms)")
    if spec.compression is not None:
        parts.append(f"compression (>{spec.compression.threshold_tokens:,} tokens to {spec.compression.ratio:.0%})")
    if spec.routing is not None:
        parts.append(f"routing ({len(spec.routing.rules)} rules)")
    if spec.cascade is not None:
        parts.append("cascade " + " → ".join(s.model for s in spec.cascade.steps))
    if spec.prompt_cache is not None:
        parts.append(f"prompt caching (TTL {spec.prompt_cache.ttl})")
    if spec.coalesce is not None:
        parts.append(f"coalescing (up to {spec.coalesce.max_batch} within {spec.coalesce.window_ms:g} ms)")
    if spec.batch is not None:
        parts.append(f"batch ({spec.batch.share:.0%} of selected)")
    if spec.retries is not None:
        parts.append("retries" + (" + fallback" if spec.retries.fallback else ""))
    if spec.monthly_growth:
        parts.append(f"growth {float(spec.monthly_growth):.0%}/month")
    return ", ".join(parts) or "no changes"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def measured_by_model(frame: pd.DataFrame, bench: BenchSummary) -> list[dict[str, Any]]:
    """Bench quality and latency of each model the scenario sends traffic to, with its request share."""
    import numpy as np

    weight = frame["weight"].to_numpy(dtype=np.float64)
    ids = frame["model_id"]
    codes = ids.cat.codes.to_numpy().astype(np.int64)  # int8 + 1 would wrap past 126 models
    per_model = np.bincount(codes + 1, weights=weight, minlength=len(ids.cat.categories) + 1)
    total = float(weight.sum())
    out = []
    for i, mid in enumerate(ids.cat.categories):
        reqs = float(per_model[i + 1])
        summary = bench.model(str(mid))
        if reqs == 0 or summary is None:
            continue
        out.append({
            "model": str(mid), "request_share": round(reqs / total, 6) if total else 0.0,
            "quality_pass_rate": summary.quality_pass_rate, "error_rate": summary.error_rate,
            "latency_ms_p50": summary.latency_ms.p50, "latency_ms_p95": summary.latency_ms.p95,
            "ttft_ms_p50": summary.ttft_ms.p50,
        })
    return out
