"""``llmcost plan`` end to end: segments, the engine's costs, the evidence, the exact search, the
chosen policy re-run through the engine (its cost is what ``estimate --scenarios`` of the written file
says, to the cent) and the cost–quality frontier."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.errors import UsageError
from llmcost.plan.problem import Bar, Bars, build_bars, build_problem
from llmcost.plan.search import Problem, closest, solve

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.evidence import BenchEvidence, PassRate
    from llmcost.plan.classifier import Trained
    from llmcost.plan.costs import CostTable
    from llmcost.plan.measures import Latency
    from llmcost.plan.segments import Segment
    from llmcost.projection import Window
    from llmcost.scenarios.schema import ScenarioSpec

POLICY_NAME = "planned-routing"


@dataclass(frozen=True)
class PlanOptions:
    bars: Bars = field(default_factory=Bars)
    candidates: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ("task", "input_size")
    size_buckets: tuple[int, ...] = (1000, 8000)
    with_caching: bool = False
    frontier_levels: int = 8
    projection_days: int = 30
    classifier_suite: str | None = None  # train a complexity classifier on this suite's bench outcomes
    classifier_model: str | None = None  # ... of this candidate (default: the cheapest)
    bench_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentChoice:
    segment: Segment
    requests: float
    model: str
    monthly_cost: Decimal  # this segment on this model (with caching: as when all traffic goes to it)
    logged_monthly_cost: Decimal
    quality: PassRate
    latency_source: str | None
    latency_p95_ms: float | None


@dataclass(frozen=True)
class Policy:
    choices: tuple[SegmentChoice, ...]
    monthly_cost: Decimal  # the engine's cost of the written scenario
    quality_point: float
    quality_low: float
    quality_high: float
    latency_ms: tuple[float | None, float | None, float | None]  # p50, p95, p99

    def share_by_model(self) -> dict[str, float]:
        total = sum(c.requests for c in self.choices) or 1.0
        out: dict[str, float] = {}
        for c in self.choices:
            out[c.model] = out.get(c.model, 0.0) + c.requests / total
        return out


@dataclass(frozen=True)
class FrontierPoint:
    level: float
    policy: Policy
    search_monthly_cost: Decimal


@dataclass(frozen=True)
class Plan:
    options: PlanOptions
    window: Window
    candidates: tuple[str, ...]
    baseline_monthly_cost: Decimal
    policy: Policy
    met: bool
    misses: tuple[str, ...]
    spec: ScenarioSpec
    frontier: tuple[FrontierPoint, ...]
    catalog_source: str
    evidence_source: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    classifier: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Inputs:
    frame: pd.DataFrame
    catalog: Catalog
    segments: list[Segment]
    candidates: list[str]
    table: CostTable
    rates: list[list[PassRate]]
    lats: dict[str, Latency]
    quality: list[list[float]]
    costs: list[list[float | None]]
    factor: Decimal


def make_plan(frame: pd.DataFrame, catalog: Catalog, evidence: BenchEvidence, options: PlanOptions,
              window_days: float | None = None) -> Plan:
    from llmcost.plan import measures
    from llmcost.plan.costs import cost_table
    from llmcost.plan.segments import build_segments
    from llmcost.projection import observed_window, project

    evidence = evidence.for_catalog(catalog)
    candidates = measures.check_candidates(options.candidates, catalog, evidence, "--candidates") \
        if options.candidates else measures.default_candidates(catalog, evidence)
    trained, by_class = _classifier(options, candidates, evidence, catalog)
    rule = trained.rule if trained is not None and "classifier" in options.dimensions else None
    segments, codes = build_segments(frame, options.dimensions, options.size_buckets, rule)
    rates = measures.pass_rates(segments, candidates, evidence, by_class)
    lats = measures.latencies(frame, candidates, evidence, catalog)
    if options.bars.max_p95_ms is not None or options.bars.max_p99_ms is not None:
        measures.require_latency(candidates, lats, evidence)
    window = observed_window(frame, window_days)
    factor = project(Decimal(1), window, options.projection_days)
    table = cost_table(frame, codes, len(segments), candidates, catalog, with_caching=options.with_caching)
    quality = [[r.point if options.bars.optimistic else r.low for r in row] for row in rates]
    costs = [[float(c.cost) if c.unpriced_requests <= logged.unpriced_requests + 1e-9 else None for c in row]
             for row, logged in zip(table.cells, table.logged, strict=True)]
    for seg, row in zip(segments, costs, strict=True):
        if all(c is None for c in row):
            raise UsageError(f"no candidate can price the {seg.label} traffic (the catalog lacks a rate it "
                             "needs, e.g. batch or a service tier): add a candidate that has it")
    inputs = _Inputs(frame, catalog, segments, candidates, table, rates, lats, quality, costs, factor)
    bars, gains = build_bars(options.bars, segments, table.requests, quality, lats, candidates)
    problem, index = build_problem(costs, gains, bars)
    found = solve(problem)
    met = found.choice is not None
    choice = found.choice
    if choice is None:
        choice = closest(problem)[0].choice
        assert choice is not None  # t = 0 always has a policy
    picked = [index[s][j] for s, j in enumerate(choice)]
    spec = policy_spec(segments, [candidates[j] for j in picked], options.with_caching, options.bars)
    baseline, engine_cost = _engine_monthly(inputs, spec, options.projection_days)
    policy = _policy(inputs, picked, spec, options, engine_cost)
    misses = () if met else _misses(bars, problem, choice, inputs, picked)
    frontier = _frontier(inputs, options, bars) if options.frontier_levels > 1 else ()
    notes = tuple(evidence.notes)
    unknown = sum(c.unpriced_requests for c in table.logged)
    if unknown:
        notes += (f"{unknown:,.0f} requests are on models the catalog cannot price: they stay on their model, "
                  "unpriced, in every policy (left out of every cost, never counted as $0)",)
    if options.with_caching:
        notes += ("with caching, a segment's cost is what it costs when all traffic goes to its model (the "
                  "segments sent to one model share its caches); the policy's cost is the engine's run of it",)
    return Plan(options, window, tuple(candidates), baseline, policy, met, misses, spec,
                frontier, f"{catalog.source} (as of {catalog.as_of})", evidence.source, notes,
                _classifier_json(trained))


def _classifier(options: PlanOptions, candidates: list[str], evidence: BenchEvidence, catalog: Catalog,
                ) -> tuple[Trained | None, dict[tuple[str, str | None, str], tuple[int, int]] | None]:
    """Train the complexity classifier when asked (on the chosen model's bench outcomes)."""
    from llmcost.plan import classifier

    if options.classifier_suite is None:
        if "classifier" in options.dimensions:
            raise UsageError("--segments classifier needs --classifier SUITE (the suite the bench ran)")
        return None, None
    if options.classifier_model is not None:
        model = catalog.resolve(options.classifier_model)
        if model is None or model not in candidates:
            raise UsageError(f"--classifier-model: '{options.classifier_model}' is not one of the candidates "
                             f"({', '.join(candidates)})")
    else:
        from llmcost.scenarios.common import blended_price

        model = min(candidates, key=lambda m: blended_price(catalog.model(m)))
    records = classifier.bench_records(options.bench_paths)
    texts = classifier.prompt_texts(options.classifier_suite)
    name = evidence.aliases.get(model, model)
    trained = classifier.train(texts, classifier.outcomes(records, name, texts, ", ".join(options.bench_paths)), name)
    return trained, classifier.class_counts(records, trained.predicted_pass)


def _classifier_json(trained: Trained | None) -> dict[str, Any] | None:
    if trained is None:
        return None
    return {"model": trained.rule.model, "prompts": trained.prompts, "held_out": trained.held_out,
            "held_out_accuracy": round(trained.accuracy, 6),
            "majority_baseline_accuracy": round(trained.baseline_accuracy, 6),
            "features": f"word 1-2-grams hashed into {trained.rule.n_features:,} buckets",
            "weights": len(trained.rule.weights)}


def policy_spec(segments: list[Segment], models: list[str], with_caching: bool, bars: Bars) -> ScenarioSpec:
    """The policy as a scenario: one routing rule per segment, in segment order (first match)."""
    from llmcost.plan.costs import caching_strategies
    from llmcost.scenarios.schema import ScenarioSpec

    rules = [{"when": seg.conditions.model_dump(exclude_none=True), "to": model}
             for seg, model in zip(segments, models, strict=True)]
    return ScenarioSpec.model_validate({
        "name": POLICY_NAME,
        "description": f"written by llmcost plan: cheapest routing per segment meeting {bars.describe()}",
        "routing": {"rules": rules}, **caching_strategies(with_caching)})


def _engine_monthly(inputs: _Inputs, spec: ScenarioSpec, projection_days: int) -> tuple[Decimal, Decimal]:
    """Baseline and policy monthly cost as ``estimate --scenarios`` computes them."""
    from llmcost.estimate import run_estimate
    from llmcost.scenarios.engine import ComposedScenario

    result = run_estimate(inputs.frame, inputs.catalog, [ComposedScenario(spec, "<plan>")],
                          projection_days=projection_days)
    return result.baseline.monthly_cost, result.scenarios[-1].monthly_cost


def _policy(inputs: _Inputs, picked: list[int], spec: ScenarioSpec, options: PlanOptions,
            engine_cost: Decimal | None = None) -> Policy:
    from llmcost.plan.measures import mixture_percentiles

    requests = inputs.table.requests
    choices = []
    for s, (seg, j) in enumerate(zip(inputs.segments, picked, strict=True)):
        model = inputs.candidates[j]
        lat = inputs.lats.get(model)
        p95 = mixture_percentiles([(lat, 1.0)])[1] if lat is not None else None
        choices.append(SegmentChoice(seg, requests[s], model, inputs.table.cells[s][j].cost * inputs.factor,
                                     inputs.table.logged[s].cost * inputs.factor, inputs.rates[s][j],
                                     lat.source if lat is not None else None, p95))
    total = sum(requests) or 1.0
    point = sum(c.requests * c.quality.point for c in choices) / total
    low = sum(c.requests * c.quality.low for c in choices) / total
    high = sum(c.requests * c.quality.high for c in choices) / total
    by_model: dict[str, float] = {}
    for c in choices:
        by_model[c.model] = by_model.get(c.model, 0.0) + c.requests
    parts = [(inputs.lats[m], w) for m, w in by_model.items() if m in inputs.lats]
    p50, p95, p99 = mixture_percentiles(parts) if len(parts) == len(by_model) else (None, None, None)
    if engine_cost is None:
        engine_cost = _engine_monthly(inputs, spec, options.projection_days)[1]
    return Policy(tuple(choices), engine_cost, point, low, high, (p50, p95, p99))


def _misses(bars: list[Bar], problem: Problem, choice: tuple[int, ...], inputs: _Inputs,
            picked: list[int]) -> tuple[str, ...]:
    got = problem.gains(choice)
    out = []
    for bar, g in zip(bars, got, strict=True):
        if g >= bar.need * (1 - 1e-9):
            continue
        if bar.kind == "quality":
            out.append(f"{bar.name} {g / bar.weight:.1%} < {bar.target:.1%}")
        else:
            share = 0.95 if bar.kind == "p95" else 0.99
            out.append(f"{bar.name}: {g / bar.weight:.1%} of requests within {bar.target:,.0f} ms, "
                       f"needs {share:.0%}")
    return tuple(out)


def _frontier(inputs: _Inputs, options: PlanOptions, bars: list[Bar]) -> tuple[FrontierPoint, ...]:
    """The cheapest policy at evenly spaced traffic-weighted quality levels, from the cheapest policy's
    quality to the best reachable (latency bars kept; the per-task bar left out: one quality axis)."""
    import numpy as np

    latency = Bars(None, False, options.bars.max_p95_ms, options.bars.max_p99_ms, options.bars.optimistic)
    lat_bars, lat_gains = build_bars(latency, inputs.segments, inputs.table.requests, inputs.quality,
                                     inputs.lats, inputs.candidates)
    base, index = build_problem(inputs.costs, lat_gains, lat_bars)
    cheapest = solve(base)
    if cheapest.choice is None:
        return ()
    total = float(sum(inputs.table.requests)) or 1.0
    w = inputs.table.requests

    def quality_of(choice: tuple[int, ...]) -> float:
        return sum(w[s] * inputs.quality[s][index[s][j]] for s, j in enumerate(choice)) / total

    best = sum(w[s] * max(inputs.quality[s][k] for k in index[s]) for s in range(len(w))) / total
    low = quality_of(cheapest.choice)
    points: list[FrontierPoint] = []
    seen: set[tuple[int, ...]] = set()
    for level in np.linspace(low, best, options.frontier_levels):
        q = Bars(float(level), False, options.bars.max_p95_ms, options.bars.max_p99_ms, options.bars.optimistic)
        qb, qg = build_bars(q, inputs.segments, inputs.table.requests, inputs.quality, inputs.lats,
                            inputs.candidates)
        problem, idx = build_problem(inputs.costs, qg, qb)
        found = solve(problem)
        if found.choice is None or found.choice in seen:
            continue
        seen.add(found.choice)
        picked = [idx[s][j] for s, j in enumerate(found.choice)]
        spec = policy_spec(inputs.segments, [inputs.candidates[j] for j in picked], options.with_caching, q)
        policy = _policy(inputs, picked, spec, options, engine_cost=_search_monthly(inputs, picked)
                         if not options.with_caching else None)
        points.append(FrontierPoint(float(level), policy, _search_monthly(inputs, picked)))
    return tuple(points)


def _search_monthly(inputs: _Inputs, picked: list[int]) -> Decimal:
    return sum((inputs.table.cells[s][j].cost for s, j in enumerate(picked)), Decimal(0)) * inputs.factor
