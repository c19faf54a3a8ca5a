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
    from llmcost.plan.cascades import CascadeOption
    from llmcost.plan.classifier import Trained
    from llmcost.plan.costs import CostTable
    from llmcost.plan.measures import Latency, Mixed
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
    cascades: bool = False  # also weigh two-model cascades (cheaper first, escalate to the dearer)


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
    first: str | None = None  # a cascade: this model answers first, ``model`` takes the escalations
    accept: float | None = None  # the share the first model's answers are accepted (its pass rate)

    @property
    def label(self) -> str:
        return self.model if self.first is None else f"{self.first}→{self.model}"


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
            a = c.accept if c.first is not None and c.accept is not None else 0.0
            if c.first is not None:
                out[c.first] = out.get(c.first, 0.0) + a * c.requests / total
            out[c.model] = out.get(c.model, 0.0) + (1 - a) * c.requests / total
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
    cascades: tuple[CascadeOption, ...] = ()
    accepts: tuple[tuple[float, ...], ...] = ()  # [segment][cascade]
    cascade_lats: tuple[tuple[Mixed | None, ...], ...] = ()  # [segment][cascade]


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
    options_c = _cascade_options(options, candidates, catalog, segments, rates, lats)
    table = cost_table(frame, codes, len(segments), candidates, catalog, with_caching=options.with_caching,
                       extra_specs=options_c.specs)
    rates = [[*row, *extra] for row, extra in zip(rates, options_c.rates, strict=True)]
    quality = [[r.point if options.bars.optimistic else r.low for r in row] for row in rates]
    costs = [[float(c.cost) if c.unpriced_requests <= logged.unpriced_requests + 1e-9 else None for c in row]
             for row, logged in zip(table.cells, table.logged, strict=True)]
    for seg, row in zip(segments, costs, strict=True):
        if all(c is None for c in row):
            raise UsageError(f"no candidate can price the {seg.label} traffic (the catalog lacks a rate it "
                             "needs, e.g. batch or a service tier): add a candidate that has it")
    inputs = _Inputs(frame, catalog, segments, candidates, table, rates, lats, quality, costs, factor,
                     options_c.options, options_c.accepts, options_c.lats)
    bars, gains = build_bars(options.bars, segments, table.requests, quality, lats, candidates, inputs.cascade_lats)
    problem, index = build_problem(costs, gains, bars)
    found = solve(problem)
    met = found.choice is not None
    choice = found.choice
    if choice is None:
        choice = closest(problem)[0].choice
        assert choice is not None  # t = 0 always has a policy
    picked = [index[s][j] for s, j in enumerate(choice)]
    spec = _spec_of(inputs, picked, options.with_caching, options.bars)
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


@dataclass(frozen=True)
class _CascadeColumns:
    options: tuple[CascadeOption, ...] = ()
    accepts: tuple[tuple[float, ...], ...] = ()
    lats: tuple[tuple[Mixed | None, ...], ...] = ()
    rates: tuple[tuple[PassRate, ...], ...] = ()
    specs: tuple[ScenarioSpec, ...] = ()


def _cascade_options(options: PlanOptions, candidates: list[str], catalog: Catalog, segments: list[Segment],
                     rates: list[list[PassRate]], lats: dict[str, Latency]) -> _CascadeColumns:
    """With ``--cascades``: every (cheaper, dearer) pair of candidates as a further option per segment."""
    from llmcost.plan import cascades

    if not options.cascades:
        return _CascadeColumns(rates=tuple(() for _ in segments))
    if options.with_caching:
        raise UsageError("--cascades cannot be combined with --with-caching (cascade steps are fresh "
                         "requests: the prompt-caching replay does not apply to them)")
    pairs = cascades.pairs(candidates, catalog)
    at = {m: j for j, m in enumerate(candidates)}
    accepts = tuple(tuple(rates[s][at[o.first]].point for o in pairs) for s in range(len(segments)))
    both = {o: cascades.summed(lats[o.first], lats[o.then]) for o in pairs if o.first in lats and o.then in lats}
    mixed = tuple(tuple(cascades.latency(lats[o.first], both[o], accepts[s][k]) if o in both else None
                        for k, o in enumerate(pairs)) for s in range(len(segments)))
    quality = tuple(tuple(cascades.quality(rates[s][at[o.first]], rates[s][at[o.then]], accepts[s][k], o.label)
                          for k, o in enumerate(pairs)) for s in range(len(segments)))
    specs = tuple(cascades.all_segments_spec(segments, o, [accepts[s][k] for s in range(len(segments))])
                  for k, o in enumerate(pairs))
    return _CascadeColumns(tuple(pairs), accepts, mixed, quality, specs)


def _spec_of(inputs: _Inputs, picked: list[int], with_caching: bool, bars: Bars) -> ScenarioSpec:
    n = len(inputs.candidates)
    models = [inputs.candidates[j] if j < n else inputs.cascades[j - n].then for j in picked]
    firsts = [None if j < n else (inputs.cascades[j - n].first, inputs.accepts[s][j - n])
              for s, j in enumerate(picked)]
    return policy_spec(inputs.segments, models, with_caching, bars, firsts)


def policy_spec(segments: list[Segment], models: list[str], with_caching: bool, bars: Bars,
                firsts: list[tuple[str, float] | None] | None = None) -> ScenarioSpec:
    """The policy as a scenario: one routing rule per segment, in segment order (first match); a
    segment served by a cascade tries its first model before (``try_first``)."""
    from llmcost.plan.cascades import rule
    from llmcost.plan.costs import caching_strategies
    from llmcost.scenarios.schema import ScenarioSpec

    heads = firsts or [None] * len(segments)
    rules = [rule(seg, model, *(head or (None, None)))
             for seg, model, head in zip(segments, models, heads, strict=True)]
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
    n = len(inputs.candidates)
    choices = []
    lats: list[Latency | Mixed | None] = []
    for s, (seg, j) in enumerate(zip(inputs.segments, picked, strict=True)):
        first, accept = (None, None) if j < n else (inputs.cascades[j - n].first, inputs.accepts[s][j - n])
        model = inputs.candidates[j] if j < n else inputs.cascades[j - n].then
        lat: Latency | Mixed | None = inputs.lats.get(model) if j < n else inputs.cascade_lats[s][j - n]
        lats.append(lat)
        p95 = mixture_percentiles([(lat, 1.0)])[1] if lat is not None else None
        choices.append(SegmentChoice(seg, requests[s], model, inputs.table.cells[s][j].cost * inputs.factor,
                                     inputs.table.logged[s].cost * inputs.factor, inputs.rates[s][j],
                                     lat.source if lat is not None else None, p95, first, accept))
    total = sum(requests) or 1.0
    point = sum(c.requests * c.quality.point for c in choices) / total
    low = sum(c.requests * c.quality.low for c in choices) / total
    high = sum(c.requests * c.quality.high for c in choices) / total
    parts = [(lat, c.requests) for lat, c in zip(lats, choices, strict=True) if lat is not None]
    p50, p95, p99 = mixture_percentiles(parts) if len(parts) == len(choices) else (None, None, None)
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
                                     inputs.lats, inputs.candidates, inputs.cascade_lats)
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
                            inputs.candidates, inputs.cascade_lats)
        problem, idx = build_problem(inputs.costs, qg, qb)
        found = solve(problem)
        if found.choice is None or found.choice in seen:
            continue
        seen.add(found.choice)
        picked = [idx[s][j] for s, j in enumerate(found.choice)]
        spec = _spec_of(inputs, picked, options.with_caching, q)
        policy = _policy(inputs, picked, spec, options, engine_cost=_search_monthly(inputs, picked)
                         if not options.with_caching else None)
        points.append(FrontierPoint(float(level), policy, _search_monthly(inputs, picked)))
    return tuple(points)


def _search_monthly(inputs: _Inputs, picked: list[int]) -> Decimal:
    return sum((inputs.table.cells[s][j].cost for s, j in enumerate(picked)), Decimal(0)) * inputs.factor
